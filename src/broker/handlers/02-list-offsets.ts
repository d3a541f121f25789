// ListOffsets (key 2), versions 0–9.
// Special timestamps: -1 latest (high watermark, or the last stable offset for read_committed),
// -2 earliest (log start offset), -3 max timestamp (v7+, KIP-734), -4 earliest local (v8+), -5
// earliest tiered (v9; no tiered storage, so the log start offset). Any other timestamp: the first
// offset whose timestamp is ≥ it, or -1 when there is none. v0 answers in `oldStyleOffsets`.
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import {
  createListOffsetsResponse, createListOffsetsTopicResponse, createListOffsetsPartitionResponse,
  type ListOffsetsPartitionResponse,
} from '../../protocol/generated/list-offsets-response.ts';
import type { Broker } from '../broker.ts';

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL = -4n;
const EARLIEST_TIERED = -5n;

async function lookup(broker: Broker, topic: string, partition: number, timestamp: bigint, version: number, isolation: number): Promise<ListOffsetsPartitionResponse> {
  const res = createListOffsetsPartitionResponse({ partitionIndex: partition, timestamp: -1n, offset: -1n, leaderEpoch: -1 });
  const { errorCode, log, leaderEpoch } = broker.leaderLog(topic, partition);
  if (log === null) {
    res.errorCode = errorCode;
    return res;
  }
  res.leaderEpoch = leaderEpoch;
  try {
    if (timestamp === LATEST) {
      res.offset = BigInt(isolation === 1 ? broker.txn.lastStableOffset(log) : log.highWatermark);
    } else if (timestamp === EARLIEST || timestamp === EARLIEST_LOCAL || timestamp === EARLIEST_TIERED) {
      res.offset = BigInt(log.logStartOffset);
    } else if (timestamp === MAX_TIMESTAMP) {
      const m = await log.maxTimestamp();
      res.offset = BigInt(m.offset);
      res.timestamp = BigInt(m.timestamp);
    } else if (timestamp < 0n) {
      res.errorCode = ErrorCode.INVALID_REQUEST;
    } else {
      const found = await log.offsetForTimestamp(Number(timestamp));
      if (found !== null) {
        res.offset = BigInt(found.offset);
        res.timestamp = BigInt(found.timestamp);
      }
    }
  } catch (e) {
    broker.log(`list offsets on ${topic}-${partition} failed: ${(e as Error).message}`);
    res.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
  }
  if (version === 0) res.oldStyleOffsets = res.offset >= 0n ? [res.offset] : [];
  return res;
}

export default defineHandler(2, 0, 9, async (req, ctx) => {
  // A partition asked for twice is INVALID_REQUEST for every copy (Kafka, v1+).
  const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  const seen = new Map<string, number>();
  for (const t of req.topics) for (const p of t.partitions) seen.set(key(t.name, p.partitionIndex), (seen.get(key(t.name, p.partitionIndex)) ?? 0) + 1);
  const duplicate = (topic: string, partition: number) => ctx.apiVersion >= 1 && seen.get(key(topic, partition))! > 1;
  const topics = await Promise.all(req.topics.map(async (t) => createListOffsetsTopicResponse({
    name: t.name,
    partitions: await Promise.all(t.partitions.map((p) => duplicate(t.name, p.partitionIndex)
      ? createListOffsetsPartitionResponse({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.INVALID_REQUEST, timestamp: -1n, offset: -1n, leaderEpoch: -1 })
      : lookup(ctx.broker, t.name, p.partitionIndex, p.timestamp, ctx.apiVersion, ctx.apiVersion >= 2 ? req.isolationLevel : 0))),
  })));
  return createListOffsetsResponse({ topics });
});
