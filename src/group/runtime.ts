// Binds one GroupShard to its __consumer_offsets partition (Kafka's CoordinatorRuntime, reduced):
//  - load: replay the partition from its log start to the high watermark, then start timers;
//  - write: run an operation synchronously, replay its records at once (so the next operation sees
//    them), append them as one batch, and send the answers only when the batch is durable
//    (acks=all: fdatasync'ed, and in a cluster replicated);
//  - a failed append makes the shard untrustworthy (its state is ahead of the log): answers of
//    unwritten operations fail with COORDINATOR_NOT_AVAILABLE, and the runtime is dropped so the
//    next request reloads the shard from the log — the log is the truth.
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { buildRecordBatch, decodeRecords, isControlBatch, isTransactionalBatch } from '../protocol/record-batch.ts';
import { forEachLoadedBatch, unavailableIn, type LoadableLog, type RuntimeState } from './led-partitions.ts';
import { decodeRecord, encodeRecord } from './records.ts';
import type { Result } from './result.ts';
import { GroupShard, type ShardEnv } from './shard.ts';
import { replayTransactionalBatch, txnMarkerBatch, txnOffsetBatch, type TxnOffsetGuard } from './txn-offsets.ts'; // transactions (issue 6)
import type { CoordinatorTimer, TimerOp } from './timer.ts';

/** What the runtime needs of a partition log (PartitionLog provides it). */
export interface CoordinatorLog extends LoadableLog {
  append(records: Buffer, opts: { leaderEpoch: number; sync: boolean }): { baseOffset: number; done: Promise<void> };
}

/** setTimeout-based timers whose expiry goes through the runtime's write path. */
class RuntimeTimer implements CoordinatorTimer {
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #fire: (op: TimerOp) => void;

  constructor(fire: (op: TimerOp) => void) {
    this.#fire = fire;
  }

  now(): number {
    return Date.now();
  }

  schedule(key: string, delayMs: number, op: TimerOp): void {
    this.cancel(key);
    const t = setTimeout(() => {
      this.#timers.delete(key);
      this.#fire(op);
    }, Math.max(0, delayMs));
    t.unref();
    this.#timers.set(key, t);
  }

  cancel(key: string): void {
    const t = this.#timers.get(key);
    if (t !== undefined) clearTimeout(t);
    this.#timers.delete(key);
  }

  has(key: string): boolean {
    return this.#timers.has(key);
  }

  clear(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}

export class ShardRuntime {
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly shard: GroupShard;
  state: RuntimeState = 'loading';
  readonly loaded: Promise<void>;
  readonly #log: CoordinatorLog;
  readonly #sync: boolean;
  readonly #timer: RuntimeTimer;
  readonly #onFailure: (rt: ShardRuntime) => void;
  readonly #report: (line: string) => void;
  #inFlight = 0;

  constructor(opts: {
    partition: number;
    leaderEpoch: number;
    log: CoordinatorLog;
    sync: boolean;
    env: Omit<ShardEnv, 'timer'>;
    onFailure: (rt: ShardRuntime) => void;
    /** Settles once a previous, failed runtime of this partition has no append in flight. */
    after?: Promise<void>;
  }) {
    this.partition = opts.partition;
    this.leaderEpoch = opts.leaderEpoch;
    this.#log = opts.log;
    this.#sync = opts.sync;
    this.#onFailure = opts.onFailure;
    this.#report = opts.env.log;
    this.#timer = new RuntimeTimer((op) => this.#runTimer(op));
    this.shard = new GroupShard(opts.partition, { ...opts.env, timer: this.#timer });
    this.loaded = this.#load(opts.after);
    this.loaded.catch(() => {});
  }

  async #load(after: Promise<void> | undefined): Promise<void> {
    // Appends of a failed predecessor still in flight would land after our read and be missed.
    if (after !== undefined) await after;
    const started = Date.now();
    let count = 0;
    try {
      await forEachLoadedBatch(this.#log, () => this.state === 'loading', (records, pos, size) => {
        // Transaction markers and transactional offset commits (issue 6): see txn-offsets.ts.
        if (isControlBatch(records, pos) || isTransactionalBatch(records, pos)) {
          replayTransactionalBatch(this.shard, this.shard.txnOffsets, records.subarray(pos, pos + size));
          return;
        }
        for (const rec of decodeRecords(records.subarray(pos, pos + size))) {
          if (rec.key === null) continue;
          const r = decodeRecord(rec.key, rec.value);
          if (r !== null) {
            this.shard.replay(r);
            count++;
          }
        }
      });
    } catch (err) {
      this.state = 'failed';
      this.#report(`group coordinator: loading __consumer_offsets-${this.partition} failed: ${(err as Error).message}`);
      this.#onFailure(this);
      throw err;
    }
    if (this.state !== 'loading') return;
    this.shard.onLoaded();
    this.state = 'active';
    if (count > 0) this.#report(`group coordinator: loaded __consumer_offsets-${this.partition} (${count} records, ${this.shard.groups.size} groups) in ${Date.now() - started} ms`);
  }

  /** The error a request gets while this runtime cannot serve it. */
  unavailable(): KafkaError | null {
    return unavailableIn(this.state);
  }

  /** Runs a read-only operation against the current state. */
  read<T>(op: (shard: GroupShard) => T): T {
    const err = this.unavailable();
    if (err !== null) throw err;
    return op(this.shard);
  }

  /**
   * Runs an operation and resolves with its response once its records are durable. Rejects with
   * a KafkaError when the coordinator is not serving or the append failed.
   */
  write<T>(op: (shard: GroupShard) => Result<T>): Promise<T> {
    const err = this.unavailable();
    if (err !== null) return Promise.reject(err);
    return this.#commit(op(this.shard));
  }

  #runTimer(op: TimerOp): void {
    if (this.state !== 'active') return;
    let r: Result<unknown>;
    try {
      r = op();
    } catch (err) {
      this.#report(`group coordinator: timer on __consumer_offsets-${this.partition} failed: ${(err as Error).stack ?? err}`);
      return;
    }
    this.#commit(r).catch(() => {});
  }

  #commit<T>(r: Result<T>): Promise<T> {
    for (const rec of r.records) this.shard.replay(rec);
    if (r.records.length === 0) {
      for (const d of r.deliveries) d.send();
      return Promise.resolve(r.response);
    }
    const now = Date.now();
    const batch = buildRecordBatch({
      records: r.records.map((rec) => ({ ...encodeRecord(rec), timestamp: now })),
      baseTimestamp: now,
    });
    return this.#append(batch).then(
      () => {
        for (const d of r.deliveries) d.send();
        return r.response;
      },
      (err: unknown) => {
        for (const d of r.deliveries) d.fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
        throw err;
      },
    );
  }

  // --- transactions (issue 6, added by the transactions helper): see txn-offsets.ts -------------

  /**
   * TxnOffsetCommit: the records go in a transactional batch and stay pending until the marker.
   * `guard` (KIP-890) is the verification the transaction coordinator's answer was given under:
   * checked in the same synchronous turn as the append, so no marker can slip in between; a guard
   * of another shard (the partition was reloaded) → NOT_COORDINATOR, a stale one →
   * INVALID_TXN_STATE (Kafka's UnifiedLog refusal). Null only where no coordinator is asked (tests).
   */
  writeTransactional<T>(producerId: bigint, producerEpoch: number, op: (shard: GroupShard) => Result<T>, guard: TxnOffsetGuard | null = null): Promise<T> {
    const err = this.unavailable();
    if (err !== null) return Promise.reject(err);
    const r = op(this.shard);
    if (r.records.length === 0) return Promise.resolve(r.response);
    if (guard !== null) {
      if (guard.shard !== this.shard) return Promise.reject(new KafkaError(ErrorCode.NOT_COORDINATOR, `__consumer_offsets-${this.partition} was reloaded during the verification`));
      const code = this.shard.txnOffsets.guardError(producerId, guard);
      if (code !== ErrorCode.NONE) return Promise.reject(new KafkaError(code, `a marker of producer ${producerId} reached __consumer_offsets-${this.partition} after its verification`));
    }
    for (const rec of r.records) this.shard.txnOffsets.add(producerId, rec);
    return this.#append(txnOffsetBatch(r.records, producerId, producerEpoch, Date.now())).then(() => r.response);
  }

  /** Takes the producer's verification guard in this shard (KIP-890): see txn-offsets.ts. */
  startTxnVerification(producerId: bigint): TxnOffsetGuard {
    const err = this.unavailable();
    if (err !== null) throw err;
    return this.shard.txnOffsets.startVerification(producerId, this.shard, Date.now());
  }

  /** A transaction marker: its decision applies to the pending commits at once (and ends the producer's guard); resolves once durable. */
  writeMarker(producerId: bigint, producerEpoch: number, commit: boolean, coordinatorEpoch: number): Promise<void> {
    const err = this.unavailable();
    if (err !== null) return Promise.reject(err);
    this.shard.txnOffsets.complete(producerId, commit, (rec) => this.shard.replay(rec));
    return this.#append(txnMarkerBatch(producerId, producerEpoch, commit, coordinatorEpoch, Date.now()));
  }

  /**
   * Appends one batch and resolves once it is as durable as the runtime asks; on failure the shard
   * is failed (and reloaded later) and the promise rejects with COORDINATOR_NOT_AVAILABLE.
   */
  #append(batch: Buffer): Promise<void> {
    let done: Promise<void>;
    try {
      done = this.#log.append(batch, { leaderEpoch: this.leaderEpoch, sync: this.#sync }).done;
    } catch (err) {
      done = Promise.reject(err);
    }
    this.#inFlight++;
    return done.then(
      () => {
        this.#inFlight--;
      },
      (err: unknown) => {
        this.#inFlight--;
        this.#fail(err);
        throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `writing __consumer_offsets-${this.partition} failed`, { cause: err });
      },
    );
  }

  #fail(err: unknown): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.#report(`group coordinator: append to __consumer_offsets-${this.partition} failed, reloading: ${(err as Error).message ?? err}`);
    this.state = 'failed';
    this.#shutdown(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    this.#onFailure(this);
  }

  #shutdown(errorCode: number): void {
    this.#timer.clear();
    for (const d of this.shard.unload()) d.fail(errorCode);
  }

  /** This node no longer leads the partition (or stops): parked requests are sent elsewhere. */
  close(): void {
    if (this.state === 'closed') return;
    const wasFailed = this.state === 'failed';
    this.state = 'closed';
    if (!wasFailed) this.#shutdown(ErrorCode.NOT_COORDINATOR);
  }

  /** Appends not yet durable (tests, shutdown). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves once every append made so far has succeeded or failed. */
  async drained(): Promise<void> {
    while (this.#inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
