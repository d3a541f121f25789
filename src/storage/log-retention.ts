// Removing data from a log: retention (cleanup.policy=delete), DeleteRecords, and truncation of the
// tail (replication divergence, rollback after a failed write).
// Retention follows Kafka's UnifiedLog.deleteOldSegments: only a prefix of sealed segments goes, in
// three passes — retention.ms by the segment's largest timestamp, retention.bytes by whole segments
// while the log stays above the limit, then segments wholly below the log start offset. An expired
// active segment is rolled first so it can go too. Deleted segment files are renamed *.deleted and
// removed after file.delete.delay.ms, so reads already holding the file finish undisturbed.

import { baseOffsetAt, lastOffsetAt } from './batch-header.ts';
import { scanBatches } from './batch-scan.ts';
import { errnoOf } from './errors.ts';
import { DELETED_SUFFIX, indexFile, timeIndexFile } from './file-names.ts';
import type { FileSystem } from './fs.ts';
import { isDeleting } from './log-config.ts';
import type { PartitionLog } from './partition-log.ts';
import { LogSegment } from './segment.ts';
import { TxnIndex } from './txn-index.ts';

/** Files of deleted segments waiting for file.delete.delay.ms, per file system. */
export class SegmentRetirer {
  readonly #pending = new Map<LogSegment, { timer: NodeJS.Timeout; finish: () => Promise<void> }>();

  /** Renames the segment's files to *.deleted now; closes and unlinks them after `delayMs`. */
  async retire(fs: FileSystem, seg: LogSegment, delayMs: number): Promise<void> {
    seg.deleted = true;
    const paths = [seg.logPath, indexFile(seg.dir, seg.baseOffset), timeIndexFile(seg.dir, seg.baseOffset), seg.txnIndexPath];
    // Its aborted transactions leave memory with it (the file goes with the others); a txn-index
    // write in progress finishes first, and none follows (a cleaned segment may take the name).
    const txn = seg.txnIndex;
    seg.txnIndex = new TxnIndex(seg.baseOffset);
    await txn.close();
    const renamed: string[] = [];
    for (const p of paths) {
      try {
        await fs.rename(p, p + DELETED_SUFFIX);
        renamed.push(p + DELETED_SUFFIX);
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw err;
      }
    }
    const finish = async (): Promise<void> => {
      this.#pending.delete(seg);
      await seg.close().catch(() => {});
      for (const p of renamed) await fs.unlink(p).catch(() => {});
    };
    if (delayMs <= 0) return finish();
    const timer = setTimeout(() => void finish(), Math.min(delayMs, 0x7fffffff));
    timer.unref();
    this.#pending.set(seg, { timer, finish });
  }

  /** Completes every pending deletion now (shutdown). */
  async finishAll(): Promise<void> {
    for (const { timer, finish } of [...this.#pending.values()]) {
      clearTimeout(timer);
      await finish();
    }
  }

  /** Forgets pending deletions without I/O (halt); startup removes leftover *.deleted files. */
  cancelAll(): void {
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }
}

/** Removes `segs` (sealed, never the active one) from the log and retires their files. */
export async function deleteSegments(log: PartitionLog, segs: readonly LogSegment[]): Promise<number> {
  const active = log.active;
  const doomed = new Set(segs.filter((s) => s !== active));
  if (doomed.size === 0) return 0;
  log.segments = log.segments.filter((s) => !doomed.has(s));
  for (const s of doomed) s.deleted = true;
  log.advanceLogStartOffset(log.segments[0].baseOffset);
  for (const s of doomed) await log.retirer.retire(log.fs, s, log.config.fileDeleteDelayMs);
  await log.snapshots.deleteBefore(log.logStartOffset);
  return doomed.size;
}

async function largestTimestamp(log: PartitionLog, seg: LogSegment): Promise<number> {
  await seg.ensureIndexes(log.fs, log.config);
  if (seg.maxTimestamp >= 0) return seg.maxTimestamp;
  // No record timestamps: Kafka falls back to the file's modification time.
  return (await log.fs.stat(seg.logPath))?.mtimeMs ?? seg.createdMs;
}

/** One retention pass; returns the number of segments deleted. */
export async function runRetention(log: PartitionLog): Promise<number> {
  const cfg = log.config;
  let deleted = 0;
  if (isDeleting(cfg) && cfg.retentionMs >= 0) {
    const cutoff = log.clock.now() - cfg.retentionMs;
    const expired: LogSegment[] = [];
    for (const seg of log.segments) {
      if (seg.size !== seg.writtenSize || (await largestTimestamp(log, seg)) >= cutoff) break;
      expired.push(seg);
    }
    if (expired.length > 0 && expired[expired.length - 1] === log.active) {
      // Everything expired: roll so the old active segment can be deleted (once written).
      log.forceRoll();
      const old = expired[expired.length - 1];
      if (old.size !== old.writtenSize) await log.flush();
    }
    deleted += await deleteSegments(log, expired);
  }
  if (isDeleting(cfg) && cfg.retentionBytes >= 0) {
    let excess = log.sizeInBytes() - cfg.retentionBytes;
    const over: LogSegment[] = [];
    for (const seg of log.segments.slice(0, -1)) {
      if (excess - seg.size < 0) break;
      excess -= seg.size;
      over.push(seg);
    }
    deleted += await deleteSegments(log, over);
  }
  const below: LogSegment[] = [];
  for (const seg of log.segments.slice(0, -1)) {
    if (seg.nextOffset > log.logStartOffset) break;
    below.push(seg);
  }
  deleted += await deleteSegments(log, below);
  return deleted;
}

/**
 * Drops every batch whose last offset >= `offset` (whole batches: the end lands on a batch boundary)
 * and makes the shortened file durable. No write may be in flight.
 */
export async function truncateLog(log: PartitionLog, offset: number): Promise<void> {
  if (offset >= log.logEndOffset && log.active.size === log.active.writtenSize) return;
  const keep = log.segments.filter((s) => s.baseOffset < offset || s === log.segments[0]);
  const drop = log.segments.filter((s) => !keep.includes(s));
  let newEnd = offset;
  const last = keep[keep.length - 1];
  if (last.baseOffset >= offset) {
    // Nothing before `offset` survives: start over at `offset` (Kafka's truncateFullyAndStartAt).
    drop.push(last);
    keep.pop();
    const fresh = new LogSegment(log.dir, offset, log.clock.now());
    fresh.resetIndexes(log.config);
    keep.push(fresh);
    log.logStartOffset = offset;
  } else {
    await last.ensureIndexes(log.fs, log.config);
    let cut = last.writtenSize;
    if (last.handle !== null && last.writtenSize > 0) {
      await scanBatches(last.handle, last.index!.lookup(offset), last.writtenSize, (buf, pos, _size, filePos) => {
        if (lastOffsetAt(buf, pos) < offset) return true;
        cut = filePos;
        newEnd = Math.min(offset, baseOffsetAt(buf, pos));
        return false;
      }, { validate: false });
    }
    if (last.handle !== null) {
      await last.handle.truncate(cut);
      await last.handle.datasync();
    }
    last.size = last.writtenSize = cut;
    last.nextOffset = newEnd;
    last.truncateIndexes(cut, newEnd);
    // Entries of markers cut off must not outlive them on disk either.
    await last.txnIndex.persist(log.fs, last.txnIndexPath);
    if (cut === 0) last.firstBatchTimestamp = -1;
    last.sealed = false;
  }
  for (const s of drop) s.deleted = true;
  log.segments = keep;
  log.logEndOffset = newEnd;
  log.logStartOffset = Math.min(log.logStartOffset, newEnd);
  log.highWatermark = Math.min(log.highWatermark, newEnd);
  log.recoveryPoint = Math.min(log.recoveryPoint, newEnd);
  for (const s of drop) await log.retirer.retire(log.fs, s, 0);
  await log.snapshots.deleteAfter(newEnd);
}
