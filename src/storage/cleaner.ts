// Log compaction (cleanup.policy=compact), after Kafka's LogCleaner. The log splits at the cleaner
// checkpoint into a clean head and a dirty tail; the active segment and segments younger than
// min.compaction.lag.ms are never cleaned. A log is cleaned when dirty / (clean + dirty) >=
// min.cleanable.dirty.ratio, or when its oldest dirty data is older than max.compaction.lag.ms.
// Cleaning rewrites every segment below the end of the cleanable range into <base>.log.cleaned files
// (consecutive segments merged up to segment.bytes), renames each to .swap, retires the old
// segments and renames the .swap into place; recovery finishes a swap interrupted by a crash.
// Transactions (KIP-98): nothing at or past the last stable offset is cleaned (`log.cleanableUpperBound`,
// set by the transaction layer; the high watermark by default), nor any segment holding a
// transaction whose marker the cleaner cannot find; records of aborted transactions are dropped
// (cleaner-txn.ts); each producer's last data batch stays, empty if need be (its last offset comes
// from `log.producerLastOffsets`, set by the transaction layer, or else from a scan to the high
// watermark); markers whose transaction has no batch left go after delete.retention.ms
// (cleaner-markers.ts), their txn-index entries with them.
// Work runs in small slices (the event loop gets a turn every few ms, between 64 KiB reads) so appends and fetches keep going.

import { setImmediate as yieldTurn } from 'node:timers/promises';
import { isControlBatch, RECORDS } from '../protocol/record-batch.ts';
import { baseOffsetAt, lastOffsetAt, maxTimestampAt } from './batch-header.ts';
import { scanBatches } from './batch-scan.ts';
import { CleanedMarkers } from './cleaner-markers.ts';
import { addToOffsetMap, placeholderFor, rewriteBatch, type OffsetMap, type RewriteContext, type RewriteStats } from './cleaner-rewrite.ts';
import { scanTransactions, type AbortedTxns } from './cleaner-txn.ts';
import { CLEANED_SUFFIX, SWAP_SUFFIX } from './file-names.ts';
import { isCompacted } from './log-config.ts';
import type { PartitionLog } from './partition-log.ts';
import { LogSegment } from './segment.ts';
import { TxnIndex } from './txn-index.ts';

/** Stop adding dirty segments to one cleaning once the offset map holds this many keys. */
export const MAX_MAP_KEYS = 4_000_000;
const SLICE_MS = 4;
const CHUNK = 64 * 1024;

export interface CleanablePlan {
  log: PartitionLog;
  firstDirty: number;
  /** First offset not cleaned this time (a segment base). */
  endOffset: number;
  dirtyRatio: number;
}

export interface CleanResult extends RewriteStats {
  log: PartitionLog;
  cleanedTo: number;
}

function slicer(): () => Promise<void> {
  let start = performance.now();
  return async () => {
    if (performance.now() - start < SLICE_MS) return;
    await yieldTurn();
    start = performance.now();
  };
}

/** Whether and how far `log` should be cleaned now; null when not eligible. */
export async function planCleaning(log: PartitionLog, checkpoint: number): Promise<CleanablePlan | null> {
  const cfg = log.config;
  if (!isCompacted(cfg) || log.isOffline || log.segments.length < 2) return null;
  const firstDirty = checkpoint > log.logEndOffset || checkpoint < log.logStartOffset ? log.logStartOffset : checkpoint;
  const now = log.clock.now();
  const segs = log.segments.slice(0, -1);
  const upperBound = Math.min(log.cleanableUpperBound(), log.highWatermark);
  let endOffset = log.active.baseOffset;
  let clean = 0;
  let dirty = 0;
  let oldestDirty = Number.POSITIVE_INFINITY;
  for (const seg of segs) {
    if (seg.size !== seg.writtenSize || seg.nextOffset > upperBound) {
      endOffset = seg.baseOffset;
      break;
    }
    await seg.ensureIndexes(log.fs, cfg);
    if (seg.nextOffset <= firstDirty) {
      clean += seg.size;
      continue;
    }
    // min.compaction.lag.ms: segments holding records newer than the lag stay dirty for now.
    if (cfg.minCompactionLagMs > 0 && seg.maxTimestamp > now - cfg.minCompactionLagMs) {
      endOffset = seg.baseOffset;
      break;
    }
    dirty += seg.size;
    if (seg.maxTimestamp >= 0) oldestDirty = Math.min(oldestDirty, seg.maxTimestamp);
  }
  if (dirty === 0 || endOffset <= firstDirty) return null;
  const dirtyRatio = dirty / (clean + dirty);
  const overdue = oldestDirty < now - cfg.maxCompactionLagMs;
  if (dirtyRatio < cfg.minCleanableDirtyRatio && !overdue) return null;
  return { log, firstDirty, endOffset, dirtyRatio };
}

/** Picks the dirtiest eligible log and cleans it. */
export async function runCleanerPass(logs: readonly PartitionLog[], checkpointOf: (log: PartitionLog) => number): Promise<CleanResult | null> {
  let best: CleanablePlan | null = null;
  for (const log of logs) {
    const plan = await planCleaning(log, checkpointOf(log)).catch(() => null);
    if (plan !== null && (best === null || plan.dirtyRatio > best.dirtyRatio)) best = plan;
  }
  if (best === null) return null;
  const plan = best;
  return plan.log.maintain(() => cleanLog(plan));
}

async function buildOffsetMap(log: PartitionLog, firstDirty: number, endOffset: number, aborted: AbortedTxns): Promise<{ map: OffsetMap; end: number }> {
  const map: OffsetMap = new Map();
  const pause = slicer();
  for (const seg of log.segments.slice(0, -1)) {
    if (seg.baseOffset >= endOffset) break;
    if (seg.nextOffset <= firstDirty) continue;
    if (map.size >= MAX_MAP_KEYS) return { map, end: seg.baseOffset };
    await yieldTurn(); // every segment gives appends and fetches a turn, however fast it is read
    await seg.ensureIndexes(log.fs, log.config);
    await scanBatches(seg.handle!, seg.index!.lookup(firstDirty), seg.writtenSize, (buf, pos, size) => {
      if (lastOffsetAt(buf, pos) >= firstDirty) addToOffsetMap(map, buf.subarray(pos, pos + size), aborted);
    }, { validate: false, chunkBytes: CHUNK, between: pause });
  }
  return { map, end: endOffset };
}

/** Cleans [logStart, plan.endOffset) of the log, less any segments from one holding a transaction with no marker. Runs under the log's maintenance lock. */
export async function cleanLog(plan: CleanablePlan): Promise<CleanResult> {
  const { log } = plan;
  const known = log.producerLastOffsets();
  const txns = await scanTransactions(log, plan.endOffset, log.cleanableUpperBound(), slicer(), { producers: known === null });
  let endOffset = plan.endOffset;
  if (txns.firstOpen !== null) {
    // A transaction without a marker: stop at the start of the segment holding its first batch.
    endOffset = Math.min(endOffset, log.segments.findLast((s) => s.baseOffset <= txns.firstOpen!)?.baseOffset ?? log.logStartOffset);
  }
  if (endOffset <= plan.firstDirty) return { log, cleanedTo: plan.firstDirty, recordsRemoved: 0, batchesRemoved: 0 };
  const { map, end } = await buildOffsetMap(log, plan.firstDirty, endOffset, txns.aborted);
  const stats: CleanResult = { log, cleanedTo: end, recordsRemoved: 0, batchesRemoved: 0 };
  const now = log.clock.now();
  const ctx: CleanContext = {
    map, now, deleteRetentionMs: log.config.deleteRetentionMs, aborted: txns.aborted,
    producerLast: known ?? txns.producerLast ?? new Map(),
    markers: new CleanedMarkers(now, log.config.deleteRetentionMs),
  };
  const eligible = log.segments.slice(0, -1).filter((s) => s.nextOffset <= end && !s.deleted);
  // Groups of consecutive segments whose combined size fits segment.bytes.
  const groups: LogSegment[][] = [];
  for (const seg of eligible) {
    const g = groups[groups.length - 1];
    const size = g?.reduce((n, s) => n + s.size, 0) ?? 0;
    if (g !== undefined && size + seg.size <= log.config.segmentBytes) g.push(seg);
    else groups.push([seg]);
  }
  for (const group of groups) {
    if (log.isOffline) {
      stats.cleanedTo = plan.firstDirty; // unfinished: the same dirty range next time
      break;
    }
    await cleanGroup(log, group, ctx, stats);
  }
  return stats;
}

interface CleanContext extends RewriteContext {
  /** Marker decisions, carried across the groups of one cleaning (they are cleaned in offset order). */
  markers: CleanedMarkers;
}

async function cleanGroup(log: PartitionLog, group: LogSegment[], ctx: CleanContext, stats: RewriteStats): Promise<void> {
  const { fs, config } = log;
  const first = group[0];
  const last = group[group.length - 1];
  const out = new LogSegment(log.dir, first.baseOffset, first.createdMs);
  out.resetIndexes(config);
  const cleanedPath = out.logPath + CLEANED_SUFFIX;
  const h = await fs.open(cleanedPath, 'w+');
  out.handle = h;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let written = 0;
  const drain = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const bufs = pending;
    pending = [];
    await h.writev(bufs, written);
    written += pendingBytes;
    pendingBytes = 0;
  };
  const pause = slicer();
  const keep = (bytes: Buffer): void => {
    out.track(baseOffsetAt(bytes, 0), lastOffsetAt(bytes, 0), maxTimestampAt(bytes, 0), bytes.length, config.indexIntervalBytes);
    pending.push(bytes);
    pendingBytes += bytes.length;
  };
  let droppedLast: Buffer | null = null;
  try {
    for (const seg of group) {
      await yieldTurn(); // every segment gives appends and fetches a turn, however fast it is read
      await seg.ensureIndexes(fs, config);
      await scanBatches(seg.handle!, 0, seg.writtenSize, (buf, pos, size) => {
        const batch = buf.subarray(pos, pos + size);
        let kept: Buffer | null;
        if (isControlBatch(batch)) kept = ctx.markers.marker(batch, stats);
        else {
          kept = rewriteBatch(batch, ctx, stats);
          if (kept !== null) ctx.markers.kept(kept);
        }
        // Copies: the scan buffer is reused after this call.
        droppedLast = kept === null ? Buffer.from(batch.subarray(0, RECORDS)) : null;
        if (kept !== null) keep(kept.buffer === buf.buffer ? Buffer.from(kept) : kept);
      }, { validate: false, chunkBytes: CHUNK, between: async () => {
        if (pendingBytes >= CHUNK) await drain();
        await pause();
      } });
    }
    if (droppedLast !== null) keep(placeholderFor(droppedLast));
    await drain();
    await h.datasync();
  } catch (err) {
    await h.close().catch(() => {});
    await fs.rm(cleanedPath).catch(() => {});
    throw err;
  }
  if (log.isOffline || group.some((s) => s.deleted)) {
    // The log changed under us (deleted, truncated, offline): abandon this output.
    await out.close();
    await fs.rm(cleanedPath).catch(() => {});
    return;
  }
  out.size = out.writtenSize = written;
  out.nextOffset = last.nextOffset;
  out.dirSynced = true;
  out.seal();
  // The aborted transactions of the group (offsets do not change), less those whose marker went.
  const entries = group.flatMap((s) => s.txnIndex.entries).filter((e) => !ctx.markers.removedAborts.has(e.lastOffset));
  out.txnIndex = new TxnIndex(out.baseOffset, entries.map((e) => ({ ...e })), false);
  const txnSwapPath = out.txnIndexPath + SWAP_SUFFIX;
  if (out.txnIndex.count > 0) {
    // Durable before the .log.swap exists: recovery completing the swap must find it (it cannot be rebuilt from the segment).
    await out.txnIndex.writeNew(fs, txnSwapPath);
    await fs.syncDir(log.dir);
  }
  // Swap: from the rename to .swap on, recovery completes the replacement.
  const swapPath = out.logPath + SWAP_SUFFIX;
  await fs.rename(cleanedPath, swapPath);
  await fs.syncDir(log.dir);
  // A new array, never an in-place edit: readers iterate the list they started with.
  const at = log.segments.indexOf(first);
  log.segments = [...log.segments.slice(0, at), out, ...log.segments.slice(at + group.length)];
  for (const s of group) await log.retirer.retire(fs, s, config.fileDeleteDelayMs);
  await fs.rename(swapPath, out.logPath);
  // After the .log: a .txnindex.swap beside a .log with no .log.swap nor .log.cleaned is installed by recovery.
  if (out.txnIndex.count > 0) {
    await fs.rename(txnSwapPath, out.txnIndexPath);
    out.txnIndex.markPersisted();
  }
  await fs.syncDir(log.dir);
  await out.persistIndexes(fs);
}
