// DeleteRecords (key 21), versions 0–2 (KIP-107): moves a partition's log start offset forward.
// An offset of -1 means the high watermark; any other negative offset, or one above the high
// watermark, is OFFSET_OUT_OF_RANGE. An offset at or below the current log start leaves it as is.
// The answer's low_watermark is the log start offset afterwards (-1 with an error). Topics whose
// cleanup.policy does not include "delete" refuse with POLICY_VIOLATION, as Kafka does.
// Not implemented: waiting for followers' log start offsets (timeout_ms is accepted and unused:
// this node holds the only replica it answers for).
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import {
  createDeleteRecordsResponse, createDeleteRecordsTopicResult, createDeleteRecordsPartitionResult,
  type DeleteRecordsPartitionResult,
} from '../../protocol/generated/delete-records-response.ts';
import { OffsetOutOfRangeError } from '../../storage/errors.ts';
import type { Broker } from '../broker.ts';

const HIGH_WATERMARK = -1n;

async function deleteBefore(broker: Broker, topic: string, partition: number, requested: bigint): Promise<DeleteRecordsPartitionResult> {
  const fail = (errorCode: number) => createDeleteRecordsPartitionResult({ partitionIndex: partition, lowWatermark: -1n, errorCode });
  const { errorCode, log, topic: t } = broker.leaderLog(topic, partition);
  if (log === null || t === null) return fail(errorCode);
  if (broker.topicSettings(t).logConfig.cleanupPolicy === 'compact') return fail(ErrorCode.POLICY_VIOLATION);
  const hw = log.highWatermark;
  const offset = requested === HIGH_WATERMARK ? hw : Number(requested);
  if (offset < 0 || offset > hw) return fail(ErrorCode.OFFSET_OUT_OF_RANGE);
  let lowWatermark: number;
  try {
    lowWatermark = await log.deleteRecordsBefore(offset);
  } catch (e) {
    // The high watermark cannot move back, so only a storage failure is expected here.
    if (e instanceof OffsetOutOfRangeError) return fail(ErrorCode.OFFSET_OUT_OF_RANGE);
    broker.log(`delete records on ${topic}-${partition} failed: ${(e as Error).message}`);
    return fail(ErrorCode.KAFKA_STORAGE_ERROR);
  }
  return createDeleteRecordsPartitionResult({ partitionIndex: partition, lowWatermark: BigInt(lowWatermark), errorCode: 0 });
}

export default defineHandler(21, 0, 2, async (req, ctx) => {
  const topics = await Promise.all(req.topics.map(async (t) => createDeleteRecordsTopicResult({
    name: t.name,
    partitions: await Promise.all(t.partitions.map((p) => deleteBefore(ctx.broker, t.name, p.partitionIndex, p.offset))),
  })));
  return createDeleteRecordsResponse({ topics });
});
