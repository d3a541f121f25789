// One log segment: <base>.log holding whole record batches back to back, its two sparse indexes and
// its aborted-transaction index (txn-index.ts).
// Invariants:
// - `size` counts bytes assigned to this segment (including bytes queued for writing);
//   `writtenSize` counts bytes the file holds — readers never look past it;
// - batches are in offset order; base offsets may have gaps (compaction) but never go back;
// - a sealed segment is never appended to again; only the last segment of a log is unsealed.

import { baseOffsetAt, lastOffsetAt, maxTimestampAt } from './batch-header.ts';
import { scanBatches } from './batch-scan.ts';
import { errnoOf } from './errors.ts';
import { indexFile, logFile, timeIndexFile, txnIndexFile } from './file-names.ts';
import type { FileHandle, FileSystem } from './fs.ts';
import { OFFSET_ENTRY_SIZE, OffsetIndex } from './offset-index.ts';
import { TIME_ENTRY_SIZE, TimeIndex } from './time-index.ts';
import { TxnIndex } from './txn-index.ts';

export interface IndexSettings {
  indexIntervalBytes: number;
  segmentIndexBytes: number;
}

export class LogSegment {
  readonly dir: string;
  readonly baseOffset: number;
  handle: FileHandle | null = null;
  /** The directory entry of the .log file has been fsync'ed. */
  dirSynced = false;
  size = 0;
  writtenSize = 0;
  /** Offset after the last batch (for a sealed segment loaded lazily: the next segment's base). */
  nextOffset: number;
  /** null until loaded (segments before the recovery point are loaded on first use). */
  index: OffsetIndex | null = null;
  timeIndex: TimeIndex | null = null;
  /** Aborted transactions whose ABORT marker this segment holds; always loaded (files are small and few). */
  txnIndex: TxnIndex;
  #indexFileEntries = 0;
  #timeFileEntries = 0;
  /** Largest batch max timestamp, -1 when none (or, for a segment loaded lazily, until ensureIndexes). */
  maxTimestamp = -1;
  offsetOfMaxTimestamp = -1;
  /** Max timestamp of the first batch (segment.ms rolls count from it, as Kafka does). */
  firstBatchTimestamp = -1;
  bytesSinceIndexEntry = 0;
  createdMs: number;
  /** Random part of segment.jitter.ms drawn when the segment was created. */
  rollJitterMs = 0;
  sealed = false;
  deleted = false;
  #loading: Promise<void> | null = null;

  constructor(dir: string, baseOffset: number, createdMs: number) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.createdMs = createdMs;
    this.txnIndex = new TxnIndex(baseOffset);
  }

  /** A new, empty segment (in memory until its first write creates the file). */
  static create(dir: string, baseOffset: number, now: number, cfg: IndexSettings & { segmentMs: number; segmentJitterMs?: number }): LogSegment {
    const seg = new LogSegment(dir, baseOffset, now);
    seg.resetIndexes(cfg);
    const jitter = Math.min(cfg.segmentJitterMs ?? 0, cfg.segmentMs);
    seg.rollJitterMs = jitter > 0 ? Math.floor(Math.random() * jitter) : 0;
    return seg;
  }

  /**
   * Kafka's roll conditions for appending a batch of `size` bytes: the segment would pass
   * segment.bytes; segment.ms (less this segment's jitter) has passed since its first batch's
   * timestamp (or its creation, without timestamps); an index is full; or the batch's last offset
   * would not fit a 32-bit relative offset.
   */
  shouldRoll(cfg: { segmentBytes: number; segmentMs: number }, size: number, maxTimestamp: number, lastOffset: number, now: number): boolean {
    if (this.size === 0) return false;
    if (this.size > cfg.segmentBytes - size) return true;
    const waited = this.firstBatchTimestamp >= 0 ? maxTimestamp - this.firstBatchTimestamp : now - this.createdMs;
    if (waited > cfg.segmentMs - this.rollJitterMs) return true;
    return this.isIndexFull() || lastOffset - this.baseOffset > 0x7fffffff;
  }

  get logPath(): string {
    return logFile(this.dir, this.baseOffset);
  }

  get txnIndexPath(): string {
    return txnIndexFile(this.dir, this.baseOffset);
  }

  static maxIndexEntries(s: IndexSettings): { offsets: number; times: number } {
    return {
      offsets: Math.max(1, Math.floor(s.segmentIndexBytes / OFFSET_ENTRY_SIZE)),
      times: Math.max(1, Math.floor(s.segmentIndexBytes / TIME_ENTRY_SIZE)),
    };
  }

  /** Fresh in-memory indexes (new segment, or before a rebuild). */
  resetIndexes(s: IndexSettings): void {
    const max = LogSegment.maxIndexEntries(s);
    this.index = new OffsetIndex(this.baseOffset, max.offsets);
    this.timeIndex = new TimeIndex(this.baseOffset, max.times);
    // Unknown file contents: the next persist rewrites both files whole.
    this.#indexFileEntries = -1;
    this.#timeFileEntries = -1;
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.firstBatchTimestamp = -1;
    this.bytesSinceIndexEntry = 0;
  }

  isIndexFull(): boolean {
    return this.index !== null && (this.index.isFull() || this.timeIndex!.isFull());
  }

  /**
   * Accounts a batch placed at `this.size` (append or index rebuild): offset index entry every
   * index.interval.bytes (as Kafka, the entry goes to the first batch after the interval passed),
   * time index entry when the max timestamp grew.
   */
  track(baseOffset: number, lastOffset: number, maxTimestamp: number, size: number, indexIntervalBytes: number): void {
    const position = this.size;
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = baseOffset;
    }
    if (this.firstBatchTimestamp < 0 && position === 0) this.firstBatchTimestamp = maxTimestamp;
    if (this.bytesSinceIndexEntry > indexIntervalBytes) {
      this.index!.append(baseOffset, position);
      this.timeIndex!.maybeAppend(this.maxTimestamp, baseOffset);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += size;
    this.size = position + size;
    this.nextOffset = lastOffset + 1;
  }

  /** No more appends: the last time-index entry gets the segment's max timestamp. */
  seal(): void {
    this.sealed = true;
    if (this.timeIndex !== null && this.maxTimestamp >= 0) {
      this.timeIndex.maybeAppend(this.maxTimestamp, Math.max(this.offsetOfMaxTimestamp, this.timeIndex.lastOffset()));
    }
  }

  /** Loads (or rebuilds) the indexes of a segment opened without a scan. Idempotent. */
  ensureIndexes(fs: FileSystem, s: IndexSettings): Promise<void> {
    if (this.index !== null) return Promise.resolve();
    this.#loading ??= this.#load(fs, s).finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #load(fs: FileSystem, s: IndexSettings): Promise<void> {
    const max = LogSegment.maxIndexEntries(s);
    const [offData, timeData] = await Promise.all([readOrNull(fs, indexFile(this.dir, this.baseOffset)), readOrNull(fs, timeIndexFile(this.dir, this.baseOffset))]);
    if (this.index !== null) return;
    const off = offData === null ? null : OffsetIndex.decode(this.baseOffset, max.offsets, offData, this.writtenSize);
    const time = timeData === null ? null : TimeIndex.decode(this.baseOffset, max.times, timeData);
    if (off === null || time === null || (time.count > 0 && time.lastOffset() >= this.nextOffset)) {
      await this.rebuildIndexes(s);
      return;
    }
    this.index = off;
    this.timeIndex = time;
    this.#indexFileEntries = off.count;
    this.#timeFileEntries = time.count;
    this.maxTimestamp = time.lastTimestamp();
    this.offsetOfMaxTimestamp = time.lastOffset();
  }

  /** Rebuilds both indexes from the log file (they will be rewritten at the next persist). */
  async rebuildIndexes(s: IndexSettings): Promise<void> {
    const end = this.writtenSize;
    this.resetIndexes(s);
    this.size = 0;
    if (this.handle !== null && end > 0) {
      await scanBatches(this.handle, 0, end, (buf, pos, size) => {
        this.track(baseOffsetAt(buf, pos), lastOffsetAt(buf, pos), maxTimestampAt(buf, pos), size, s.indexIntervalBytes);
      }, { validate: false });
    }
    this.size = end;
    if (this.sealed) this.seal();
  }

  /** Writes index entries not yet on disk, trims the files to the in-memory entries, fdatasyncs them. */
  async persistIndexes(fs: FileSystem): Promise<void> {
    if (this.txnIndex.dirty) await this.txnIndex.persist(fs, this.txnIndexPath);
    const idx = this.index;
    const time = this.timeIndex;
    if (idx === null || time === null) return;
    if (idx.persisted !== idx.count || this.#indexFileEntries !== idx.count) {
      const count = idx.count;
      await writeEntries(fs, indexFile(this.dir, this.baseOffset), idx, count, OFFSET_ENTRY_SIZE);
      this.#indexFileEntries = count;
    }
    if (time.persisted !== time.count || this.#timeFileEntries !== time.count) {
      const count = time.count;
      await writeEntries(fs, timeIndexFile(this.dir, this.baseOffset), time, count, TIME_ENTRY_SIZE);
      this.#timeFileEntries = count;
    }
  }

  /** Drops index entries for data at or after `position` / `offset` (log truncation). */
  truncateIndexes(position: number, offset: number): void {
    this.txnIndex.truncateTo(offset);
    this.index?.truncateToPosition(position);
    this.index?.truncateToOffset(offset);
    this.timeIndex?.truncateToOffset(offset);
    if (this.timeIndex !== null) {
      // As Kafka's LogSegment.truncateTo: the max timestamp falls back to the last time-index entry.
      this.maxTimestamp = this.timeIndex.lastTimestamp();
      this.offsetOfMaxTimestamp = this.timeIndex.lastOffset();
    }
    this.bytesSinceIndexEntry = 0;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (h !== null) await h.close();
  }
}

async function readOrNull(fs: FileSystem, path: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(path);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return null;
    throw err;
  }
}

interface EntryFile {
  persisted: number;
  encode(from: number, to: number): Buffer;
}

/** Appends entries [persisted, count) to an index file (rewriting it whole when it is not as expected). */
async function writeEntries(fs: FileSystem, path: string, idx: EntryFile, count: number, entrySize: number): Promise<void> {
  const exists = (await fs.stat(path)) !== null;
  const h = await fs.open(path, exists ? 'r+' : 'w+');
  try {
    let from = Math.min(idx.persisted, count);
    if ((await h.size()) < from * entrySize) from = 0;
    const data = idx.encode(from, count);
    if (data.length > 0) await h.writev([data], from * entrySize);
    await h.truncate(count * entrySize);
    await h.datasync();
    idx.persisted = count;
  } finally {
    await h.close();
  }
}
