// DescribeTopicPartitions (key 75), version 0 (KIP-966): topic metadata paged by partition count.
// Topics are answered in name order; an empty topic list means every topic. At most
// min(response_partition_limit, 2000) partitions are returned (2000 is Kafka's
// max.request.partition.size.limit default); next_cursor names the first partition left out, or
// the next topic at partition 0 when the limit ran out exactly at a topic boundary. A cursor
// topic missing from an explicit list is INVALID_REQUEST. Requested topics that do not exist
// come back with UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for an illegal name).
// Not implemented: authorization (every topic operation is reported allowed); eligible leader
// replicas are whatever the image holds (empty unless ELR is in use).
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { NULL_UUID } from '../../protocol/reader.ts';
import { isInternalTopic, validateTopicName } from '../../config/topic-name.ts';
import {
  createDescribeTopicPartitionsResponse, createDescribeTopicPartitionsResponsePartition, createDescribeTopicPartitionsResponseTopic,
  type DescribeTopicPartitionsResponse, type DescribeTopicPartitionsResponsePartition,
} from '../../protocol/generated/describe-topic-partitions-response.ts';
import type { MetadataImage, PartitionImage, TopicImage } from '../../controller/image.ts';

/** Kafka's max.request.partition.size.limit default. */
export const MAX_PARTITIONS_PER_RESPONSE = 2000;
// AclOperation codes Kafka supports on a TOPIC: READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE,
// DESCRIBE_CONFIGS, ALTER_CONFIGS.
const TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((bits, op) => bits | (1 << op), 0);

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function offlineReplicas(image: MetadataImage, p: PartitionImage): number[] {
  return p.replicas.filter((id) => {
    const b = image.brokers.get(id);
    return b === undefined || b.fenced;
  });
}

function describePartition(image: MetadataImage, p: PartitionImage): DescribeTopicPartitionsResponsePartition {
  const leader = image.brokers.get(p.leader);
  return createDescribeTopicPartitionsResponsePartition({
    partitionIndex: p.partition,
    leaderId: leader === undefined || leader.fenced ? -1 : p.leader,
    leaderEpoch: p.leaderEpoch,
    replicaNodes: [...p.replicas],
    isrNodes: [...p.isr],
    eligibleLeaderReplicas: [...p.elr],
    lastKnownElr: [...p.lastKnownElr],
    offlineReplicas: offlineReplicas(image, p),
  });
}

/** Pages through `names` (sorted) as Kafka's KRaftMetadataCache does. */
export function describeTopicPartitions(
  image: MetadataImage,
  names: readonly string[],
  listed: boolean,
  cursor: { topicName: string; partitionIndex: number } | null,
  limit: number,
): DescribeTopicPartitionsResponse {
  const res = createDescribeTopicPartitionsResponse({ nextCursor: null });
  let remaining = Math.min(MAX_PARTITIONS_PER_RESPONSE, limit);
  for (const name of names) {
    if (remaining <= 0) {
      if (remaining === 0) res.nextCursor = { topicName: name, partitionIndex: 0 };
      break;
    }
    const t: TopicImage | undefined = image.topics.get(name);
    if (t === undefined) {
      if (listed) {
        res.topics.push(createDescribeTopicPartitionsResponseTopic({
          errorCode: validateTopicName(name) === null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION,
          name,
          topicId: NULL_UUID,
          isInternal: isInternalTopic(name),
        }));
      }
      continue;
    }
    const start = cursor !== null && cursor.topicName === name ? Math.max(0, cursor.partitionIndex) : 0;
    const end = Math.min(t.partitions.size, start + remaining);
    const partitions: DescribeTopicPartitionsResponsePartition[] = [];
    for (let i = start; i < end; i++) {
      const p = t.partitions.get(i);
      if (p !== undefined) partitions.push(describePartition(image, p));
    }
    res.topics.push(createDescribeTopicPartitionsResponseTopic({
      name,
      topicId: t.id,
      isInternal: isInternalTopic(name),
      partitions,
      topicAuthorizedOperations: TOPIC_OPERATIONS,
    }));
    if (end < t.partitions.size) {
      res.nextCursor = { topicName: name, partitionIndex: end };
      break;
    }
    remaining -= partitions.length;
  }
  return res;
}

export default defineHandler(75, 0, 0, (req, ctx) => {
  const image = ctx.broker.image;
  const listed = req.topics.length > 0;
  const cursor = req.cursor;
  const from = cursor?.topicName ?? '';
  const candidates = listed ? req.topics.map((t) => t.name) : [...image.topics.keys()];
  const names = [...new Set(candidates)].filter((n) => n >= from).sort(byName);
  if (listed && cursor !== null && !names.includes(cursor.topicName)) {
    // Kafka's error response for the whole request: every listed topic carries the code.
    return createDescribeTopicPartitionsResponse({
      topics: req.topics.map((t) => createDescribeTopicPartitionsResponseTopic({ errorCode: ErrorCode.INVALID_REQUEST, name: t.name })),
      nextCursor: null,
    });
  }
  return describeTopicPartitions(image, names, listed, cursor, req.responsePartitionLimit);
});
