// The two passes of log compaction over batches, after Kafka's LogCleaner:
// 1. buildOffsetMap: key → offset of its latest record in the dirty section;
// 2. rewriteBatch: keep a record unless a later record has the same key; drop keyless records
//    (invalid on a compacted topic); drop a tombstone (null value) once its batch's delete horizon
//    has passed. KIP-534: the first time a batch holding a tombstone is rewritten it gets a delete
//    horizon (DELETE_HORIZON_FLAG, baseTimestamp = now + delete.retention.ms), so consumers have
//    delete.retention.ms to see the tombstone after it was cleaned.
// Rewritten batches keep their base offset, last offset delta (the offset range, KIP-98), producer
// fields, leader epoch, timestamp type and codec; a batch with nothing removed is copied unchanged.
// A segment's last batch is never dropped whole: it stays as an empty batch (no records, same offset
// range), so consecutive segments stay contiguous — recovery relies on that to tell lost data from
// compaction.
// Transactions (cleaner-txn.ts): records of aborted transactions are discarded in both passes —
// never the latest value of their key, never kept. A producer's last data batch is never dropped
// whole (Kafka's BatchRetention.RETAIN_EMPTY): it stays as an empty batch with the same header, so
// the producer's epoch and sequence survive a reload that replays the log. Markers (control
// batches) are judged by cleaner-txn.ts (CleanedMarkers).

import {
  ATTRIBUTES, DELETE_HORIZON_FLAG,
  attributesOf, baseOffsetOf, baseSequenceOf, baseTimestampOf, buildRecordBatch, compressionOf, decodeRecords, isControlBatch,
  isTransactionalBatch, lastOffsetDeltaOf, maxTimestampOf, partitionLeaderEpochOf, producerEpochOf, producerIdOf, recomputeCrc,
  timestampTypeOf, type CompressionType, type DecodedRecord,
} from '../protocol/record-batch.ts';
import { isAbortedBatch, type AbortedTxns } from './cleaner-txn.ts';

/** Latest offset per key, keys as latin1 strings (a lossless byte → char mapping). */
export type OffsetMap = Map<string, number>;

export function keyOf(key: Buffer): string {
  return key.toString('latin1');
}

/** Adds the keys of one batch to the map; returns false when the batch could not be decoded. */
export function addToOffsetMap(map: OffsetMap, batch: Buffer, aborted?: AbortedTxns): boolean {
  if (isControlBatch(batch) || (aborted !== undefined && isAbortedBatch(batch, aborted))) return true;
  let records: DecodedRecord[];
  try {
    records = decodeRecords(batch);
  } catch {
    return false;
  }
  for (const r of records) if (r.key !== null) map.set(keyOf(r.key), r.offset);
  return true;
}

export function hasDeleteHorizon(batch: Buffer): boolean {
  return (attributesOf(batch) & DELETE_HORIZON_FLAG) !== 0;
}

export interface RewriteContext {
  map: OffsetMap;
  now: number;
  deleteRetentionMs: number;
  /** Aborted transactions of the log (their records are dropped); none when absent. */
  aborted?: AbortedTxns;
  /** Producer id → last offset of its last data batch in the log: that batch is kept, empty if need be. */
  producerLast?: ReadonlyMap<bigint, number>;
}

export interface RewriteStats {
  recordsRemoved: number;
  batchesRemoved: number;
}

/**
 * The batch as it should stay in the log: the same buffer when unchanged, a rebuilt batch, or null
 * when no record survives.
 */
export function rewriteBatch(batch: Buffer, ctx: RewriteContext, stats: RewriteStats): Buffer | null {
  if (isControlBatch(batch)) return batch;
  const out = rewriteRecords(batch, ctx, stats);
  if (out !== null || !isProducerLast(batch, ctx)) return out;
  stats.batchesRemoved--;
  return emptyBatchLike(batch);
}

/** Whether `batch` is its producer's last data batch in the log (Kafka keeps it: RETAIN_EMPTY). */
function isProducerLast(batch: Buffer, ctx: RewriteContext): boolean {
  const pid = producerIdOf(batch);
  return pid >= 0n && ctx.producerLast?.get(pid) === baseOffsetOf(batch) + lastOffsetDeltaOf(batch);
}

function rewriteRecords(batch: Buffer, ctx: RewriteContext, stats: RewriteStats): Buffer | null {
  let records: DecodedRecord[];
  try {
    records = decodeRecords(batch);
  } catch {
    return batch; // cannot judge what we cannot decode: keep it
  }
  if (records.length === 0 || (ctx.aborted !== undefined && isAbortedBatch(batch, ctx.aborted))) {
    // An empty batch (kept earlier as a producer's last or a segment's end) goes once it is neither.
    stats.recordsRemoved += records.length;
    stats.batchesRemoved++;
    return null;
  }
  const horizon = hasDeleteHorizon(batch) ? baseTimestampOf(batch) : -1;
  const kept: DecodedRecord[] = [];
  let tombstones = 0;
  for (const r of records) {
    if (r.key === null) continue;
    const latest = ctx.map.get(keyOf(r.key));
    if (latest !== undefined && r.offset < latest) continue;
    if (r.value === null) {
      if (horizon >= 0 && horizon <= ctx.now) continue;
      tombstones++;
    }
    kept.push(r);
  }
  const needHorizon = tombstones > 0 && horizon < 0;
  if (kept.length === records.length && !needHorizon) return batch;
  stats.recordsRemoved += records.length - kept.length;
  if (kept.length === 0) {
    stats.batchesRemoved++;
    return null;
  }
  const base = baseOffsetOf(batch);
  const logAppendTime = timestampTypeOf(batch) === 1;
  const newHorizon = needHorizon ? ctx.now + ctx.deleteRetentionMs : horizon;
  const opts = {
    ...sameHeaderAs(batch),
    records: kept.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offset - base })),
    ...(newHorizon >= 0 ? { baseTimestamp: newHorizon } : {}),
    ...(logAppendTime ? { maxTimestamp: maxTimestampOf(batch) } : {}),
  };
  let out: Buffer;
  try {
    out = buildRecordBatch({ ...opts, compression: compressionOf(batch) as CompressionType });
  } catch {
    out = buildRecordBatch(opts); // codec unavailable for writing: store uncompressed
  }
  if (newHorizon >= 0) {
    out.writeInt16BE(out.readInt16BE(ATTRIBUTES) | DELETE_HORIZON_FLAG, ATTRIBUTES);
    recomputeCrc(out, 0);
  }
  return out;
}

/** A batch with no records covering the same offsets as `batch`, with its header (producer fields included). */
export function emptyBatchLike(batch: Buffer): Buffer {
  return buildRecordBatch({
    ...sameHeaderAs(batch),
    records: [],
    baseTimestamp: baseTimestampOf(batch),
    maxTimestamp: maxTimestampOf(batch),
  });
}

/**
 * The empty batch that keeps a cleaned segment ending where the next begins, in place of its dropped
 * last batch. In place of a transactional batch or a marker it names no producer: an empty
 * transactional batch would open a transaction when the log is replayed, holding its marker (or,
 * the marker gone, the last stable offset) for ever.
 */
export function placeholderFor(header: Buffer): Buffer {
  if (!isControlBatch(header) && !isTransactionalBatch(header)) return emptyBatchLike(header);
  return buildRecordBatch({
    ...sameHeaderAs(header),
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    transactional: false,
    records: [],
    baseTimestamp: baseTimestampOf(header),
    maxTimestamp: maxTimestampOf(header),
  });
}

/**
 * `batch` (a marker) with a delete horizon (KIP-534): DELETE_HORIZON_FLAG set and the base timestamp
 * moved to `horizon`; record timestamps, offsets and producer fields unchanged. Null when it cannot
 * be decoded (the caller keeps it as it is).
 */
export function withDeleteHorizon(batch: Buffer, horizon: number): Buffer | null {
  let records: DecodedRecord[];
  try {
    records = decodeRecords(batch);
  } catch {
    return null;
  }
  const base = baseOffsetOf(batch);
  const out = buildRecordBatch({
    ...sameHeaderAs(batch),
    control: isControlBatch(batch),
    records: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offset - base })),
    baseTimestamp: horizon,
    maxTimestamp: maxTimestampOf(batch),
  });
  out.writeInt16BE(out.readInt16BE(ATTRIBUTES) | DELETE_HORIZON_FLAG, ATTRIBUTES);
  recomputeCrc(out, 0);
  return out;
}

/** Builder options that keep `batch`'s offsets, producer fields, leader epoch and timestamp type. */
function sameHeaderAs(batch: Buffer) {
  return {
    baseOffset: baseOffsetOf(batch),
    producerId: producerIdOf(batch),
    producerEpoch: producerEpochOf(batch),
    baseSequence: baseSequenceOf(batch),
    transactional: isTransactionalBatch(batch),
    partitionLeaderEpoch: partitionLeaderEpochOf(batch),
    timestampType: timestampTypeOf(batch),
    lastOffsetDelta: lastOffsetDeltaOf(batch),
  };
}
