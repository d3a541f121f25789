// Producer state of every local partition of a client topic: loaded from the latest snapshot plus
// a replay of the batches after it (so de-duplication and the LSO survive a restart, clean or
// kill -9), kept current by the produce path and the marker writer, and snapshotted when a segment
// rolls and at shutdown. Internal topics have none: clients cannot write them, and the coordinators
// that do keep their own state.
//
// Invariant: a state is only used while it describes exactly the log's batches, i.e. while its
// `appliedEnd` equals the log end offset. Every append to a client partition goes through the
// produce path or the marker writer, which move both together; a mismatch means the log was
// truncated under us (a failed write is rolled back to the high watermark) and the state is rebuilt
// from disk before the partition takes writes again (the produce path answers
// NOT_LEADER_OR_FOLLOWER meanwhile, which clients retry).
//
// Aborted transactions are kept by storage, in the txn index of the segment holding each ABORT
// marker (src/storage/txn-index.ts): the marker writer and the replay hand the entries over
// (PartitionLog.addAbortedTxn). After a crash storage empties the txn indexes of the segments it
// re-scanned; the replay then starts from a snapshot at or below `log.txnIndexRebuildFrom`, so every
// marker there re-creates its entry (adding is idempotent per marker offset).
import { INTERNAL_TOPICS } from '../config/topic-name.ts';
import { ControlType, controlTypeOf, coordinatorEpochOf } from '../protocol/records.ts';
import { buildRecordBatch, decodeRecords, PRODUCER_ID } from '../protocol/record-batch.ts';
import { endTxnMarkerRecord } from '../protocol/records.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { applyAppended, batchInfoAt, isControlAt } from './produce-check.ts';
import { PartitionProducerState, type AbortedTxn } from './producer-state.ts';
import { decodeProducerSnapshot, encodeProducerSnapshot } from './producer-snapshot.ts';

interface Tracked {
  state: PartitionProducerState;
  appliedEnd: number;
  /** Active segment base when the last snapshot was taken (a roll triggers the next one). */
  snapshotSegment: number;
  snapshotOffset: number;
  writing: Promise<void>;
}

export interface ProducerStatesOptions {
  log(line: string): void;
  now(): number;
}

/** Applies one batch read back from the log (recovery replay); an abort that ends a transaction goes to `onAbort`. */
export function replayBatch(state: PartitionProducerState, batch: Buffer, onAbort?: (entry: AbortedTxn) => void): void {
  if (batch.readInt32BE(PRODUCER_ID) < 0) return;
  const info = batchInfoAt(batch, 0);
  const base = Number(batch.readBigInt64BE(0));
  if (!isControlAt(batch, 0)) {
    state.applyData(info, base);
    return;
  }
  for (const r of decodeRecords(batch)) {
    const type = controlTypeOf(r.key);
    if (type === ControlType.Commit || type === ControlType.Abort) {
      const entry = state.applyMarker(info.producerId, info.epoch, type === ControlType.Commit, coordinatorEpochOf(r.value), r.offset, r.timestamp);
      if (entry !== null) onAbort?.(entry);
    }
  }
}

export class ProducerStates {
  readonly #tracked = new WeakMap<PartitionLog, Tracked>();
  readonly #loading = new WeakMap<PartitionLog, Promise<void>>();
  readonly #opts: ProducerStatesOptions;

  constructor(opts: ProducerStatesOptions) {
    this.#opts = opts;
  }

  static tracks(log: PartitionLog): boolean {
    return !INTERNAL_TOPICS.has(log.topic);
  }

  /** Loads the state of every log (startup, before the broker takes requests). */
  async loadAll(logs: readonly PartitionLog[], concurrency = 8): Promise<void> {
    // Internal topics hold markers (__consumer_offsets) but no aborted-transaction entries: nothing to rebuild.
    for (const log of logs) if (!ProducerStates.tracks(log)) log.txnIndexRebuilt(0);
    const queue = logs.filter((l) => ProducerStates.tracks(l) && !l.isOffline);
    for (const log of queue) this.#bindCleaner(log);
    const worker = async () => {
      for (let log = queue.shift(); log !== undefined; log = queue.shift()) {
        await this.#load(log).catch((err) => this.#opts.log(`producer state of ${log!.topic}-${log!.partition} not loaded: ${(err as Error).message}`));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /**
   * The state to check and update an append against, or null while it is being (re)built. A new,
   * empty log gets an empty state at once.
   */
  stateFor(log: PartitionLog): PartitionProducerState | null {
    const t = this.#tracked.get(log);
    if (t !== undefined && t.appliedEnd === log.logEndOffset) return t.state;
    if (t === undefined && log.logEndOffset === 0 && log.snapshots.offsets.length === 0) {
      const fresh: Tracked = { state: new PartitionProducerState(), appliedEnd: 0, snapshotSegment: log.active.baseOffset, snapshotOffset: -1, writing: Promise.resolve() };
      this.#tracked.set(log, fresh);
      this.#bindCleaner(log);
      return fresh.state;
    }
    if (!this.#loading.has(log)) {
      // The stale state stays for readers (LSO, aborted index) until the rebuilt one replaces it.
      if (t !== undefined) this.#opts.log(`producer state of ${log.topic}-${log.partition} is at ${t.appliedEnd} but the log ends at ${log.logEndOffset}: rebuilding`);
      void this.#load(log).catch((err) => this.#opts.log(`producer state of ${log.topic}-${log.partition} not rebuilt: ${(err as Error).message}`));
    }
    return null;
  }

  /** The state if it is current, without starting a load (reads: LSO, aborted index, DescribeProducers). */
  peek(log: PartitionLog): PartitionProducerState | null {
    const t = this.#tracked.get(log);
    return t !== undefined && t.appliedEnd === log.logEndOffset ? t.state : null;
  }

  /** After `log.append(records)` for a partition whose state `stateFor` returned. */
  afterAppend(log: PartitionLog, records: Buffer, hasProducers: boolean): void {
    const t = this.#tracked.get(log)!;
    if (hasProducers) applyAppended(t.state, records);
    t.appliedEnd = log.logEndOffset;
    if (log.active.baseOffset !== t.snapshotSegment) {
      t.snapshotSegment = log.active.baseOffset;
      this.#snapshot(log, t);
    }
  }

  /**
   * Appends a transaction marker (a control batch, KIP-98) for `producerId` and records it. Throws
   * when the state is not ready (the caller retries later) or the log refuses the append.
   */
  appendMarker(log: PartitionLog, m: { producerId: bigint; producerEpoch: number; commit: boolean; coordinatorEpoch: number; leaderEpoch: number; sync: boolean }): Promise<void> {
    const state = this.stateFor(log);
    if (state === null) return Promise.reject(new Error(`producer state of ${log.topic}-${log.partition} is loading`));
    const now = this.#opts.now();
    const batch = buildRecordBatch({
      records: [endTxnMarkerRecord(m.commit, m.coordinatorEpoch, now)],
      producerId: m.producerId,
      producerEpoch: m.producerEpoch,
      baseSequence: -1,
      transactional: true,
      control: true,
      baseTimestamp: now,
    });
    const { baseOffset, done } = log.append(batch, { leaderEpoch: m.leaderEpoch, sync: m.sync });
    const aborted = state.applyMarker(m.producerId, m.producerEpoch, m.commit, m.coordinatorEpoch, baseOffset, now);
    if (aborted !== null) log.addAbortedTxn(aborted);
    this.afterAppend(log, batch, false);
    return done;
  }

  /** Last stable offset for read_committed: the high watermark when no transaction is open. */
  lastStableOffset(log: PartitionLog): number {
    const s = this.peek(log);
    return s === null ? this.#fallbackLso(log) : s.lastStableOffset(log.highWatermark);
  }

  /** While a state is rebuilt, nothing above its last known LSO is exposed. */
  #fallbackLso(log: PartitionLog): number {
    const t = this.#tracked.get(log);
    if (t === undefined) return ProducerStates.tracks(log) ? log.logStartOffset : log.highWatermark;
    return Math.min(t.state.lastStableOffset(log.highWatermark), log.highWatermark);
  }

  /**
   * Aborted transactions a read_committed fetch of [fetchOffset, upperBound) must skip, from the
   * log's txn indexes (kept for callers of the old API; Fetch asks the log directly).
   */
  abortedIn(log: PartitionLog, fetchOffset: number, upperBound: number): AbortedTxn[] {
    return log.abortedTxns(fetchOffset, upperBound);
  }

  /** Drops producers idle for longer than `expirationMs` (producer.id.expiration.ms) in every given log. */
  expire(logs: readonly PartitionLog[], expirationMs: number): number {
    const cutoff = this.#opts.now() - expirationMs;
    let n = 0;
    for (const log of logs) {
      const s = this.peek(log);
      if (s === null) continue;
      n += s.expire(cutoff);
    }
    return n;
  }

  /** Writes a snapshot of every current state not yet saved at its offset (clean shutdown). */
  async snapshotAll(logs: readonly PartitionLog[]): Promise<void> {
    await Promise.all(logs.map(async (log) => {
      const t = this.#tracked.get(log);
      if (t === undefined) return;
      if (!log.isOffline && t.appliedEnd === log.logEndOffset && t.snapshotOffset !== t.appliedEnd) this.#snapshot(log, t);
      // Also lets a snapshot started by a roll finish before the log closes.
      await t.writing;
    }));
  }

  #snapshot(log: PartitionLog, t: Tracked): void {
    const offset = t.appliedEnd;
    const bytes = encodeProducerSnapshot(t.state);
    t.snapshotOffset = offset;
    // A snapshot past the data that survives a crash is deleted by recovery (snapshots above the
    // recovered log end offset), so it may be written before the batches below it are.
    t.writing = t.writing
      .then(() => log.writeProducerSnapshot(offset, bytes))
      .catch((err) => this.#opts.log(`producer snapshot of ${log.topic}-${log.partition} at ${offset} failed: ${(err as Error).message}`));
  }

  // [storage hooks] Compaction stops at the last stable offset and keeps each producer's last data
  // batch (src/storage/cleaner.ts).
  #bindCleaner(log: PartitionLog): void {
    log.cleanableUpperBound = () => this.lastStableOffset(log);
    log.producerLastOffsets = () => {
      const s = this.peek(log);
      if (s === null) return null;
      const last = new Map<bigint, number>();
      for (const [id, e] of s.producers) if (e.batches.length > 0) last.set(id, e.batches[e.batches.length - 1].lastOffset);
      return last;
    };
  }

  #load(log: PartitionLog): Promise<void> {
    this.#bindCleaner(log);
    const running = this.#loading.get(log);
    if (running !== undefined) return running;
    const p = this.#rebuild(log).finally(() => this.#loading.delete(log));
    this.#loading.set(log, p);
    return p;
  }

  async #rebuild(log: PartitionLog): Promise<void> {
    // Everything assigned must be in the files before replaying them.
    await log.flush();
    const end = log.logEndOffset;
    let state: PartitionProducerState | null = null;
    let from = log.logStartOffset;
    let legacy: AbortedTxn[] = [];
    // After a crash the replay must cover every marker whose txn-index entry storage dropped.
    const snap = await log.latestProducerSnapshot(Math.min(end, log.txnIndexRebuildFrom));
    if (snap !== null) {
      try {
        const decoded = decodeProducerSnapshot(snap.bytes);
        state = decoded.state;
        legacy = decoded.legacyAborted;
        from = Math.max(snap.offset, log.logStartOffset);
      } catch (err) {
        this.#opts.log(`producer snapshot ${snap.offset} of ${log.topic}-${log.partition} unreadable, replaying the log: ${(err as Error).message}`);
      }
    }
    state ??= new PartitionProducerState();
    // Upgrade from a version-1 snapshot: its aborted index moves into the txn indexes.
    for (const a of legacy) if (a.lastOffset < from) log.addAbortedTxn(a);
    await log.scanBatches(from, (batch) => replayBatch(state!, batch, (a) => log.addAbortedTxn(a)));
    if (log.logEndOffset !== end || log.highWatermark !== end) throw new Error(`${log.topic}-${log.partition} changed while its producer state was loading`);
    log.txnIndexRebuilt(from);
    this.#tracked.set(log, { state, appliedEnd: end, snapshotSegment: log.active.baseOffset, snapshotOffset: snap?.offset ?? -1, writing: Promise.resolve() });
    // Imported entries are written at once: a later snapshot (version 2) will not carry them again.
    if (legacy.length > 0) await log.persistTxnIndexes().catch((err) => this.#opts.log(`txn indexes of ${log.topic}-${log.partition} not written: ${(err as Error).message}`));
  }
}
