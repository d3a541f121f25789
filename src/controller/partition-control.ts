// CreatePartitions (Kafka's ReplicationControlManager.createPartitions): adds partitions to existing
// topics. Partitions can only be added, never removed (INVALID_PARTITIONS when the count does not
// grow). New partitions get the replication factor of the topic's partition 0, placed by the
// controller or taken from `assignments` (one replica list per new partition).
//
// Errors per topic: INVALID_REQUEST (42) duplicate topic; UNKNOWN_TOPIC_OR_PARTITION (3);
// INVALID_PARTITIONS (37); INVALID_REPLICA_ASSIGNMENT (39); INVALID_REPLICATION_FACTOR (38) when
// there are fewer usable brokers than the replication factor.

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import type { ApiErrorFields, ControlContext, ControllerResult } from './control-context.ts';
import { checkManualReplicas, newPartitionRecord, placePartitions } from './partition-assignment.ts';
import type { MetadataRecord } from './record-codec.ts';

export interface CreatePartitionsTopic {
  name: string;
  /** The new total number of partitions. */
  count: number;
  /** Replica lists of the new partitions only, or null to let the controller place them. */
  assignments: number[][] | null;
}

export interface CreatePartitionsResult extends ApiErrorFields {
  name: string;
}

function addPartitions(ctx: ControlContext, req: CreatePartitionsTopic): MetadataRecord[] {
  const topic = ctx.image.topics.get(req.name);
  if (topic === undefined) {
    throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${req.name}' does not exist.`);
  }
  const current = topic.partitions.size;
  if (req.count < current) {
    throw new KafkaError(
      ErrorCode.INVALID_PARTITIONS,
      `Topic currently has ${current} partitions, which is higher than the requested ${req.count}.`,
    );
  }
  if (req.count === current) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
  if (req.count > ctx.maxPartitionsPerTopic) {
    throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `At most ${ctx.maxPartitionsPerTopic} partitions per topic are supported.`);
  }
  const added = req.count - current;
  const rf = topic.partitions.get(0)?.replicas.length ?? 1;
  let lists: number[][];
  if (req.assignments !== null) {
    if (req.assignments.length !== added) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Attempted to add ${added} additional partition(s), but only ${req.assignments.length} assignment(s) were specified.`,
      );
    }
    req.assignments.forEach((r, i) => checkManualReplicas(ctx.image, current + i, r, rf));
    lists = req.assignments.map((r) => r.slice());
  } else {
    lists = placePartitions(ctx, added, rf);
  }
  return lists.map((r, i) => newPartitionRecord(ctx.image, topic.id, current + i, r));
}

export function createPartitions(
  ctx: ControlContext,
  topics: readonly CreatePartitionsTopic[],
  validateOnly: boolean,
): ControllerResult<CreatePartitionsResult[]> {
  const counts = new Map<string, number>();
  for (const t of topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  const records: MetadataRecord[] = [];
  const results: CreatePartitionsResult[] = [];
  const answered = new Set<string>();
  for (const t of topics) {
    if (answered.has(t.name)) continue;
    answered.add(t.name);
    if (counts.get(t.name)! > 1) {
      results.push({ name: t.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
      continue;
    }
    try {
      const added = addPartitions(ctx, t);
      if (!validateOnly) records.push(...added);
      results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
    } catch (e) {
      if (!(e instanceof KafkaError)) throw e;
      results.push({ name: t.name, errorCode: e.code, errorMessage: e.message });
    }
  }
  return { records, response: results };
}
