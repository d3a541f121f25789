// The client's picture of the cluster, built from Metadata responses: brokers, controller, and per
// topic its partitions with leader, leader epoch, replicas and ISR. Immutable snapshots: a refresh
// produces a new one (merging topics it did not ask about from the previous snapshot).
import type { MetadataResponse } from '../protocol/generated/metadata-response.ts';

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionInfo {
  partition: number;
  /** -1 while there is no leader. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offline: number[];
  errorCode: number;
}

export interface TopicInfo {
  name: string;
  /** The topic id (KIP-516) or the null UUID when the broker does not report one. */
  id: string;
  internal: boolean;
  errorCode: number;
  /** Sorted by partition index. */
  partitions: PartitionInfo[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: ReadonlyMap<number, BrokerInfo>;
  topics: ReadonlyMap<string, TopicInfo>;
  /** Date.now() of the refresh that produced this snapshot (0 for the empty one). */
  refreshedAt: number;
}

export const EMPTY_METADATA: ClusterMetadata = {
  clusterId: null,
  controllerId: -1,
  brokers: new Map(),
  topics: new Map(),
  refreshedAt: 0,
};

/**
 * The snapshot after a Metadata response. `askedAll` says the request listed every topic, so a
 * topic absent from the answer no longer exists; otherwise only the answered topics change.
 */
export function applyMetadata(prev: ClusterMetadata, res: MetadataResponse, askedAll: boolean, now: number): ClusterMetadata {
  const brokers = new Map<number, BrokerInfo>();
  for (const b of res.brokers) brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
  const topics = askedAll ? new Map<string, TopicInfo>() : new Map(prev.topics);
  for (const t of res.topics) {
    if (t.name === null) continue;
    const partitions = t.partitions
      .map((p): PartitionInfo => ({
        partition: p.partitionIndex,
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicaNodes,
        isr: p.isrNodes,
        offline: p.offlineReplicas,
        errorCode: p.errorCode,
      }))
      .sort((a, b) => a.partition - b.partition);
    if (t.errorCode !== 0 && partitions.length === 0) {
      // Unknown or not yet ready: forget what we knew, keep the error for the caller.
      topics.set(t.name, { name: t.name, id: t.topicId, internal: t.isInternal, errorCode: t.errorCode, partitions: [] });
      continue;
    }
    topics.set(t.name, { name: t.name, id: t.topicId, internal: t.isInternal, errorCode: t.errorCode, partitions });
  }
  return { clusterId: res.clusterId, controllerId: res.controllerId, brokers, topics, refreshedAt: now };
}

/** Partitions of a topic that currently have a leader. */
export function availablePartitions(topic: TopicInfo): number[] {
  return topic.partitions.filter((p) => p.leader >= 0).map((p) => p.partition);
}
