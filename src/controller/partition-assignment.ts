// Replica assignments of new partitions, placed by the controller or given by the client
// (CreateTopics `assignments`, CreatePartitions `assignments`), turned into PartitionRecords.
//
// A new partition starts with leader epoch 0 and partition epoch 0; its ISR is the assigned
// replicas that are usable (unfenced, not shutting down), and its leader the first of them in
// assignment order (the preferred leader). Kafka refuses a manual assignment whose brokers are all
// unusable, and one naming a broker that is not registered.

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import { createPartitionRecord } from '../protocol/generated/metadata/partition-record.ts';
import type { ControlContext } from './control-context.ts';
import { usableBrokers, type MetadataImage } from './image.ts';
import { metadataRecord, type MetadataRecord } from './record-codec.ts';
import { placeReplicas } from './replica-placer.ts';

function invalidAssignment(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, message);
}

/**
 * Checks one manual replica list: non-empty, no duplicates, every broker registered, the same
 * length as the topic's other partitions (when `replicationFactor` is given), and at least one
 * usable broker.
 */
export function checkManualReplicas(
  image: MetadataImage,
  partition: number,
  replicas: readonly number[],
  replicationFactor: number | null,
): void {
  if (replicas.length === 0) throw invalidAssignment(`The manual partition assignment for partition ${partition} is empty.`);
  if (new Set(replicas).size !== replicas.length) {
    throw invalidAssignment(`The manual partition assignment for partition ${partition} contains a duplicate broker id.`);
  }
  if (replicationFactor !== null && replicas.length !== replicationFactor) {
    throw invalidAssignment(
      `The manual partition assignment for partition ${partition} has ${replicas.length} replica(s), ` +
        `but the other partitions have ${replicationFactor}.`,
    );
  }
  for (const id of replicas) {
    if (!image.brokers.has(id)) {
      throw invalidAssignment(`The manual partition assignment includes broker ${id}, but no such broker is registered.`);
    }
  }
  if (!replicas.some((id) => isUsable(image, id))) {
    throw invalidAssignment(
      `All brokers specified in the manual partition assignment for partition ${partition} are fenced or in controlled shutdown.`,
    );
  }
}

function isUsable(image: MetadataImage, id: number): boolean {
  const b = image.brokers.get(id);
  return b !== undefined && !b.fenced && !b.inControlledShutdown;
}

/** Replica lists for `count` partitions placed across the usable brokers. */
export function placePartitions(ctx: ControlContext, count: number, replicationFactor: number): number[][] {
  const brokers = usableBrokers(ctx.image).map((b) => ({ id: b.id, rack: b.rack }));
  return placeReplicas(brokers, count, replicationFactor, ctx.random);
}

export function newPartitionRecord(image: MetadataImage, topicId: string, partition: number, replicas: readonly number[]): MetadataRecord {
  const isr = replicas.filter((id) => isUsable(image, id));
  return metadataRecord(
    T.PartitionRecord,
    createPartitionRecord({
      partitionId: partition,
      topicId,
      replicas: replicas.slice(),
      isr,
      removingReplicas: [],
      addingReplicas: [],
      leader: isr.length > 0 ? isr[0] : -1,
      leaderRecoveryState: 0,
      leaderEpoch: 0,
      partitionEpoch: 0,
    }),
  );
}
