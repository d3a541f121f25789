// Read side of a partition log: locate the segment by base offset, the byte position through the
// sparse index, then one positional read into one buffer, cut on batch boundaries. Batches are
// returned as stored (no decoding); a caller asking for `offset` may get a batch starting before it,
// as Kafka does, and the consumer skips the records it did not ask for.

import { BATCH_HEADER_SIZE, decodeRecords, timestampTypeOf } from '../protocol/record-batch.ts';
import { baseOffsetAt as baseOffsetOf, lastOffsetAt as lastOffsetOf, maxTimestampAt as maxTimestampOf, sizeAt as batchSizeAt } from './batch-header.ts';
import { scanBatches } from './batch-scan.ts';
import type { FileHandle, FileSystem } from './fs.ts';
import type { LogConfig } from './log-config.ts';
import type { LogSegment } from './segment.ts';

export interface SegmentedLog {
  readonly fs: FileSystem;
  readonly segments: LogSegment[];
  readonly config: LogConfig;
}

export const EMPTY = Buffer.alloc(0);

/** The segment's open file; EBADF when it was closed (deleted by retention or replaced by compaction). */
function handleOf(seg: LogSegment): FileHandle {
  if (seg.handle === null) throw Object.assign(new Error(`segment ${seg.baseOffset} was closed`), { code: 'EBADF' });
  return seg.handle;
}

/** Index of the last segment whose base offset <= offset (0 when none). */
export function segmentIndexFor(segments: readonly LogSegment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let ans = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid].baseOffset <= offset) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/**
 * Whole batches from the one holding `offset`, at most `maxBytes` (but the first batch whole when
 * `minOneBatch`), only batches whose last offset < `limitOffset`. Reads one segment at a time, as
 * Kafka does; moves on only when the segment has nothing at or after `offset`.
 */
/**
 * Where a read puts its bytes: a caller-owned buffer reused across reads, or an allocator called
 * with the exact length of each read (a pool; the caller then owns every buffer it handed out).
 */
export type ReadTarget = Buffer | ((length: number) => Buffer);

export async function readBatches(log: SegmentedLog, offset: number, maxBytes: number, limitOffset: number, minOneBatch: boolean, into?: ReadTarget): Promise<Buffer> {
  const segs = log.segments;
  for (let i = segmentIndexFor(segs, offset); i < segs.length; i++) {
    const seg = segs[i];
    if (seg.writtenSize === 0 || seg.baseOffset >= limitOffset) {
      if (seg.baseOffset >= limitOffset) return EMPTY;
      continue;
    }
    await seg.ensureIndexes(log.fs, log.config);
    const out = await readSegment(seg, offset, maxBytes, limitOffset, minOneBatch, log.config.indexIntervalBytes, into);
    if (out !== null) return out;
  }
  return EMPTY;
}

async function readSegment(seg: LogSegment, offset: number, maxBytes: number, limitOffset: number, minOneBatch: boolean, slack: number, target?: ReadTarget): Promise<Buffer | null> {
  const into = typeof target === 'function' ? undefined : target;
  const alloc = typeof target === 'function' ? target : Buffer.allocUnsafe;
  const h = handleOf(seg);
  const end = seg.writtenSize;
  let filePos = seg.index!.lookup(offset);
  let window = Math.max(maxBytes, BATCH_HEADER_SIZE) + slack + BATCH_HEADER_SIZE;
  let buf: Buffer;
  if (into !== undefined && into.length >= Math.min(maxBytes, end - filePos) && into.length >= BATCH_HEADER_SIZE) {
    // Caller-owned buffer: fresh memory costs page faults on every read, a reused one does not.
    window = into.length;
    buf = into.subarray(0, Math.min(window, end - filePos));
  } else {
    buf = alloc(Math.min(window, end - filePos));
  }
  let n = 0;
  let p = 0;
  // Locate the first batch whose last offset >= offset.
  for (;;) {
    if (n - p < BATCH_HEADER_SIZE) {
      filePos += p;
      if (filePos >= end) return null;
      if (buf.length > end - filePos) buf = buf.subarray(0, end - filePos);
      n = await h.read(buf, 0, buf.length, filePos);
      p = 0;
      if (n < BATCH_HEADER_SIZE) return null;
    }
    if (lastOffsetOf(buf, p) >= offset) break;
    p += batchSizeAt(buf, p);
  }
  if (lastOffsetOf(buf, p) >= limitOffset) return EMPTY;
  const first = batchSizeAt(buf, p);
  if (first > maxBytes && !minOneBatch) return EMPTY;
  if (p + first > n) {
    // The first batch does not fit in what was read: read from its start, at least the whole batch.
    const at = filePos + p;
    const len = Math.min(end - at, Math.max(first, window));
    buf = into !== undefined && into.length >= len ? into.subarray(0, len) : alloc(len);
    n = await h.read(buf, 0, len, at);
    filePos = at;
    p = 0;
    if (n < first) return EMPTY; // cannot happen for written data; never serve a partial batch
  }
  let q = p + first;
  let total = first;
  while (n - q >= BATCH_HEADER_SIZE) {
    const size = batchSizeAt(buf, q);
    if (total + size > maxBytes || q + size > n || lastOffsetOf(buf, q) >= limitOffset) break;
    total += size;
    q += size;
  }
  return buf.subarray(p, q);
}

/** Calls `visit` for every batch with last offset >= `fromOffset` and base offset < `limitOffset`. */
export async function forEachBatch(log: SegmentedLog, fromOffset: number, limitOffset: number, visit: (batch: Buffer) => boolean | void): Promise<void> {
  const segs = log.segments.slice();
  for (let i = segmentIndexFor(segs, fromOffset); i < segs.length; i++) {
    const seg = segs[i];
    if (seg.baseOffset >= limitOffset) return;
    if (seg.writtenSize === 0) continue;
    await seg.ensureIndexes(log.fs, log.config);
    let stopped = false;
    await scanBatches(handleOf(seg), seg.index!.lookup(fromOffset), seg.writtenSize, (buf, pos, size) => {
      if (baseOffsetOf(buf, pos) >= limitOffset) {
        stopped = true;
        return false;
      }
      if (lastOffsetOf(buf, pos) < fromOffset) return true;
      if (visit(buf.subarray(pos, pos + size)) === false) {
        stopped = true;
        return false;
      }
      return true;
    }, { validate: false });
    if (stopped) return;
  }
}

export interface TimestampOffset {
  offset: number;
  timestamp: number;
}

/**
 * ListOffsets by timestamp: the first record with timestamp >= `ts` at or after `startOffset` and
 * below `limitOffset`. Batches are skipped by their max timestamp; only the matching batch is
 * decoded to find the record (CreateTime), as Kafka's LogSegment.findOffsetByTimestamp does.
 */
export async function findOffsetByTimestamp(log: SegmentedLog, ts: number, startOffset: number, limitOffset: number): Promise<TimestampOffset | null> {
  for (const seg of log.segments.slice()) {
    if (seg.baseOffset >= limitOffset) break;
    if (seg.writtenSize === 0 || seg.nextOffset <= startOffset) continue;
    await seg.ensureIndexes(log.fs, log.config);
    if (seg.maxTimestamp < ts) continue;
    const from = Math.max(startOffset, seg.timeIndex!.searchStart(ts));
    let found: TimestampOffset | null = null;
    let beyond = false;
    await scanBatches(handleOf(seg), seg.index!.lookup(from), seg.writtenSize, (buf, pos, size) => {
      if (lastOffsetOf(buf, pos) >= limitOffset) {
        beyond = true;
        return false;
      }
      if (lastOffsetOf(buf, pos) < startOffset || maxTimestampOf(buf, pos) < ts) return true;
      found = recordAtOrAfter(buf.subarray(pos, pos + size), ts, startOffset);
      return found === null;
    }, { validate: false });
    if (found !== null || beyond) return found;
  }
  return null;
}

function recordAtOrAfter(batch: Buffer, ts: number, startOffset: number): TimestampOffset | null {
  if (timestampTypeOf(batch) === 1) {
    return { offset: Math.max(baseOffsetOf(batch, 0), startOffset), timestamp: maxTimestampOf(batch, 0) };
  }
  try {
    for (const r of decodeRecords(batch)) {
      if (r.offset >= startOffset && r.timestamp >= ts) return { offset: r.offset, timestamp: r.timestamp };
    }
    return null;
  } catch {
    // Undecodable (e.g. a codec we cannot run): answer at batch granularity.
    return { offset: Math.max(baseOffsetOf(batch, 0), startOffset), timestamp: maxTimestampOf(batch, 0) };
  }
}

/**
 * ListOffsets MAX_TIMESTAMP (-3, KIP-734): the record with the largest timestamp below
 * `limitOffset` (the earliest record when several share it). Segment maxima come from the time
 * indexes; only the batch holding the maximum is read, unless a segment's maximum lies at or past
 * the limit (unflushed tail) or before `startOffset`, where that segment is scanned.
 */
export async function findMaxTimestamp(log: SegmentedLog, startOffset: number, limitOffset: number): Promise<TimestampOffset> {
  let best: TimestampOffset = { offset: -1, timestamp: -1 };
  let bestSeg: LogSegment | null = null;
  for (const seg of log.segments.slice()) {
    if (seg.baseOffset >= limitOffset) break;
    if (seg.writtenSize === 0 || seg.nextOffset <= startOffset) continue;
    await seg.ensureIndexes(log.fs, log.config);
    if (seg.maxTimestamp <= best.timestamp) continue;
    if (seg.offsetOfMaxTimestamp < limitOffset && seg.offsetOfMaxTimestamp >= startOffset) {
      best = { offset: seg.offsetOfMaxTimestamp, timestamp: seg.maxTimestamp };
      bestSeg = seg;
      continue;
    }
    const found = await scanMax(seg, startOffset, limitOffset, best.timestamp);
    if (found !== null) {
      best = found;
      bestSeg = null;
    }
  }
  if (bestSeg === null) return best;
  // Find the exact record inside the batch that holds the maximum.
  const target = best;
  let exact: TimestampOffset | null = null;
  await scanBatches(handleOf(bestSeg), bestSeg.index!.lookup(target.offset), bestSeg.writtenSize, (buf, pos, size) => {
    if (baseOffsetOf(buf, pos) < target.offset) return true;
    exact = recordAtOrAfter(buf.subarray(pos, pos + size), target.timestamp, startOffset);
    return false;
  }, { validate: false });
  return exact ?? target;
}

async function scanMax(seg: LogSegment, startOffset: number, limitOffset: number, above: number): Promise<TimestampOffset | null> {
  let best: TimestampOffset | null = null;
  let bestTs = above;
  await scanBatches(handleOf(seg), seg.index!.lookup(startOffset), seg.writtenSize, (buf, pos, size) => {
    if (lastOffsetOf(buf, pos) >= limitOffset) return false;
    const ts = maxTimestampOf(buf, pos);
    if (lastOffsetOf(buf, pos) < startOffset || ts <= bestTs) return true;
    const r = recordAtOrAfter(buf.subarray(pos, pos + size), ts, startOffset);
    if (r !== null) {
      best = r;
      bestTs = ts;
    }
    return true;
  }, { validate: false });
  return best;
}
