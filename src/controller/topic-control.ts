// Topic creation and deletion (Kafka's ReplicationControlManager.createTopics / deleteTopics).
//
// CreateTopics answers, per topic (Kafka's codes):
//   INVALID_REQUEST (42)            the name appears more than once in the request (answered once);
//                                   assignments given together with numPartitions/replicationFactor;
//                                   a config key given twice
//   INVALID_TOPIC_EXCEPTION (17)    an illegal name, a reserved internal name (unless the broker
//                                   creates its own internal topic), or a name that collides with
//                                   another topic once '.' and '_' are read alike
//   TOPIC_ALREADY_EXISTS (36)
//   INVALID_PARTITIONS (37)         numPartitions 0 or below -1, or above the per-topic limit
//   INVALID_REPLICATION_FACTOR (38) 0 or below -1, or more than the usable brokers
//   INVALID_REPLICA_ASSIGNMENT (39) see partition-assignment.ts; indices not 0..n-1
//   INVALID_CONFIG (40)             unknown key, bad value, null value
// -1 for numPartitions / replicationFactor means num.partitions / default.replication.factor.
// Records of a created topic: TopicRecord, its ConfigRecords, then one PartitionRecord per partition.
//
// DeleteTopics writes one RemoveTopicRecord per topic; replay drops its partitions and configs.

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import { NULL_UUID } from '../protocol/reader.ts';
import { findCollision, validateNewTopicName, validateTopicName } from '../config/topic-name.ts';
import type { ApiErrorFields, ControlContext, ControllerResult } from './control-context.ts';
import type { DescribedConfig } from './config-schema.ts';
import { ConfigResourceType } from './image.ts';
import { randomUuid } from './ids.ts';
import { checkManualReplicas, newPartitionRecord, placePartitions } from './partition-assignment.ts';
import { metadataRecord, type MetadataRecord } from './record-codec.ts';

export interface CreatableTopic {
  name: string;
  /** -1: num.partitions. Must be -1 when `assignments` is given. */
  numPartitions: number;
  /** -1: default.replication.factor. Must be -1 when `assignments` is given. */
  replicationFactor: number;
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

export interface CreateTopicsOptions {
  validateOnly: boolean;
  /** Set by brokers creating their own internal topics (__consumer_offsets, __transaction_state). */
  internal?: boolean;
}

export interface CreateTopicResult extends ApiErrorFields {
  name: string;
  /** The new topic's id; the null UUID on error and for validateOnly. */
  topicId: string;
  /** -1 on error. */
  numPartitions: number;
  replicationFactor: number;
  /** The topic's effective configs (CreateTopics v5+); empty on error. */
  configs: DescribedConfig[];
}

export interface DeleteTopicResult extends ApiErrorFields {
  name: string | null;
  topicId: string;
}

/** Topics that can never be created through the admin API. */
const NEVER_CREATABLE = new Set(['__cluster_metadata']);

function failed(name: string, e: KafkaError): CreateTopicResult {
  return {
    name,
    topicId: NULL_UUID,
    errorCode: e.code,
    errorMessage: e.message,
    numPartitions: -1,
    replicationFactor: -1,
    configs: [],
  };
}

function checkName(ctx: ControlContext, name: string, internal: boolean, claimed: readonly string[]): void {
  const mayBeInternal = internal && !NEVER_CREATABLE.has(name);
  const problem = mayBeInternal ? validateTopicName(name) : validateNewTopicName(name);
  if (problem !== null) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
  if (ctx.image.topics.has(name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
  const other = findCollision(name, ctx.image.topics.keys()) ?? findCollision(name, claimed);
  if (other !== null) {
    throw new KafkaError(
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      `Topic '${name}' collides with existing topic '${other}' (a '.' and a '_' in the same place).`,
    );
  }
}

function configOverrides(topic: CreatableTopic): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of topic.configs) {
    if (out.has(c.name)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Config '${c.name}' is given more than once.`);
    if (c.value === null) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Null value not supported for topic config '${c.name}'.`);
    out.set(c.name, c.value);
  }
  return out;
}

/** Replica lists per partition, from the manual assignment or placed by the controller. */
function replicaLists(ctx: ControlContext, topic: CreatableTopic): number[][] {
  if (topic.assignments.length > 0) {
    if (topic.numPartitions !== -1 || topic.replicationFactor !== -1) {
      throw new KafkaError(
        ErrorCode.INVALID_REQUEST,
        'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
      );
    }
    if (topic.assignments.length > ctx.maxPartitionsPerTopic) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `At most ${ctx.maxPartitionsPerTopic} partitions per topic are supported.`);
    }
    const sorted = topic.assignments.slice().sort((a, b) => a.partitionIndex - b.partitionIndex);
    sorted.forEach((a, i) => {
      if (a.partitionIndex !== i) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          'Partitions should be a consecutive 0-based integer sequence.',
        );
      }
    });
    const rf = sorted[0].brokerIds.length;
    for (const a of sorted) checkManualReplicas(ctx.image, a.partitionIndex, a.brokerIds, rf);
    return sorted.map((a) => a.brokerIds.slice());
  }
  const defaults = ctx.schema.topicDefaults(ctx.image, ctx.nodeId);
  const numPartitions = topic.numPartitions === -1 ? defaults.numPartitions : topic.numPartitions;
  const rf = topic.replicationFactor === -1 ? defaults.replicationFactor : topic.replicationFactor;
  if (numPartitions <= 0) {
    throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.');
  }
  if (numPartitions > ctx.maxPartitionsPerTopic) {
    throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `At most ${ctx.maxPartitionsPerTopic} partitions per topic are supported.`);
  }
  if (rf <= 0) {
    throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.');
  }
  return placePartitions(ctx, numPartitions, rf);
}

function createOne(
  ctx: ControlContext,
  topic: CreatableTopic,
  opts: CreateTopicsOptions,
  claimed: readonly string[],
): { records: MetadataRecord[]; result: CreateTopicResult } {
  checkName(ctx, topic.name, opts.internal === true, claimed);
  const overrides = configOverrides(topic);
  const replicas = replicaLists(ctx, topic);
  const config = ctx.schema.topicConfig(ctx.image, ctx.nodeId, overrides);
  const topicId = randomUuid(ctx.random);
  const records: MetadataRecord[] = [metadataRecord(T.TopicRecord, { name: topic.name, topicId })];
  for (const [name, value] of overrides) {
    records.push(
      metadataRecord(T.ConfigRecord, { resourceType: ConfigResourceType.TOPIC, resourceName: topic.name, name, value }),
    );
  }
  replicas.forEach((r, i) => records.push(newPartitionRecord(ctx.image, topicId, i, r)));
  return {
    records,
    result: {
      name: topic.name,
      topicId: opts.validateOnly ? NULL_UUID : topicId,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      numPartitions: replicas.length,
      replicationFactor: replicas[0].length,
      configs: ctx.schema.describeTopic(config),
    },
  };
}

function tally(list: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of list) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** One result per distinct name, in request order. */
export function createTopics(
  ctx: ControlContext,
  topics: readonly CreatableTopic[],
  opts: CreateTopicsOptions,
): ControllerResult<CreateTopicResult[]> {
  const counts = tally(topics.map((t) => t.name));
  const records: MetadataRecord[] = [];
  const results: CreateTopicResult[] = [];
  const claimed: string[] = [];
  const answered = new Set<string>();
  for (const topic of topics) {
    if (answered.has(topic.name)) continue;
    answered.add(topic.name);
    if (counts.get(topic.name)! > 1) {
      results.push(failed(topic.name, new KafkaError(ErrorCode.INVALID_REQUEST, 'Found multiple entries for this topic.')));
      continue;
    }
    try {
      const one = createOne(ctx, topic, opts, claimed);
      results.push(one.result);
      claimed.push(topic.name);
      if (!opts.validateOnly) records.push(...one.records);
    } catch (e) {
      if (!(e instanceof KafkaError)) throw e;
      results.push(failed(topic.name, e));
    }
  }
  return { records, response: results };
}

/** Deletes topics named by name or by id; one result per entry (duplicates answered INVALID_REQUEST). */
export function deleteTopics(
  ctx: ControlContext,
  names: readonly string[],
  ids: readonly string[],
): ControllerResult<DeleteTopicResult[]> {
  const records: MetadataRecord[] = [];
  const results: DeleteTopicResult[] = [];
  const removed = new Set<string>();
  const nameCounts = tally(names);
  const idCounts = tally(ids);
  const remove = (id: string) => {
    if (removed.has(id)) return;
    removed.add(id);
    records.push(metadataRecord(T.RemoveTopicRecord, { topicId: id }));
  };
  for (const name of names) {
    const topic = ctx.image.topics.get(name);
    if (nameCounts.get(name)! > 1) {
      results.push({ name, topicId: NULL_UUID, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
    } else if (topic === undefined) {
      results.push({
        name,
        topicId: NULL_UUID,
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `Topic '${name}' does not exist.`,
      });
    } else {
      remove(topic.id);
      results.push({ name, topicId: topic.id, errorCode: ErrorCode.NONE, errorMessage: null });
    }
  }
  for (const id of ids) {
    const topic = ctx.image.topicsById.get(id);
    if (idCounts.get(id)! > 1) {
      results.push({ name: null, topicId: id, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic id.' });
    } else if (topic === undefined) {
      results.push({ name: null, topicId: id, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: `Topic id ${id} does not exist.` });
    } else {
      remove(topic.id);
      results.push({ name: topic.name, topicId: id, errorCode: ErrorCode.NONE, errorMessage: null });
    }
  }
  return { records, response: results };
}
