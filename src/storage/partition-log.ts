// One partition's log. State changes happen synchronously (offset assignment, segment roll, index
// entries) and the I/O follows through the append pipeline, so two appends can never interleave.
// Offsets: logStartOffset <= highWatermark <= logEndOffset. On a single node the high watermark is
// the end of the data written to the files (readable), logEndOffset the next offset to assign, and
// recoveryPoint the end of the data known durable (fdatasync'ed).

import { LAST_OFFSET_DELTA, LOG_OVERHEAD, MIN_BATCH_LENGTH, setLogAppendTime } from '../protocol/record-batch.ts';
import { maxTimestampAt, setBaseOffsetAt, setLeaderEpochAt, sizeAt } from './batch-header.ts';
import { AppendPipeline, type PipelineHost } from './append-pipeline.ts';
import type { Clock } from './clock.ts';
import { errnoOf, OffsetOutOfRangeError, StorageError, storageError } from './errors.ts';
import { LEADER_EPOCH_CHECKPOINT_FILE, join } from './file-names.ts';
import type { FileSystem } from './fs.ts';
import { EpochCheckpoint, type LeaderEpochCache } from './leader-epoch-cache.ts';
import type { LogConfig } from './log-config.ts';
import { LogHealth } from './log-health.ts';
import { EMPTY, findMaxTimestamp, findOffsetByTimestamp, forEachBatch, readBatches, segmentIndexFor, type ReadTarget, type TimestampOffset } from './log-read.ts';
import { deleteSegments, runRetention, SegmentRetirer, truncateLog } from './log-retention.ts';
import type { ProducerSnapshots } from './producer-snapshots.ts';
import { LogSegment } from './segment.ts';
import { collectAbortedTxns, type AbortedTxn } from './txn-index.ts';

const NO_REBUILD = Number.MAX_SAFE_INTEGER;

/** After ENOSPC the partition refuses appends for this long, then tries again. */
export const ENOSPC_RETRY_MS = 1000;

export interface PartitionLogInit {
  fs: FileSystem;
  clock: Clock;
  logDir: string;
  dir: string;
  topic: string;
  partition: number;
  topicId: string;
  config: LogConfig;
  /** Sorted by base offset, at least one; the last is the active segment. */
  segments: LogSegment[];
  logStartOffset: number;
  recoveryPoint: number;
  leaderEpochs: LeaderEpochCache;
  snapshots: ProducerSnapshots;
  /** Segments whose bytes may not be durable yet (recovered after a crash): the first sync covers them. */
  unsynced?: LogSegment[];
  /** See PartitionLog.txnIndexRebuildFrom; none by default. */
  txnIndexRebuildFrom?: number;
}

export type FailureListener = (log: PartitionLog, err: StorageError, permanent: boolean) => void;

export interface AppendOptions {
  leaderEpoch: number;
  /** Set: the topic uses LogAppendTime and this is the broker time to stamp. */
  logAppendTime?: number;
  /** Resolve `done` only after fdatasync (acks=all). */
  sync: boolean;
}

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  topicId: string;
  readonly fs: FileSystem;
  readonly clock: Clock;
  readonly logDir: string;
  readonly dir: string;
  config: LogConfig;
  segments: LogSegment[];
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  recoveryPoint: number;
  readonly leaderEpochs: LeaderEpochCache;
  readonly snapshots: ProducerSnapshots;
  /** Monotonic time of the last completed sync (flush.ms). */
  lastFlushMono: number;
  onFailure: FailureListener | null = null;
  /**
   * First offset compaction must not reach: the last stable offset (KIP-98), set by the transaction
   * layer (storage knows nothing of open transactions); the high watermark by default.
   */
  cleanableUpperBound: () => number = () => this.highWatermark;
  /**
   * Producer id → last offset of the producer's last data batch, which compaction keeps (empty if
   * need be) so the producer's sequence survives a replay; set by the transaction layer. null: the
   * cleaner finds them by scanning to the high watermark.
   */
  producerLastOffsets: () => ReadonlyMap<bigint, number> | null = () => null;
  /**
   * After a crash: the first control batch of the re-scanned segments, whose txn indexes were
   * emptied (their files are only trusted below the recovery point). The transaction layer replays
   * producer state from a snapshot at or below it, re-adding the entries (addAbortedTxn), then calls
   * txnIndexRebuilt. Until then the recovery point is not checkpointed past it, nor is the log
   * closed cleanly. Number.MAX_SAFE_INTEGER: nothing to rebuild.
   */
  txnIndexRebuildFrom: number;
  readonly retirer = new SegmentRetirer();
  readonly #pipeline: AppendPipeline;
  readonly #listeners = new Set<() => void>();
  readonly #epochCheckpoint: EpochCheckpoint;
  readonly #health = new LogHealth();
  /** The rollback after a failed write, while it runs. */
  #rollback: Promise<void> | null = null;
  #closed = false;
  #halted = false;
  #maintenance: Promise<unknown> = Promise.resolve();

  constructor(init: PartitionLogInit) {
    this.topic = init.topic;
    this.partition = init.partition;
    this.topicId = init.topicId;
    this.fs = init.fs;
    this.clock = init.clock;
    this.logDir = init.logDir;
    this.dir = init.dir;
    this.config = init.config;
    this.segments = init.segments;
    this.logStartOffset = init.logStartOffset;
    this.logEndOffset = this.active.nextOffset;
    this.highWatermark = this.logEndOffset;
    this.recoveryPoint = Math.min(init.recoveryPoint, this.logEndOffset);
    this.leaderEpochs = init.leaderEpochs;
    this.snapshots = init.snapshots;
    this.lastFlushMono = init.clock.monotonic();
    this.#epochCheckpoint = new EpochCheckpoint(init.fs, join(init.dir, LEADER_EPOCH_CHECKPOINT_FILE));
    this.#pipeline = new AppendPipeline(this.#host(), this.logEndOffset, init.unsynced ?? []);
    this.txnIndexRebuildFrom = init.txnIndexRebuildFrom ?? NO_REBUILD;
  }

  get active(): LogSegment {
    return this.segments[this.segments.length - 1];
  }

  get isOffline(): boolean {
    return this.#health.error !== null;
  }

  /**
   * Assigns offsets to the batches in `records` (patching base offset and leader epoch in place),
   * queues them and returns at once. `done` resolves when written (sync=false) or fdatasync'ed
   * (sync=true), and rejects with StorageError if the bytes could not be written.
   */
  append(records: Buffer, opts: AppendOptions): { baseOffset: number; lastOffset: number; done: Promise<void> } {
    this.#health.checkWritable(this.clock.monotonic());
    const n = records.length;
    for (let p = 0; p < n; ) {
      // The broker validated the batches; a malformed buffer here is a programming error.
      if (n - p < LOG_OVERHEAD + MIN_BATCH_LENGTH || records.readInt32BE(p + 8) < MIN_BATCH_LENGTH || p + sizeAt(records, p) > n) {
        throw new RangeError(`append: malformed batch at byte ${p}`);
      }
      p += sizeAt(records, p);
    }
    const baseOffset = this.logEndOffset;
    if (n === 0) return { baseOffset, lastOffset: baseOffset - 1, done: Promise.resolve() };
    if (opts.leaderEpoch > this.leaderEpochs.latestEpoch() && this.leaderEpochs.assign(opts.leaderEpoch, baseOffset)) {
      this.#persistEpochs();
    }
    const cfg = this.config;
    const now = this.clock.now();
    let next = baseOffset;
    let seg = this.active;
    let partStart = 0;
    let partMessages = 0;
    let pos = 0;
    while (pos < n) {
      const size = sizeAt(records, pos);
      setBaseOffsetAt(records, pos, next);
      setLeaderEpochAt(records, pos, opts.leaderEpoch);
      if (opts.logAppendTime !== undefined) setLogAppendTime(records, pos, opts.logAppendTime);
      const delta = records.readInt32BE(pos + LAST_OFFSET_DELTA);
      const maxTs = maxTimestampAt(records, pos);
      if (seg.shouldRoll(cfg, size, maxTs, next + delta, now)) {
        // Both parts join the same flight, so they share one `done`.
        if (pos > partStart) this.#pipeline.add(seg, seg.size - (pos - partStart), records.subarray(partStart, pos), next, partMessages, opts.sync);
        seg = this.#roll(next, now);
        partStart = pos;
        partMessages = 0;
      }
      seg.track(next, next + delta, maxTs, size, cfg.indexIntervalBytes);
      partMessages += delta + 1;
      next += delta + 1;
      pos += size;
    }
    this.logEndOffset = next;
    const done = this.#pipeline.add(seg, seg.size - (n - partStart), partStart === 0 ? records : records.subarray(partStart), next, partMessages, opts.sync);
    return { baseOffset, lastOffset: next - 1, done };
  }

  /**
   * Whole batches from the one holding `offset`, up to `maxBytes` (the first one whole even if larger
   * when `minOneBatch`), never reaching `maxOffset` nor the high watermark. With `buffer` (at least
   * maxBytes long) the bytes are read into it when they fit — the caller reuses it once done with the
   * result; otherwise each read allocates.
   */
  async read(offset: number, maxBytes: number, opts: { maxOffset: number; minOneBatch: boolean; buffer?: ReadTarget }): Promise<{ records: Buffer; outOfRange: boolean }> {
    return this.#query('read', async () => {
      if (offset < this.logStartOffset || offset > this.logEndOffset) return { records: EMPTY, outOfRange: true };
      const limit = Math.min(opts.maxOffset, this.highWatermark);
      if (offset >= limit) return { records: EMPTY, outOfRange: false };
      return { records: await readBatches(this, offset, maxBytes, limit, opts.minOneBatch, opts.buffer), outOfRange: false };
    });
  }

  /** ListOffsets by timestamp: first record with timestamp >= ts below the high watermark. */
  offsetForTimestamp(ts: number): Promise<TimestampOffset | null> {
    return this.#query('offsetForTimestamp', () => findOffsetByTimestamp(this, ts, this.logStartOffset, this.highWatermark));
  }

  /** ListOffsets MAX_TIMESTAMP (-3): {offset -1, timestamp -1} when the log holds no record. */
  maxTimestamp(): Promise<TimestampOffset> {
    return this.#query('maxTimestamp', () => findMaxTimestamp(this, this.logStartOffset, this.highWatermark));
  }

  /** Calls `cb` with each batch (a view valid during the call) from `fromOffset` to the high watermark. */
  scanBatches(fromOffset: number, cb: (batch: Buffer) => boolean | void): Promise<void> {
    return this.#query('scanBatches', () => forEachBatch(this, Math.max(fromOffset, this.logStartOffset), this.highWatermark, cb));
  }

  /**
   * DeleteRecords: moves the log start offset to `offset` (-1: the high watermark) and deletes the
   * segments wholly before it. Returns the new low watermark.
   */
  async deleteRecordsBefore(offset: number): Promise<number> {
    this.#health.checkWritable(this.clock.monotonic());
    const target = offset === -1 ? this.highWatermark : offset;
    if (target < 0 || target > this.highWatermark) {
      throw new OffsetOutOfRangeError(`DeleteRecords offset ${offset} outside [0, ${this.highWatermark}]`);
    }
    this.advanceLogStartOffset(target);
    await this.maintain(() => deleteSegments(this, this.segments.slice(0, -1).filter((s) => s.nextOffset <= this.logStartOffset)));
    return this.logStartOffset;
  }

  advanceLogStartOffset(offset: number): void {
    if (offset <= this.logStartOffset) return;
    this.logStartOffset = offset;
    if (this.leaderEpochs.truncateFromStart(offset)) this.#persistEpochs();
  }

  /** Retention (time, size, log start) for delete policies; returns the number of segments deleted. */
  deleteOldSegments(): Promise<number> {
    return this.maintain(() => runRetention(this));
  }

  /** Removes everything at or after `offset` (replication divergence, write-failure rollback). */
  async truncateTo(offset: number): Promise<void> {
    if (offset >= this.logEndOffset) return;
    await this.#pipeline.idle();
    await this.maintain(() => truncateLog(this, offset));
    if (this.leaderEpochs.truncateFromEnd(this.logEndOffset)) this.#persistEpochs();
    this.#pipeline.rewind(this.highWatermark);
  }

  /** Seals the active segment and starts a new one at the log end offset (retention of an expired active segment). */
  forceRoll(): LogSegment {
    return this.active.size === 0 ? this.active : this.#roll(this.logEndOffset, this.clock.now());
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
  }

  sizeInBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Everything appended so far becomes durable. */
  flush(): Promise<void> {
    return this.#pipeline.flushAll();
  }

  /** Starts a sync when flush.ms has passed with unsynced data (called by the manager's timer). */
  maybeFlushByTime(): void {
    if (this.isOffline || !this.#pipeline.hasUnsynced) return;
    if (this.clock.monotonic() - this.lastFlushMono >= this.config.flushMs) this.flush().catch(() => {});
  }

  /** Persists indexes of the segments wholly below the recovery point; returns what to checkpoint. */
  async checkpointState(): Promise<{ recoveryPoint: number; logStartOffset: number }> {
    const rp = Math.min(this.recoveryPoint, this.txnIndexRebuildFrom);
    if (!this.#health.permanent) {
      for (const seg of this.segments.slice()) {
        if (seg.deleted) continue;
        if (seg.sealed && seg.nextOffset <= rp) await seg.persistIndexes(this.fs);
        // Recovery trusts the txn index of every segment before the one holding the recovery
        // point, including a still-active one ending exactly there (unlike the other indexes, it
        // cannot be rebuilt from the segment).
        else if (seg.baseOffset < rp && seg.txnIndex.dirty) await seg.txnIndex.persist(this.fs, seg.txnIndexPath);
      }
    }
    return { recoveryPoint: rp, logStartOffset: this.logStartOffset };
  }

  writeProducerSnapshot(offset: number, bytes: Buffer): Promise<void> {
    return this.snapshots.write(offset, bytes);
  }

  /** The newest producer snapshot at or below `atOrBelow` (default: any). */
  latestProducerSnapshot(atOrBelow = Number.MAX_SAFE_INTEGER): Promise<{ offset: number; bytes: Buffer } | null> {
    return this.snapshots.latest(atOrBelow);
  }

  /**
   * Records an aborted transaction (KIP-98) in the txn index of the segment holding its ABORT
   * marker. Idempotent per marker offset; entries below the log start are not kept.
   */
  addAbortedTxn(entry: AbortedTxn): void {
    if (entry.lastOffset < this.logStartOffset || entry.lastOffset >= this.logEndOffset) return;
    this.segments[segmentIndexFor(this.segments, entry.lastOffset)].txnIndex.add(entry);
  }

  /** Aborted transactions a read_committed fetch of [fetchOffset, upperBound) returns (collectAbortedTxns). */
  abortedTxns(fetchOffset: number, upperBound: number): AbortedTxn[] {
    const segs = this.segments;
    return collectAbortedTxns(segs.slice(segmentIndexFor(segs, fetchOffset)).map((s) => s.txnIndex), fetchOffset, upperBound);
  }

  /** The transaction layer re-added the entries of every marker from `from` on (see txnIndexRebuildFrom). */
  txnIndexRebuilt(from: number): void {
    // Markers below the log start need no entries.
    if (from <= Math.max(this.txnIndexRebuildFrom, this.logStartOffset)) this.txnIndexRebuildFrom = NO_REBUILD;
  }

  /** Writes every txn index with entries not yet in its file. */
  persistTxnIndexes(): Promise<void> {
    return this.maintain(async () => {
      for (const seg of this.segments.slice()) {
        if (!seg.deleted && seg.txnIndex.dirty) await seg.txnIndex.persist(this.fs, seg.txnIndexPath);
      }
    });
  }

  /** OffsetForLeaderEpoch (KIP-101). */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.leaderEpochs.endOffsetFor(epoch, this.logEndOffset);
  }

  /** Runs `job` after earlier maintenance (retention, compaction, truncation) of this log. */
  maintain<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#maintenance.then(job, job);
    this.#maintenance = run.catch(() => {});
    return run;
  }

  /** Flush, persist indexes and close files. The log is unusable afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    let failure: unknown = null;
    if (!this.isOffline) {
      try {
        await this.#pipeline.flushAll();
        await this.#maintenance;
        await this.#epochCheckpoint.pending;
        if (this.active.handle === null) await this.#openSegment(this.active);
        await this.fs.syncDir(this.dir);
        for (const seg of this.segments) await seg.persistIndexes(this.fs);
        this.recoveryPoint = this.logEndOffset;
      } catch (err) {
        failure = err;
      }
    }
    // A failed write rolls the log back in the background: it must finish before the files close.
    await this.#rollback;
    await this.#maintenance;
    this.#closed = true;
    this.#health.stop(new StorageError(`${this.topic}-${this.partition} is closed`, 'OFFLINE'));
    await this.retirer.finishAll();
    for (const seg of this.segments) await seg.close().catch(() => {});
    if (failure !== null) throw failure;
    // Not a clean close: the next start must re-scan and rebuild those txn indexes.
    if (this.txnIndexRebuildFrom !== NO_REBUILD) throw new StorageError(`${this.topic}-${this.partition}: txn indexes from ${this.txnIndexRebuildFrom} were not rebuilt`, 'OFFLINE');
  }

  /** Stops all activity without I/O (simulated kill, or log dir taken offline). */
  halt(err: StorageError = new StorageError(`${this.topic}-${this.partition} halted`, 'OFFLINE')): void {
    this.#health.error = err;
    this.#health.stop(err);
    this.#halted = true;
    this.#pipeline.abort(err);
    this.retirer.cancelAll();
  }

  // --- internals ---------------------------------------------------------------------------------

  #roll(baseOffset: number, now: number): LogSegment {
    const old = this.active;
    old.seal();
    const seg = LogSegment.create(this.dir, baseOffset, now, this.config);
    this.segments.push(seg);
    // Kafka flushes the rolled segment in the background; its indexes follow at the next checkpoint.
    this.flush().catch(() => {});
    return seg;
  }

  async #openSegment(seg: LogSegment): Promise<void> {
    seg.handle = await this.fs.open(seg.logPath, 'w+');
    seg.dirSynced = false;
  }

  #persistEpochs(): void {
    this.#epochCheckpoint.persist(this.leaderEpochs, (err) => this.#fail(storageError('leader-epoch-checkpoint', err), true));
  }

  #host(): PipelineHost {
    return {
      fs: this.fs,
      name: `${this.topic}-${this.partition}`,
      openSegment: (seg) => this.#openSegment(seg),
      written: (end) => {
        this.highWatermark = end;
        for (const l of this.#listeners) {
          try {
            l();
          } catch {} // a listener's failure is its own business
        }
      },
      synced: (end) => {
        if (end > this.recoveryPoint) this.recoveryPoint = end;
        this.lastFlushMono = this.clock.monotonic();
      },
      failed: (err, during) => {
        const code = errnoOf(err);
        const permanent = during === 'sync' || (code !== 'ENOSPC' && code !== 'EDQUOT');
        this.#fail(storageError(`${this.topic}-${this.partition} ${during}`, err), permanent);
      },
      beforeSync: () => this.#epochCheckpoint.pending ?? undefined,
      flushMessages: () => this.config.flushMessages,
    };
  }

  #fail(err: StorageError, permanent: boolean): void {
    if (!this.#health.fail(err, permanent)) return;
    this.#pipeline.abort(err);
    // Take back what was assigned but not written: nothing after the high watermark is acknowledged.
    this.#rollback = this.#pipeline.idle()
      .then(() => (this.#closed || this.#halted ? undefined : this.maintain(() => truncateLog(this, this.highWatermark))))
      .then(() => {
        if (this.leaderEpochs.truncateFromEnd(this.logEndOffset)) this.#persistEpochs();
        if (!this.#health.permanent) {
          this.#pipeline.reset(this.highWatermark);
          this.#health.retryFrom(this.clock.monotonic() + ENOSPC_RETRY_MS);
        }
      })
      .catch(() => {
        this.#health.permanent = true;
      })
      .finally(() => {
        this.#rollback = null;
      });
    this.onFailure?.(this, err, permanent);
  }

  async #query<T>(what: string, run: () => Promise<T>): Promise<T> {
    this.#health.checkReadable();
    try {
      return await run();
    } catch (err) {
      if (errnoOf(err) !== 'EBADF' || err instanceof StorageError) throw this.#ioFailure(what, err);
    }
    // A segment was deleted or replaced (retention, compaction) during the read: again, on the new list.
    try {
      return await run();
    } catch (err) {
      throw this.#ioFailure(what, err);
    }
  }

  #ioFailure(what: string, err: unknown): StorageError {
    const se = storageError(`${this.topic}-${this.partition} ${what}`, err);
    if (!(err instanceof StorageError)) this.#fail(se, true);
    return se;
  }
}
