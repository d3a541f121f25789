// Binds one TxnShard to its __transaction_state partition (Kafka's TransactionStateManager, reduced):
//  - load: replay the partition from its log start to the high watermark;
//  - write: mark the id pending, append its record, and replay it once durable (acks=all), so the
//    state only ever shows what the log holds; a failed append leaves the state as it was, and the
//    runtime is dropped so the next request reloads from the log.
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { buildRecordBatch, decodeRecords, isControlBatch } from '../protocol/record-batch.ts';
import { forEachLoadedBatch, unavailableIn, type LoadableLog, type RuntimeState } from '../group/led-partitions.ts';
import { decodeTxnRecord, encodeTxnRecord, type TxnRecord } from './txn-metadata.ts';
import { TxnShard } from './txn-shard.ts';

/** What the runtime needs of a partition log (PartitionLog provides it). */
export interface TxnLog extends LoadableLog {
  append(records: Buffer, opts: { leaderEpoch: number; sync: boolean }): { baseOffset: number; done: Promise<void> };
}

export class TxnRuntime {
  readonly partition: number;
  /** The partition's leader epoch: the coordinator epoch written into markers. */
  readonly leaderEpoch: number;
  readonly shard: TxnShard;
  state: RuntimeState = 'loading';
  readonly loaded: Promise<void>;
  readonly #log: TxnLog;
  readonly #sync: boolean;
  readonly #report: (line: string) => void;
  readonly #onFailure: (rt: TxnRuntime) => void;

  constructor(opts: { partition: number; leaderEpoch: number; log: TxnLog; sync: boolean; report: (line: string) => void; onFailure: (rt: TxnRuntime) => void }) {
    this.partition = opts.partition;
    this.leaderEpoch = opts.leaderEpoch;
    this.#log = opts.log;
    this.#sync = opts.sync;
    this.#report = opts.report;
    this.#onFailure = opts.onFailure;
    this.shard = new TxnShard(opts.partition);
    this.loaded = this.#load();
    this.loaded.catch(() => {});
  }

  async #load(): Promise<void> {
    try {
      await forEachLoadedBatch(this.#log, () => this.state === 'loading', (records, pos, size) => {
        if (isControlBatch(records, pos)) return;
        for (const rec of decodeRecords(records.subarray(pos, pos + size))) {
          if (rec.key === null) continue;
          const r = decodeTxnRecord(rec.key, rec.value);
          if (r !== null) this.shard.replay(r);
        }
      });
    } catch (err) {
      this.state = 'failed';
      this.#report(`transaction coordinator: loading __transaction_state-${this.partition} failed: ${(err as Error).message}`);
      this.#onFailure(this);
      throw err;
    }
    if (this.state === 'loading') this.state = 'active';
  }

  unavailable(): KafkaError | null {
    return unavailableIn(this.state);
  }

  /** Appends the records and replays them once durable. Rejects with a KafkaError when that fails. */
  write(records: readonly TxnRecord[]): Promise<void> {
    const err = this.unavailable();
    if (err !== null) return Promise.reject(err);
    if (records.length === 0) return Promise.resolve();
    for (const r of records) this.shard.pending.add(r.transactionalId);
    const now = Date.now();
    const batch = buildRecordBatch({ records: records.map((r) => ({ ...encodeTxnRecord(r), timestamp: now })), baseTimestamp: now });
    let done: Promise<void>;
    try {
      done = this.#log.append(batch, { leaderEpoch: this.leaderEpoch, sync: this.#sync }).done;
    } catch (e) {
      done = Promise.reject(e);
    }
    return done.then(
      () => {
        if (this.state !== 'active') throw new KafkaError(ErrorCode.NOT_COORDINATOR);
        for (const r of records) this.shard.replay(r);
      },
      (e: unknown) => {
        for (const r of records) this.shard.pending.delete(r.transactionalId);
        if (this.state === 'active') {
          this.state = 'failed';
          this.#report(`transaction coordinator: append to __transaction_state-${this.partition} failed, reloading: ${(e as Error).message ?? e}`);
          this.#onFailure(this);
        }
        throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `writing __transaction_state-${this.partition} failed`, { cause: e });
      },
    );
  }

  close(): void {
    this.state = 'closed';
  }
}
