// The transactional ids of one __transaction_state partition: a deterministic state machine (Kafka's
// TransactionCoordinator + TransactionMetadata transitions). An operation reads the state and
// returns the record to append and the answer to give once it is durable; the state changes only
// in `replay`, which the runtime calls for each record once it is written, and while loading the
// partition. `pending` marks ids whose next record is being written (Kafka's pendingState):
// another change to them meanwhile gets CONCURRENT_TRANSACTIONS, which clients retry.
//
// Transitions (Kafka's, without KIP-890's per-transaction epoch bump):
//   InitProducerId: Empty|CompleteCommit|CompleteAbort → Empty with epoch + 1 (KIP-360: a retry
//     with the previous epoch gets the same epoch; an exhausted epoch rotates to a new producer id);
//     Ongoing → PrepareAbort with epoch + 1 (the old producer is fenced, its transaction aborted)
//     and CONCURRENT_TRANSACTIONS, so the client retries once the abort completes.
//   AddPartitionsToTxn / AddOffsetsToTxn: → Ongoing (start time set when it was not Ongoing).
//   EndTxn: Ongoing → PrepareCommit|PrepareAbort; markers go to every partition; → Complete*.
//   Timeout: Ongoing past transaction.timeout.ms → PrepareAbort with epoch + 1 (fencing the zombie).
//   Expiration: Empty|Complete* idle past transactional.id.expiration.ms → tombstone.
import { ErrorCode } from '../protocol/errors.ts';
import {
  NO_EPOCH, NO_PRODUCER_ID, TXN_STATE_NAMES, TxnState, isEpochExhausted, splitTp,
  type TxnMetadata, type TxnRecord, type TxnStateId,
} from './txn-metadata.ts';

export interface TxnOp<T> {
  response: T;
  /** The record to append before answering; null: answer at once. */
  record: TxnRecord | null;
  /** After the record: write the markers and complete the transaction (PrepareCommit/PrepareAbort). */
  complete?: boolean;
}

export interface InitProducerIdAnswer {
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
}

export interface TxnDescription {
  errorCode: number;
  transactionalId: string;
  transactionState: string;
  transactionTimeoutMs: number;
  transactionStartTimeMs: bigint;
  producerId: bigint;
  producerEpoch: number;
  topics: { topic: string; partitions: number[] }[];
}

const reply = <T>(response: T): TxnOp<T> => ({ response, record: null });
const initError = (errorCode: number): TxnOp<InitProducerIdAnswer> => reply({ errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_EPOCH });

function isComplete(s: TxnStateId): boolean {
  return s === TxnState.Empty || s === TxnState.CompleteCommit || s === TxnState.CompleteAbort;
}

export class TxnShard {
  readonly partition: number;
  readonly txns = new Map<string, TxnMetadata>();
  readonly pending = new Set<string>();
  readonly #byProducerId = new Map<bigint, string>();

  constructor(partition: number) {
    this.partition = partition;
  }

  /** Whether InitProducerId for this id will need a newly allocated producer id. */
  needsProducerId(transactionalId: string): boolean {
    const m = this.txns.get(transactionalId);
    return m === undefined || (isComplete(m.state) && isEpochExhausted(m.producerEpoch));
  }

  initProducerId(
    transactionalId: string,
    timeoutMs: number,
    expected: { producerId: bigint; epoch: number } | null,
    freshProducerId: bigint | null,
    now: number,
  ): TxnOp<InitProducerIdAnswer> {
    if (this.pending.has(transactionalId)) return initError(ErrorCode.CONCURRENT_TRANSACTIONS);
    let m = this.txns.get(transactionalId);
    if (m === undefined) {
      if (freshProducerId === null) return initError(ErrorCode.CONCURRENT_TRANSACTIONS);
      m = {
        transactionalId, producerId: freshProducerId, lastProducerId: NO_PRODUCER_ID, producerEpoch: NO_EPOCH, lastProducerEpoch: NO_EPOCH,
        timeoutMs, state: TxnState.Empty, partitions: new Set(), startTimestamp: -1, lastUpdateTimestamp: now,
      };
    }
    // KIP-360: a producer recovering with its id/epoch is fenced unless the id is the current one,
    // or the previous one whose epoch ran out (a retry of the rotation it never heard back about).
    if (expected !== null && !(m.producerEpoch === NO_EPOCH || expected.producerId === m.producerId
      || (expected.producerId === m.lastProducerId && isEpochExhausted(expected.epoch)))) {
      return initError(ErrorCode.PRODUCER_FENCED);
    }
    if (m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort) return initError(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (m.state === TxnState.Ongoing) {
      const fenced = this.#fence(m, now);
      return { response: { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS, producerId: NO_PRODUCER_ID, producerEpoch: NO_EPOCH }, record: fenced, complete: true };
    }
    if (!isComplete(m.state)) return initError(ErrorCode.INVALID_TXN_STATE);
    let next: TxnMetadata;
    if (isEpochExhausted(m.producerEpoch) && (expected === null || expected.epoch === m.producerEpoch)) {
      if (freshProducerId === null) return initError(ErrorCode.CONCURRENT_TRANSACTIONS);
      next = {
        ...m, producerId: freshProducerId, lastProducerId: m.producerId, producerEpoch: 0,
        lastProducerEpoch: expected === null ? NO_EPOCH : m.producerEpoch,
        timeoutMs, state: TxnState.Empty, partitions: new Set(), startTimestamp: -1, lastUpdateTimestamp: now,
      };
    } else {
      let epoch: number;
      let lastEpoch: number;
      if (expected === null) {
        epoch = m.producerEpoch + 1;
        lastEpoch = NO_EPOCH;
      } else if (m.producerEpoch === NO_EPOCH || expected.epoch === m.producerEpoch) {
        epoch = m.producerEpoch + 1;
        lastEpoch = m.producerEpoch;
      } else if (expected.epoch === m.lastProducerEpoch) {
        // A retry of a bump whose answer was lost: the same epoch again.
        epoch = m.producerEpoch;
        lastEpoch = m.lastProducerEpoch;
      } else {
        return initError(ErrorCode.PRODUCER_FENCED);
      }
      next = { ...m, producerEpoch: epoch, lastProducerEpoch: lastEpoch, timeoutMs, state: TxnState.Empty, partitions: new Set(), startTimestamp: -1, lastUpdateTimestamp: now };
    }
    return { response: { errorCode: ErrorCode.NONE, producerId: next.producerId, producerEpoch: next.producerEpoch }, record: { transactionalId, next } };
  }

  /** The abort with a bumped epoch that fences the current producer (InitProducerId over an open transaction, or a timeout). */
  #fence(m: TxnMetadata, now: number): TxnRecord {
    return {
      transactionalId: m.transactionalId,
      next: { ...m, producerEpoch: m.producerEpoch + 1, lastProducerEpoch: NO_EPOCH, state: TxnState.PrepareAbort, lastUpdateTimestamp: now },
    };
  }

  /** Shared checks of AddPartitionsToTxn, AddOffsetsToTxn and EndTxn. */
  #checkProducer(transactionalId: string, producerId: bigint, epoch: number): { m: TxnMetadata } | { errorCode: number } {
    const m = this.txns.get(transactionalId);
    if (m === undefined || m.producerId !== producerId) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
    if (m.producerEpoch !== epoch) return { errorCode: ErrorCode.PRODUCER_FENCED };
    if (this.pending.has(transactionalId)) return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    return { m };
  }

  addPartitions(transactionalId: string, producerId: bigint, epoch: number, partitions: readonly string[], now: number): TxnOp<number> {
    const c = this.#checkProducer(transactionalId, producerId, epoch);
    if ('errorCode' in c) return reply(c.errorCode);
    const m = c.m;
    if (m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort) return reply(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (m.state === TxnState.Ongoing && partitions.every((p) => m.partitions.has(p))) return reply(ErrorCode.NONE);
    if (m.state !== TxnState.Ongoing && !isComplete(m.state)) return reply(ErrorCode.INVALID_TXN_STATE);
    const next: TxnMetadata = {
      ...m,
      state: TxnState.Ongoing,
      partitions: new Set([...m.partitions, ...partitions]),
      startTimestamp: m.state === TxnState.Ongoing ? m.startTimestamp : now,
      lastUpdateTimestamp: now,
    };
    return { response: ErrorCode.NONE, record: { transactionalId, next } };
  }

  endTxn(transactionalId: string, producerId: bigint, epoch: number, commit: boolean, now: number): TxnOp<number> {
    const c = this.#checkProducer(transactionalId, producerId, epoch);
    if ('errorCode' in c) return reply(c.errorCode);
    const m = c.m;
    switch (m.state) {
      case TxnState.Ongoing:
        return {
          response: ErrorCode.NONE,
          record: { transactionalId, next: { ...m, state: commit ? TxnState.PrepareCommit : TxnState.PrepareAbort, lastUpdateTimestamp: now } },
          complete: true,
        };
      case TxnState.CompleteCommit:
        return reply(commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE);
      case TxnState.CompleteAbort:
        return reply(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE);
      case TxnState.PrepareCommit:
        return reply(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
      case TxnState.PrepareAbort:
        return reply(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
      default:
        return reply(ErrorCode.INVALID_TXN_STATE);
    }
  }

  /** Prepare* → Complete* once every marker is written; null when there is nothing to complete. */
  complete(transactionalId: string, now: number): TxnRecord | null {
    const m = this.txns.get(transactionalId);
    if (m === undefined || this.pending.has(transactionalId)) return null;
    if (m.state !== TxnState.PrepareCommit && m.state !== TxnState.PrepareAbort) return null;
    const state = m.state === TxnState.PrepareCommit ? TxnState.CompleteCommit : TxnState.CompleteAbort;
    return { transactionalId, next: { ...m, state, partitions: new Set(), lastUpdateTimestamp: now } };
  }

  /** Ids whose Prepare* state still needs its markers (after a load, or a failed marker write). */
  preparing(): string[] {
    const out: string[] = [];
    for (const m of this.txns.values()) {
      if ((m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort) && !this.pending.has(m.transactionalId)) out.push(m.transactionalId);
    }
    return out;
  }

  /** Aborts (fencing the producer) every open transaction older than its timeout. */
  timeOut(now: number): TxnRecord[] {
    const out: TxnRecord[] = [];
    for (const m of this.txns.values()) {
      if (m.state === TxnState.Ongoing && !this.pending.has(m.transactionalId) && m.startTimestamp + m.timeoutMs < now) out.push(this.#fence(m, now));
    }
    return out;
  }

  /** Tombstones for ids without a transaction and idle for `expirationMs`. */
  expire(now: number, expirationMs: number): TxnRecord[] {
    const out: TxnRecord[] = [];
    for (const m of this.txns.values()) {
      if (isComplete(m.state) && !this.pending.has(m.transactionalId) && m.lastUpdateTimestamp + expirationMs <= now) {
        out.push({ transactionalId: m.transactionalId, next: null });
      }
    }
    return out;
  }

  /**
   * May `producerId` at `epoch` write transactional data to `tp` now? (The check KIP-890 does with
   * AddPartitionsToTxn v4 verifyOnly; here the coordinator is local and answers directly.)
   */
  verify(transactionalId: string | null, producerId: bigint, epoch: number, tp: string): number {
    const id = transactionalId ?? this.#byProducerId.get(producerId);
    const m = id === undefined ? undefined : this.txns.get(id);
    if (m === undefined || m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (epoch !== m.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (m.state !== TxnState.Ongoing || !m.partitions.has(tp)) return ErrorCode.INVALID_TXN_STATE;
    return ErrorCode.NONE;
  }

  transactionalIdOf(producerId: bigint): string | undefined {
    return this.#byProducerId.get(producerId);
  }

  replay(r: TxnRecord): void {
    const old = this.txns.get(r.transactionalId);
    if (old !== undefined && this.#byProducerId.get(old.producerId) === r.transactionalId) this.#byProducerId.delete(old.producerId);
    if (r.next === null) this.txns.delete(r.transactionalId);
    else {
      this.txns.set(r.transactionalId, r.next);
      this.#byProducerId.set(r.next.producerId, r.transactionalId);
    }
    this.pending.delete(r.transactionalId);
  }

  describe(transactionalId: string): TxnDescription {
    const m = this.txns.get(transactionalId);
    if (m === undefined) {
      return {
        errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactionalId, transactionState: '', transactionTimeoutMs: 0,
        transactionStartTimeMs: -1n, producerId: NO_PRODUCER_ID, producerEpoch: NO_EPOCH, topics: [],
      };
    }
    const topics = new Map<string, number[]>();
    for (const k of m.partitions) {
      const { topic, partition } = splitTp(k);
      let list = topics.get(topic);
      if (list === undefined) topics.set(topic, (list = []));
      list.push(partition);
    }
    return {
      errorCode: ErrorCode.NONE,
      transactionalId,
      transactionState: TXN_STATE_NAMES[m.state],
      transactionTimeoutMs: m.timeoutMs,
      transactionStartTimeMs: BigInt(m.startTimestamp),
      producerId: m.producerId,
      producerEpoch: m.producerEpoch,
      topics: [...topics].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) })),
    };
  }

  /** ListTransactions: filters are ANDed; empty state/id filters match everything, a negative duration too. */
  list(states: ReadonlySet<string>, producerIds: ReadonlySet<bigint>, minDurationMs: number, now: number): { transactionalId: string; producerId: bigint; transactionState: string }[] {
    const out: { transactionalId: string; producerId: bigint; transactionState: string }[] = [];
    for (const m of this.txns.values()) {
      const name = TXN_STATE_NAMES[m.state];
      if (states.size > 0 && !states.has(name)) continue;
      if (producerIds.size > 0 && !producerIds.has(m.producerId)) continue;
      // KIP-994: only transactions running for at least the duration.
      if (minDurationMs >= 0 && (m.state !== TxnState.Ongoing || now - m.startTimestamp < minDurationMs)) continue;
      out.push({ transactionalId: m.transactionalId, producerId: m.producerId, transactionState: name });
    }
    return out;
  }
}
