// Brokers and features (Kafka's ClusterControlManager and FeatureControlManager).
//
// Registration (KIP-631): a broker registers with its incarnation id (new per process start),
// listeners, rack and supported feature ranges, and gets a broker epoch that grows with every
// registration; Brook uses the offset the RegisterBrokerRecord is expected to take, as Kafka does.
// A registered broker starts fenced unless the caller registers it unfenced (the single-node
// broker, which lives in the controller's process and is caught up by construction).
//
// Fencing removes the broker from every ISR it is in and moves leadership it held to the first
// other in-sync, usable replica in assignment order; when it was the last ISR member the ISR keeps
// it and the partition has no leader (no unclean election, KIP-966's rule before ELR). Unfencing
// gives leaderless partitions whose ISR holds the broker their leader back. Fence and unfence are
// written as BrokerRegistrationChangeRecord, as Kafka does from metadata.version 3.3-IV3.

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import { createPartitionChangeRecord } from '../protocol/generated/metadata/partition-change-record.ts';
import { createRegisterBrokerRecord } from '../protocol/generated/metadata/register-broker-record.ts';
import { createBrokerRegistrationChangeRecord } from '../protocol/generated/metadata/broker-registration-change-record.ts';
import type { ControlContext, ControllerResult } from './control-context.ts';
import { NO_LEADER, type BrokerEndpoint, type BrokerFeatureRange, type MetadataImage } from './image.ts';
import { metadataRecord, type MetadataRecord } from './record-codec.ts';

/** metadata.version of Kafka 3.9 (3.9-IV0), the record versions Brook writes. */
export const METADATA_VERSION_3_9_IV0 = 21;

export interface BrokerRegistration {
  brokerId: number;
  incarnationId: string;
  listeners: BrokerEndpoint[];
  rack: string | null;
  features?: BrokerFeatureRange[];
  logDirs?: string[];
  /** Defaults to true: the broker is unfenced once it has caught up (BrokerHeartbeat). */
  fenced?: boolean;
}

/** The records that start a new cluster's metadata log (Kafka's BootstrapMetadata). */
export function bootstrapRecords(metadataVersion: number = METADATA_VERSION_3_9_IV0): MetadataRecord[] {
  return [metadataRecord(T.FeatureLevelRecord, { name: 'metadata.version', featureLevel: metadataVersion })];
}

export function registerBroker(ctx: ControlContext, reg: BrokerRegistration): ControllerResult<{ brokerEpoch: bigint }> {
  const image = ctx.image;
  if (!Number.isInteger(reg.brokerId) || reg.brokerId < 0) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Invalid broker id ${reg.brokerId}.`);
  }
  for (const [name, level] of image.features) {
    const range = reg.features?.find((f) => f.name === name);
    if (range !== undefined && (level < range.minSupportedVersion || level > range.maxSupportedVersion)) {
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `Broker ${reg.brokerId} supports ${name} ${range.minSupportedVersion}-${range.maxSupportedVersion}, but the cluster is at ${level}.`,
      );
    }
  }
  const previous = image.brokers.get(reg.brokerId);
  let epoch = BigInt(image.metadataOffset + 1);
  if (previous !== undefined && epoch <= previous.epoch) epoch = previous.epoch + 1n;
  const record = createRegisterBrokerRecord({
    brokerId: reg.brokerId,
    incarnationId: reg.incarnationId,
    brokerEpoch: epoch,
    endPoints: reg.listeners.map((l) => ({ ...l })),
    features: (reg.features ?? []).map((f) => ({ ...f })),
    rack: reg.rack,
    fenced: reg.fenced ?? true,
    inControlledShutdown: false,
    logDirs: reg.logDirs?.slice() ?? [],
  });
  return { records: [metadataRecord(T.RegisterBrokerRecord, record)], response: { brokerEpoch: epoch } };
}

function requireBroker(image: MetadataImage, id: number) {
  const b = image.brokers.get(id);
  if (b === undefined) throw new KafkaError(ErrorCode.BROKER_ID_NOT_REGISTERED, `Broker ${id} is not registered.`);
  return b;
}

function registrationChange(brokerId: number, brokerEpoch: bigint, fenced: 1 | -1): MetadataRecord {
  return metadataRecord(
    T.BrokerRegistrationChangeRecord,
    createBrokerRegistrationChangeRecord({ brokerId, brokerEpoch, fenced, inControlledShutdown: 0 }),
  );
}

export function fenceBroker(ctx: ControlContext, brokerId: number): ControllerResult<void> {
  const image = ctx.image;
  const broker = requireBroker(image, brokerId);
  if (broker.fenced) return { records: [], response: undefined };
  const usable = (id: number) => {
    const b = image.brokers.get(id);
    return id !== brokerId && b !== undefined && !b.fenced && !b.inControlledShutdown;
  };
  const records = [registrationChange(brokerId, broker.epoch, 1)];
  for (const topic of image.topicsById.values()) {
    for (const p of topic.partitions.values()) {
      if (!p.isr.includes(brokerId) && p.leader !== brokerId) continue;
      const shrunk = p.isr.filter((id) => id !== brokerId);
      const isr = shrunk.length > 0 ? shrunk : p.isr.slice();
      let leader = p.leader;
      if (leader === brokerId) leader = p.replicas.find((id) => isr.includes(id) && usable(id)) ?? NO_LEADER;
      const isrChanged = isr.length !== p.isr.length;
      if (!isrChanged && leader === p.leader) continue;
      records.push(
        metadataRecord(
          T.PartitionChangeRecord,
          createPartitionChangeRecord({
            partitionId: p.partition,
            topicId: p.topicId,
            isr: isrChanged ? isr : null,
            leader: leader === p.leader ? -2 : leader,
          }),
        ),
      );
    }
  }
  return { records, response: undefined };
}

export function unfenceBroker(ctx: ControlContext, brokerId: number): ControllerResult<void> {
  const image = ctx.image;
  const broker = requireBroker(image, brokerId);
  if (!broker.fenced) return { records: [], response: undefined };
  const records = [registrationChange(brokerId, broker.epoch, -1)];
  for (const topic of image.topicsById.values()) {
    for (const p of topic.partitions.values()) {
      if (p.leader !== NO_LEADER || !p.isr.includes(brokerId)) continue;
      records.push(
        metadataRecord(T.PartitionChangeRecord, createPartitionChangeRecord({ partitionId: p.partition, topicId: p.topicId, leader: brokerId })),
      );
    }
  }
  return { records, response: undefined };
}
