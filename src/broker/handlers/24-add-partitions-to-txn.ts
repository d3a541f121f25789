// AddPartitionsToTxn (key 24), versions 0–3 (the client versions; v4+ are KIP-890's broker-to-
// coordinator verification, not advertised). Partitions of unknown topics get
// UNKNOWN_TOPIC_OR_PARTITION, internal topics INVALID_TOPIC_EXCEPTION (offsets join through
// AddOffsetsToTxn), and then the others OPERATION_NOT_ATTEMPTED, as in Kafka; otherwise one code
// from the coordinator for all. v2+ understand PRODUCER_FENCED; v0–1 get INVALID_PRODUCER_EPOCH.
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { INTERNAL_TOPICS } from '../../config/topic-name.ts';

export default defineHandler(24, 0, 3, async (req, ctx) => {
  const image = ctx.broker.image;
  const bad = new Map<string, number>();
  const wanted: { topic: string; partition: number }[] = [];
  for (const t of req.v3AndBelowTopics) {
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
    code = await ctx.broker.txn.coordinator.addPartitions(req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, wanted);
    if (code === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) code = ErrorCode.INVALID_PRODUCER_EPOCH;
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    resultsByTransaction: [],
    resultsByTopicV3AndBelow: req.v3AndBelowTopics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: bad.get(`${t.name}\u0000${p}`) ?? code })),
    })),
  };
});
