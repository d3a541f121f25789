// AddPartitionsToTxn (key 24), versions 0–5. v0–3 are the client's: partitions of unknown topics get
// UNKNOWN_TOPIC_OR_PARTITION, internal topics INVALID_TOPIC_EXCEPTION (offsets join through
// AddOffsetsToTxn), and then the others OPERATION_NOT_ATTEMPTED, as in Kafka; otherwise one code
// from the coordinator for all. v2+ understand PRODUCER_FENCED; v0–1 get INVALID_PRODUCER_EPOCH.
// v4+ (KIP-890 part 1) are inter-broker and batched by transactional id: with verifyOnly a
// partition leader asks whether each partition is already in the producer's ongoing transaction
// (answered per partition, nothing written; internal topics allowed, TxnOffsetCommit verifies its
// __consumer_offsets partition); without it the partitions are added, as in v3.
// Not yet: CLUSTER_ACTION authorization of v4+ (there are no ACLs on this path).
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { INTERNAL_TOPICS } from '../../config/topic-name.ts';
import type { MetadataImage } from '../../controller/image.ts';
import type { TransactionCoordinator } from '../../txn/coordinator.ts';
import type { AddPartitionsToTxnTopic } from '../../protocol/generated/add-partitions-to-txn-request.ts';
import type { AddPartitionsToTxnTopicResult } from '../../protocol/generated/add-partitions-to-txn-response.ts';

/** Adds the partitions (v0–3, and v4+ without verifyOnly). */
async function add(
  image: MetadataImage, coordinator: TransactionCoordinator, version: number,
  transactionalId: string, producerId: bigint, epoch: number, topics: AddPartitionsToTxnTopic[],
): Promise<AddPartitionsToTxnTopicResult[]> {
  const bad = new Map<string, number>();
  const wanted: { topic: string; partition: number }[] = [];
  for (const t of topics) {
    const topic = image.topics.get(t.name);
    for (const p of t.partitions) {
      const key = `${t.name}\u0000${p}`;
      if (INTERNAL_TOPICS.has(t.name)) bad.set(key, ErrorCode.INVALID_TOPIC_EXCEPTION);
      else if (topic === undefined || !topic.partitions.has(p)) bad.set(key, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      else wanted.push({ topic: t.name, partition: p });
    }
  }
  let code: number = ErrorCode.OPERATION_NOT_ATTEMPTED;
  if (bad.size === 0) {
    code = await coordinator.addPartitions(transactionalId, producerId, epoch, wanted);
    if (code === ErrorCode.PRODUCER_FENCED && version < 2) code = ErrorCode.INVALID_PRODUCER_EPOCH;
  }
  return topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: bad.get(`${t.name}\u0000${p}`) ?? code })),
  }));
}

async function verify(coordinator: TransactionCoordinator, transactionalId: string, producerId: bigint, epoch: number, topics: AddPartitionsToTxnTopic[]): Promise<AddPartitionsToTxnTopicResult[]> {
  const flat = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
  const codes = await coordinator.verifyPartitions(transactionalId, producerId, epoch, flat);
  let i = 0;
  return topics.map((t) => ({ name: t.name, resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: codes[i++] })) }));
}

export default defineHandler(24, 0, 5, async (req, ctx) => {
  const { image, txn } = ctx.broker;
  const version = ctx.apiVersion;
  if (version <= 3) {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      resultsByTransaction: [],
      resultsByTopicV3AndBelow: await add(image, txn.coordinator, version, req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, req.v3AndBelowTopics),
    };
  }
  const resultsByTransaction = await Promise.all(req.transactions.map(async (t) => ({
    transactionalId: t.transactionalId,
    topicResults: t.verifyOnly
      ? await verify(txn.coordinator, t.transactionalId, t.producerId, t.producerEpoch, t.topics)
      : await add(image, txn.coordinator, version, t.transactionalId, t.producerId, t.producerEpoch, t.topics),
  })));
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction, resultsByTopicV3AndBelow: [] };
});
