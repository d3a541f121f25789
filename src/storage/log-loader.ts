// Opening a partition directory, after Kafka's LogLoader:
// 1. leftovers of interrupted operations: *.tmp, *.deleted and *.cleaned files are removed; *.swap
//    files (complete compaction output) replace the segments they cover;
// 2. after an unclean shutdown, every segment from the one holding the recovery point on is scanned
//    batch by batch (length, magic, CRC32C, offsets increasing); at the first torn or corrupt batch
//    the segment is truncated there and all later segments are deleted, as they are when a scanned
//    segment ends short of the next one's base offset. Segments before the
//    recovery point are not read at all (their indexes load lazily on first use);
// 3. the active segment's tail (from its last index entry) is always validated, so even after a
//    clean shutdown a damaged last batch is cut off rather than served.

import { BATCH_HEADER_SIZE, partitionLeaderEpochOf } from '../protocol/record-batch.ts';
import { baseOffsetAt, lastOffsetAt, maxTimestampAt } from './batch-header.ts';
import { scanBatches } from './batch-scan.ts';
import { readFileIfExists, writeFileAtomic } from './checkpoint-file.ts';
import type { Clock } from './clock.ts';
import {
  CLEANED_SUFFIX, DELETED_SUFFIX, INDEX_SUFFIX, LEADER_EPOCH_CHECKPOINT_FILE, LOG_SUFFIX, PARTITION_METADATA_FILE, SWAP_SUFFIX, TIME_INDEX_SUFFIX,
  indexFile, join, logFile, offsetName, parseOffsetName, parsePartitionDir, timeIndexFile,
} from './file-names.ts';
import type { FileSystem } from './fs.ts';
import { LeaderEpochCache } from './leader-epoch-cache.ts';
import type { LogConfig } from './log-config.ts';
import { segmentIndexFor } from './log-read.ts';
import { PartitionLog } from './partition-log.ts';
import { parsePartitionMetadata } from './partition-metadata.ts';
import { ProducerSnapshots } from './producer-snapshots.ts';
import { LogSegment } from './segment.ts';

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

/** Removes leftovers and completes interrupted compaction swaps; returns the remaining names. */
async function tidy(fs: FileSystem, dir: string, names: string[]): Promise<string[]> {
  let changed = false;
  for (const n of names) {
    if (n.endsWith('.tmp') || n.endsWith(DELETED_SUFFIX) || n.endsWith(CLEANED_SUFFIX) || (n.endsWith(SWAP_SUFFIX) && !n.endsWith(LOG_SUFFIX + SWAP_SUFFIX))) {
      await removeQuietly(fs, join(dir, n));
      changed = true;
    }
  }
  let rest = names.filter((n) => !n.endsWith('.tmp') && !n.endsWith(DELETED_SUFFIX) && !n.endsWith(CLEANED_SUFFIX) && !n.endsWith(SWAP_SUFFIX));
  const swaps = names.filter((n) => n.endsWith(LOG_SUFFIX + SWAP_SUFFIX)).map((n) => parseOffsetName(n.slice(0, -SWAP_SUFFIX.length), LOG_SUFFIX)).filter((b) => b >= 0);
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
    const covered = rest.map((n) => parseOffsetName(n, LOG_SUFFIX)).filter((b) => b >= base && b <= last);
    for (const b of covered) {
      await removeQuietly(fs, logFile(dir, b));
      await removeQuietly(fs, indexFile(dir, b));
      await removeQuietly(fs, timeIndexFile(dir, b));
    }
    await removeQuietly(fs, indexFile(dir, base));
    await removeQuietly(fs, timeIndexFile(dir, base));
    await fs.rename(swapPath, logFile(dir, base));
    rest = rest.filter((n) => !covered.includes(parseOffsetName(n, LOG_SUFFIX)) && !covered.includes(parseOffsetName(n, INDEX_SUFFIX)) && !covered.includes(parseOffsetName(n, TIME_INDEX_SUFFIX)));
    rest.push(offsetName(base) + LOG_SUFFIX);
    changed = true;
  }
  // Index files whose segment is gone.
  const bases = new Set(rest.map((n) => parseOffsetName(n, LOG_SUFFIX)).filter((b) => b >= 0));
  for (const n of rest) {
    const b = Math.max(parseOffsetName(n, INDEX_SUFFIX), parseOffsetName(n, TIME_INDEX_SUFFIX));
    if (b >= 0 && !bases.has(b)) {
      await removeQuietly(fs, join(dir, n));
      changed = true;
    }
  }
  if (changed) await fs.syncDir(dir);
  return rest;
}

/**
 * Scans `seg` from `from` (its index and max timestamp already describe the bytes before), checking
 * every batch; truncates the file at the first invalid one. Returns whether the segment was cut.
 */
async function recoverFrom(seg: LogSegment, from: number, nextBase: number, ctx: LoadContext, epochs: LeaderEpochCache, stats: LoadStats): Promise<boolean> {
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
      if (await recoverFrom(seg, 0, nextBase, ctx, epochs, stats)) cutAt = i;
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
  });
}
