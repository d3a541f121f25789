// The metadata image: an immutable snapshot of the cluster metadata as of one offset of the metadata
// log, in the manner of Kafka's MetadataImage (TopicsImage, ClusterImage, ConfigurationsImage,
// ProducerIdsImage, FeaturesImage). Nothing here is ever mutated after it is published; the next
// image is built by MetadataDelta (metadata-delta.ts) from the previous one plus the records after it,
// and shares every part that did not change.
//
// The partition fields are those of Kafka's PartitionRegistration, which replication needs: the ISR
// and leader epoch (KIP-101: followers truncate by epoch), the partition epoch (bumped on every
// change, used to fence stale AlterPartition requests, KIP-497), adding/removing replicas of a
// reassignment (KIP-455), leader recovery state (KIP-704) and eligible leader replicas (KIP-966).

/** ConfigResource.Type ids as ConfigRecord and the admin APIs carry them. */
export const ConfigResourceType = {
  TOPIC: 2,
  BROKER: 4,
} as const;

/** No leader (every replica is offline or none may be elected). */
export const NO_LEADER = -1;

/** Kafka's LeaderRecoveryState: 0 recovered, 1 recovering after an unclean election (KIP-704). */
export const LeaderRecoveryState = { RECOVERED: 0, RECOVERING: 1 } as const;

export interface PartitionImage {
  readonly topicId: string;
  readonly partition: number;
  /** Assigned replicas, preferred leader first. */
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly removingReplicas: readonly number[];
  readonly addingReplicas: readonly number[];
  /** Broker id of the leader, or NO_LEADER. */
  readonly leader: number;
  /** Bumped each time the leader changes. */
  readonly leaderEpoch: number;
  /** Bumped on every change to the partition. */
  readonly partitionEpoch: number;
  readonly leaderRecoveryState: number;
  /** Eligible leader replicas (KIP-966); empty when not in use. */
  readonly elr: readonly number[];
  readonly lastKnownElr: readonly number[];
  /** Log directory id per replica (KIP-858); empty when not assigned. */
  readonly directories: readonly string[];
}

export interface TopicImage {
  readonly name: string;
  readonly id: string;
  /** Partition index → partition; indices are 0..size-1. */
  readonly partitions: ReadonlyMap<number, PartitionImage>;
}

export interface BrokerEndpoint {
  /** Listener name, e.g. PLAINTEXT. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** SecurityProtocol id: 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL. */
  readonly securityProtocol: number;
}

export interface BrokerFeatureRange {
  readonly name: string;
  readonly minSupportedVersion: number;
  readonly maxSupportedVersion: number;
}

export interface BrokerImage {
  readonly id: number;
  readonly incarnationId: string;
  /** Assigned by the controller at registration; grows with each registration of the broker. */
  readonly epoch: bigint;
  readonly endpoints: readonly BrokerEndpoint[];
  readonly rack: string | null;
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
  readonly features: readonly BrokerFeatureRange[];
  readonly logDirs: readonly string[];
}

/**
 * Key of a set of dynamic config overrides: `topic:<name>`, `broker:<id>`, or `broker:` for the
 * cluster-wide broker default (ConfigRecord with resourceType 4 and an empty name).
 */
export type ConfigResourceKey = `topic:${string}` | `broker:${string}`;

export interface MetadataImage {
  readonly clusterId: string;
  /** Offset of the last record applied; -1 for the empty image. */
  readonly metadataOffset: number;
  readonly topics: ReadonlyMap<string, TopicImage>;
  readonly topicsById: ReadonlyMap<string, TopicImage>;
  readonly brokers: ReadonlyMap<number, BrokerImage>;
  /** Dynamic config overrides only; static and default values are not in the log. */
  readonly configs: ReadonlyMap<ConfigResourceKey, ReadonlyMap<string, string>>;
  /** Finalized feature levels, e.g. metadata.version → 21. */
  readonly features: ReadonlyMap<string, number>;
  /** First producer id of the next block handed out (ProducerIdsRecord.nextProducerId). */
  readonly nextProducerId: bigint;
}

const EMPTY_MAP: ReadonlyMap<never, never> = new Map<never, never>();

export function emptyImage(clusterId: string): MetadataImage {
  return Object.freeze({
    clusterId,
    metadataOffset: -1,
    topics: EMPTY_MAP,
    topicsById: EMPTY_MAP,
    brokers: EMPTY_MAP,
    configs: EMPTY_MAP,
    features: EMPTY_MAP,
    nextProducerId: 0n,
  });
}

/** The config key for a ConfigRecord resource, or null for a type the image does not keep. */
export function configKey(resourceType: number, resourceName: string): ConfigResourceKey | null {
  if (resourceType === ConfigResourceType.TOPIC) return `topic:${resourceName}`;
  if (resourceType === ConfigResourceType.BROKER) return `broker:${resourceName}`;
  return null;
}

export function parseConfigKey(key: ConfigResourceKey): { resourceType: number; resourceName: string } {
  const i = key.indexOf(':');
  const kind = key.slice(0, i);
  return {
    resourceType: kind === 'topic' ? ConfigResourceType.TOPIC : ConfigResourceType.BROKER,
    resourceName: key.slice(i + 1),
  };
}

/** Dynamic overrides of one resource (empty when none). */
export function configsOf(image: MetadataImage, key: ConfigResourceKey): ReadonlyMap<string, string> {
  return image.configs.get(key) ?? EMPTY_MAP;
}

/** Brokers that may host new replicas and lead: registered, unfenced, not shutting down. */
export function usableBrokers(image: MetadataImage): BrokerImage[] {
  const out: BrokerImage[] = [];
  for (const b of image.brokers.values()) if (!b.fenced && !b.inControlledShutdown) out.push(b);
  return out.sort((a, b) => a.id - b.id);
}

/** Partitions of a topic in index order. */
export function partitionsOf(topic: TopicImage): PartitionImage[] {
  return [...topic.partitions.values()].sort((a, b) => a.partition - b.partition);
}

export function metadataVersion(image: MetadataImage): number {
  return image.features.get('metadata.version') ?? 0;
}
