// Opening a partition directory, after Kafka's LogLoader:
// 1. leftovers of interrupted operations: *.tmp, *.deleted and *.cleaned files are removed; *.swap
//    files (complete compaction output) replace the segments they cover;
// 2. after an unclean shutdown, every segment from the one holding the recovery point on is scanned
//    batch by batch (length, magic, CRC32C, offsets increasing); at the first torn or corrupt batch
//    the segment is truncated there and all later segments are deleted, as they are when a scanned
//    segment ends short of the next one's base offset. Segments before the
//    recovery point are not read at all (their indexes load lazily on first use);
// 3. the active segment's tail (from its last index entry) is always validated, so even after a
//    clean shutdown a damaged last batch is cut off rather than served;
// 4. aborted-transaction indexes (.txnindex) are read for every segment that has one. Those of the
//    re-scanned segments are emptied: their files may lack entries (written with the other indexes,
//    only durable below the recovery point) or hold entries of lost markers. The transaction layer
//    rebuilds them by replaying producer state from a snapshot at or below the first control batch
//    re-scanned (PartitionLog.txnIndexRebuildFrom), and the recovery point is not checkpointed past
//    that offset until it has.

import { ATTRIBUTES, BATCH_HEADER_SIZE, CONTROL_FLAG, partitionLeaderEpochOf } from '../protocol/record-batch.ts';
import { baseOffsetAt, lastOffsetAt, maxTimestampAt } from './batch-header.ts';
import { scanBatches } from './batch-scan.ts';
import { readFileIfExists, writeFileAtomic } from './checkpoint-file.ts';
import type { Clock } from './clock.ts';
import {
  CLEANED_SUFFIX, DELETED_SUFFIX, INDEX_SUFFIX, LEADER_EPOCH_CHECKPOINT_FILE, LOG_SUFFIX, PARTITION_METADATA_FILE, SWAP_SUFFIX, TIME_INDEX_SUFFIX,
  TXN_INDEX_SUFFIX, indexFile, join, logFile, offsetName, parseOffsetName, parsePartitionDir, timeIndexFile, txnIndexFile,
} from './file-names.ts';
import type { FileSystem } from './fs.ts';
import { LeaderEpochCache } from './leader-epoch-cache.ts';
import type { LogConfig } from './log-config.ts';
import { segmentIndexFor } from './log-read.ts';
import { PartitionLog } from './partition-log.ts';
import { parsePartitionMetadata } from './partition-metadata.ts';
import { ProducerSnapshots } from './producer-snapshots.ts';
import { LogSegment } from './segment.ts';
import { TxnIndex } from './txn-index.ts';

export interface LoadContext {
  fs: FileSystem;
  clock: Clock;
  logDir: string;
  config: LogConfig;
  cleanShutdown: boolean;
  recoveryPoint: number | undefined;
  logStartOffset: number | undefined;
}

export interface LoadStats {
  scannedBytes: number;
  truncatedBytes: number;
  deletedSegments: number;
}

async function removeQuietly(fs: FileSystem, path: string): Promise<void> {
  await fs.rm(path).catch(() => {});
}

const INDEX_SUFFIXES = [INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX];

/** Base offset of an index file of any kind, or -1. */
function indexBase(name: string): number {
  return Math.max(...INDEX_SUFFIXES.map((s) => parseOffsetName(name, s)));
}

/**
 * Removes leftovers and completes interrupted compaction swaps; returns the remaining names. A swap
 * is <base>.log.swap, with <base>.txnindex.swap when the cleaned segment holds aborted transactions
 * (made durable before the .log.swap rename, so it is there whenever the swap is). The cleaner
 * renames the .log.swap into place before the .txnindex.swap: a .txnindex.swap left beside a .log
 * with neither .log.swap nor .log.cleaned belongs to a completed swap and is installed.
 */
async function tidy(fs: FileSystem, dir: string, names: string[]): Promise<string[]> {
  let changed = false;
  const logSwap = LOG_SUFFIX + SWAP_SUFFIX;
  const txnSwap = TXN_INDEX_SUFFIX + SWAP_SUFFIX;
  const swaps = names.filter((n) => n.endsWith(logSwap)).map((n) => parseOffsetName(n.slice(0, -SWAP_SUFFIX.length), LOG_SUFFIX)).filter((b) => b >= 0);
  const keptTxnSwaps = new Set(swaps.map((b) => offsetName(b) + txnSwap));
  const has = new Set(names);
  for (const n of names) {
    const b = parseOffsetName(n.slice(0, -SWAP_SUFFIX.length), TXN_INDEX_SUFFIX);
    if (!n.endsWith(txnSwap) || b < 0 || keptTxnSwaps.has(n)) continue;
    const stem = offsetName(b) + LOG_SUFFIX;
    if (has.has(stem) && !has.has(stem + CLEANED_SUFFIX)) {
      await fs.rename(join(dir, n), txnIndexFile(dir, b));
      names = [...names.filter((x) => x !== n), offsetName(b) + TXN_INDEX_SUFFIX];
      changed = true;
    }
  }
  const transient = (n: string): boolean => n.endsWith('.tmp') || n.endsWith(DELETED_SUFFIX) || n.endsWith(CLEANED_SUFFIX) || n.endsWith(SWAP_SUFFIX);
  for (const n of names) {
    if (transient(n) && !n.endsWith(logSwap) && !keptTxnSwaps.has(n)) {
      await removeQuietly(fs, join(dir, n));
      changed = true;
    }
  }
  let rest = [...new Set(names.filter((n) => !transient(n)))];
  for (const base of swaps.sort((a, b) => a - b)) {
    // The swap file holds compacted data for [base, last]; the segments it replaces go first.
    const swapPath = logFile(dir, base) + SWAP_SUFFIX;
    const h = await fs.open(swapPath, 'r');
    let last = base - 1;
    try {
      await scanBatches(h, 0, await h.size(), (buf, pos) => {
        last = lastOffsetAt(buf, pos);
      }, { validate: false });
    } finally {
      await h.close();
    }
    const covered = new Set(rest.map((n) => parseOffsetName(n, LOG_SUFFIX)).filter((b) => b >= base && b <= last));
    covered.add(base);
    for (const b of covered) {
      await removeQuietly(fs, logFile(dir, b));
      await removeQuietly(fs, indexFile(dir, b));
      await removeQuietly(fs, timeIndexFile(dir, b));
      await removeQuietly(fs, txnIndexFile(dir, b));
    }
    if (names.includes(offsetName(base) + txnSwap)) await fs.rename(txnIndexFile(dir, base) + SWAP_SUFFIX, txnIndexFile(dir, base));
    await fs.rename(swapPath, logFile(dir, base));
    rest = rest.filter((n) => !covered.has(parseOffsetName(n, LOG_SUFFIX)) && !covered.has(indexBase(n)));
    rest.push(offsetName(base) + LOG_SUFFIX);
    if (names.includes(offsetName(base) + txnSwap)) rest.push(offsetName(base) + TXN_INDEX_SUFFIX);
    changed = true;
  }
  // Index files whose segment is gone.
  const bases = new Set(rest.map((n) => parseOffsetName(n, LOG_SUFFIX)).filter((b) => b >= 0));
  for (const n of rest) {
    const b = indexBase(n);
    if (b >= 0 && !bases.has(b)) {
      await removeQuietly(fs, join(dir, n));
      changed = true;
    }
  }
  rest = rest.filter((n) => { const b = indexBase(n); return b < 0 || bases.has(b); });
  if (changed) await fs.syncDir(dir);
  return rest;
}

/**
 * Scans `seg` from `from` (its index and max timestamp already describe the bytes before), checking
 * every batch; truncates the file at the first invalid one. Returns whether the segment was cut.
 */
async function recoverFrom(seg: LogSegment, from: number, nextBase: number, ctx: LoadContext, epochs: LeaderEpochCache, stats: LoadStats, control?: { first: number }): Promise<boolean> {
  const fileSize = seg.writtenSize;
  let prevLast = seg.nextOffset - 1;
  seg.size = from;
  const result = await scanBatches(seg.handle!, from, fileSize, (buf, pos, size) => {
    const base = baseOffsetAt(buf, pos);
    const last = lastOffsetAt(buf, pos);
    if (base < seg.baseOffset || base <= prevLast || last >= nextBase || last - seg.baseOffset > 0x7fffffff) return false;
    const epoch = partitionLeaderEpochOf(buf, pos);
    if (epoch > epochs.latestEpoch()) epochs.assign(epoch, base);
    seg.track(base, last, maxTimestampAt(buf, pos), size, ctx.config.indexIntervalBytes);
    if (control !== undefined && base < control.first && (buf.readInt16BE(pos + ATTRIBUTES) & CONTROL_FLAG) !== 0) control.first = base;
    prevLast = last;
  }, { validate: true });
  stats.scannedBytes += result.position - from;
  seg.writtenSize = seg.size;
  if (result.stop === 'end') return false;
  stats.truncatedBytes += fileSize - seg.size;
  await seg.handle!.truncate(seg.size);
  await seg.handle!.datasync();
  return true;
}

/** Validates the tail of a segment not fully scanned, from its last index entry. */
async function recoverTail(seg: LogSegment, nextBase: number, ctx: LoadContext, epochs: LeaderEpochCache, stats: LoadStats): Promise<boolean> {
  await seg.ensureIndexes(ctx.fs, ctx.config);
  const idx = seg.index!;
  let from = 0;
  if (idx.count > 0) {
    from = idx.positionAt(idx.count - 1);
    const head = Buffer.alloc(BATCH_HEADER_SIZE);
    const n = await seg.handle!.read(head, 0, BATCH_HEADER_SIZE, from);
    if (n < BATCH_HEADER_SIZE || baseOffsetAt(head, 0) !== idx.offsetAt(idx.count - 1)) from = 0;
  }
  if (from === 0) {
    seg.resetIndexes(ctx.config);
    seg.nextOffset = seg.baseOffset;
  } else {
    const offsetAtFrom = idx.offsetAt(idx.count - 1);
    idx.truncateToPosition(from + 1);
    seg.timeIndex!.truncateToOffset(offsetAtFrom + 1);
    seg.maxTimestamp = seg.timeIndex!.lastTimestamp();
    seg.offsetOfMaxTimestamp = seg.timeIndex!.lastOffset();
    seg.bytesSinceIndexEntry = 0;
    seg.nextOffset = offsetAtFrom;
    const head = Buffer.alloc(BATCH_HEADER_SIZE);
    if ((await seg.handle!.read(head, 0, BATCH_HEADER_SIZE, 0)) === BATCH_HEADER_SIZE) seg.firstBatchTimestamp = maxTimestampAt(head, 0);
  }
  return recoverFrom(seg, from, nextBase, ctx, epochs, stats);
}

export async function loadPartitionLog(ctx: LoadContext, dirName: string, stats: LoadStats): Promise<PartitionLog> {
  const { fs, clock } = ctx;
  const id = parsePartitionDir(dirName);
  if (id === null) throw new Error(`not a partition directory: ${dirName}`);
  const dir = join(ctx.logDir, dirName);
  const names = await tidy(fs, dir, await fs.readdir(dir));
  const now = clock.now();
  const bases = names.map((n) => parseOffsetName(n, LOG_SUFFIX)).filter((b) => b >= 0).sort((a, b) => a - b);
  const segments: LogSegment[] = [];
  for (const base of bases) {
    const seg = new LogSegment(dir, base, now);
    seg.handle = await fs.open(logFile(dir, base), 'r+');
    seg.size = seg.writtenSize = await seg.handle.size();
    seg.dirSynced = true;
    seg.sealed = true;
    segments.push(seg);
  }
  for (let i = 0; i < segments.length; i++) {
    segments[i].nextOffset = i + 1 < segments.length ? segments[i + 1].baseOffset : Number.MAX_SAFE_INTEGER;
  }
  const txnIndexes = new Set(names.map((n) => parseOffsetName(n, TXN_INDEX_SUFFIX)).filter((b) => b >= 0));
  for (const seg of segments) {
    if (txnIndexes.has(seg.baseOffset)) seg.txnIndex = await TxnIndex.load(fs, seg.txnIndexPath, seg.baseOffset, seg.nextOffset);
  }
  // First control batch in the re-scanned segments: their txn indexes are rebuilt from there.
  const control = { first: Number.MAX_SAFE_INTEGER };
  const epochs = LeaderEpochCache.decode(await readFileIfExists(fs, join(dir, LEADER_EPOCH_CHECKPOINT_FILE)));
  const epochsBefore = epochs.encode();
  const recoveryPoint = ctx.cleanShutdown ? Number.MAX_SAFE_INTEGER : (ctx.recoveryPoint ?? 0);
  const recovered: LogSegment[] = [];

  if (segments.length > 0) {
    const first = ctx.cleanShutdown ? segments.length : segmentIndexFor(segments, recoveryPoint);
    let cutAt = -1;
    for (let i = first; i < segments.length && cutAt < 0; i++) {
      const seg = segments[i];
      seg.resetIndexes(ctx.config);
      seg.nextOffset = seg.baseOffset;
      const nextBase = i + 1 < segments.length ? segments[i + 1].baseOffset : Number.MAX_SAFE_INTEGER;
      // Recovered bytes (and the file's directory entry) may never have been synced (kill -9 keeps
      // the page cache): the log's first sync covers these segments before the recovery point may
      // pass them.
      recovered.push(seg);
      seg.dirSynced = false;
      seg.txnIndex.reset();
      if (await recoverFrom(seg, 0, nextBase, ctx, epochs, stats, control)) cutAt = i;
      // Segments are contiguous (compaction keeps each one's last offset): a shortfall means this
      // segment's tail was lost while a later file survived (write-back reorders files).
      else if (nextBase !== Number.MAX_SAFE_INTEGER && seg.nextOffset !== nextBase) cutAt = i;
    }
    if (first >= segments.length) {
      recovered.push(segments[segments.length - 1]);
      if (await recoverTail(segments[segments.length - 1], Number.MAX_SAFE_INTEGER, ctx, epochs, stats)) cutAt = segments.length - 1;
    }
    if (cutAt >= 0) {
      // Everything after a damaged batch is unreachable: drop the later segments.
      for (const seg of segments.splice(cutAt + 1)) {
        stats.deletedSegments++;
        stats.truncatedBytes += seg.writtenSize;
        await seg.close();
        await removeQuietly(fs, seg.logPath);
        await removeQuietly(fs, indexFile(dir, seg.baseOffset));
        await removeQuietly(fs, timeIndexFile(dir, seg.baseOffset));
        await removeQuietly(fs, seg.txnIndexPath);
      }
      await fs.syncDir(dir);
    }
    // An emptied first segment that is not the only one stays (its base keeps the offsets).
  }
  let logStartOffset = Math.max(ctx.logStartOffset ?? 0, segments[0]?.baseOffset ?? 0);
  if (segments.length === 0) {
    const seg = new LogSegment(dir, logStartOffset, now);
    seg.resetIndexes(ctx.config);
    segments.push(seg);
  }
  const active = segments[segments.length - 1];
  active.sealed = false;
  // A cut tail (clean shutdown, damaged last batch) takes its markers' entries with it.
  active.txnIndex.truncateTo(active.nextOffset);
  for (const seg of segments) if (seg !== active) seg.sealed = true;
  logStartOffset = Math.min(logStartOffset, active.nextOffset);
  epochs.truncateFromEnd(active.nextOffset);
  if (!epochs.encode().equals(epochsBefore)) await writeFileAtomic(fs, join(dir, LEADER_EPOCH_CHECKPOINT_FILE), epochs.encode());
  const snapshots = new ProducerSnapshots(fs, dir);
  snapshots.load(names);
  await snapshots.deleteAfter(active.nextOffset);
  const meta = await readFileIfExists(fs, join(dir, PARTITION_METADATA_FILE));
  return new PartitionLog({
    fs, clock, logDir: ctx.logDir, dir,
    topic: id.topic, partition: id.partition,
    topicId: (meta === null ? null : parsePartitionMetadata(meta)) ?? '',
    config: ctx.config,
    segments, logStartOffset,
    recoveryPoint: ctx.cleanShutdown ? active.nextOffset : Math.min(recoveryPoint, active.nextOffset),
    leaderEpochs: epochs, snapshots,
    unsynced: recovered.filter((s) => segments.includes(s)),
    txnIndexRebuildFrom: control.first,
  });
}
