// Producer state of one partition (Kafka's ProducerStateManager + ProducerAppendInfo, reduced):
// per producer id, its epoch and the sequence/offset ranges of its last 5 batches (KIP-98; a client
// keeps at most 5 requests in flight, so any retry it can send is among them), its ongoing
// transaction's first offset, plus the partition's ongoing transactions (for the last stable offset).
// An ABORT marker yields the aborted-transaction entry that storage keeps in the txn index of the
// segment holding the marker (src/storage/txn-index.ts, Kafka's TransactionIndex).
//
// Invariants:
// - Only `apply*` change state, called after the log assigned offsets (live) or while replaying the
//   log (recovery); `check` only reads. All work is per batch, never per record.
// - A retry of any retained batch (same epoch, same first and last sequence) is answered with the
//   offsets it got the first time and is not appended again (Redpanda's Jepsen bug #3039 rejected it).
// - `ongoing` is ordered by first offset (appends arrive in offset order), so the last stable offset
//   is its first entry, capped by the high watermark: every offset below the LSO belongs to a decided
//   transaction or to none (Redpanda's bug #3036 was an off-by-one here).
import { ErrorCode } from '../protocol/errors.ts';
import type { AbortedTxn } from '../storage/txn-index.ts';

export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN. */
export const BATCHES_RETAINED = 5;
const INT32_MAX = 0x7fffffff;

export interface BatchMeta {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  readonly producerId: bigint;
  epoch: number;
  /** Oldest first, at most BATCHES_RETAINED, all written with `epoch`. */
  batches: BatchMeta[];
  lastTimestamp: number;
  coordinatorEpoch: number;
  /** First offset of the producer's ongoing transaction in this partition, -1 when none. */
  txnFirstOffset: number;
}

export type { AbortedTxn };

/** The header fields of one batch that producer state looks at. */
export interface BatchInfo {
  producerId: bigint;
  epoch: number;
  firstSeq: number;
  /** baseOffset + lastOffsetDelta once offsets are assigned. */
  lastOffsetDelta: number;
  transactional: boolean;
  maxTimestamp: number;
}

export type CheckResult =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMeta }
  | { kind: 'error'; errorCode: number; message: string };

const APPEND: CheckResult = { kind: 'append' };

/** Sequence of the last record of a batch; sequences wrap from INT32_MAX to 0 (DefaultRecordBatch). */
export function lastSequence(firstSeq: number, lastOffsetDelta: number): number {
  if (firstSeq < 0) return NO_SEQUENCE;
  return firstSeq > INT32_MAX - lastOffsetDelta ? lastOffsetDelta - (INT32_MAX - firstSeq) - 1 : firstSeq + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

function lastSeqOf(e: ProducerEntry): number {
  return e.batches.length === 0 ? NO_SEQUENCE : e.batches[e.batches.length - 1].lastSeq;
}

export class PartitionProducerState {
  readonly producers = new Map<bigint, ProducerEntry>();
  /** Producer id → first offset of its ongoing transaction, in first-offset order. */
  readonly ongoing = new Map<bigint, number>();

  /**
   * Validates a client batch against the producer's state (Kafka's analyzeAndValidateProducerState
   * and checkProducerEpoch/checkSequence, origin CLIENT). `pending` is the state left by earlier
   * batches of the same request, if any.
   */
  check(b: BatchInfo, pending?: ProducerEntry): CheckResult {
    const entry = pending ?? this.producers.get(b.producerId);
    const firstSeq = b.firstSeq;
    const lastSeq = lastSequence(firstSeq, b.lastOffsetDelta);
    if (entry !== undefined && b.epoch === entry.epoch) {
      for (const m of entry.batches) {
        if (m.firstSeq === firstSeq && m.lastSeq === lastSeq) return { kind: 'duplicate', batch: m };
      }
    }
    const current = entry?.epoch ?? NO_PRODUCER_EPOCH;
    if (b.epoch < current) {
      // Kafka 2.7+ answers a stale epoch on Produce with INVALID_PRODUCER_EPOCH (KIP-588), for every version.
      return { kind: 'error', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH, message: `producer ${b.producerId} epoch ${b.epoch} is older than ${current}` };
    }
    if (b.epoch !== current) {
      // A new epoch starts at sequence 0, unless nothing is known (state expired or never seen): then
      // any sequence is accepted (KIP-360 replaced UNKNOWN_PRODUCER_ID with this).
      if (firstSeq !== 0 && current !== NO_PRODUCER_EPOCH) {
        return { kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `producer ${b.producerId} new epoch ${b.epoch} must start at sequence 0, not ${firstSeq}` };
      }
    } else if (entry !== undefined && !inSequence(lastSeqOf(entry), firstSeq)) {
      return { kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `producer ${b.producerId} sequence ${firstSeq} does not follow ${lastSeqOf(entry)}` };
    }
    if (entry !== undefined && entry.txnFirstOffset >= 0 && !b.transactional && b.epoch === entry.epoch) {
      return { kind: 'error', errorCode: ErrorCode.INVALID_TXN_STATE, message: `producer ${b.producerId} wrote a non-transactional batch inside a transaction` };
    }
    return APPEND;
  }

  /** The entry as it would be after appending `b` at `firstOffset` (for checking a request's next batch). */
  preview(b: BatchInfo, entry: ProducerEntry | undefined, firstOffset: number): ProducerEntry {
    const e: ProducerEntry = entry === undefined
      ? { producerId: b.producerId, epoch: NO_PRODUCER_EPOCH, batches: [], lastTimestamp: -1, coordinatorEpoch: -1, txnFirstOffset: -1 }
      : { ...entry, batches: entry.batches.slice() };
    addBatch(e, b, firstOffset);
    if (b.transactional && e.txnFirstOffset < 0) e.txnFirstOffset = firstOffset;
    return e;
  }

  /** Records a data batch written at [firstOffset, firstOffset + lastOffsetDelta]. */
  applyData(b: BatchInfo, firstOffset: number): void {
    let e = this.producers.get(b.producerId);
    if (e === undefined) {
      e = { producerId: b.producerId, epoch: NO_PRODUCER_EPOCH, batches: [], lastTimestamp: -1, coordinatorEpoch: -1, txnFirstOffset: -1 };
      this.producers.set(b.producerId, e);
    }
    addBatch(e, b, firstOffset);
    if (b.transactional && e.txnFirstOffset < 0) {
      e.txnFirstOffset = firstOffset;
      this.ongoing.set(b.producerId, firstOffset);
    }
  }

  /**
   * Records a transaction marker (KIP-98 control batch) at `offset`: ends the producer's ongoing
   * transaction here. An abort that ends one returns its txn-index entry (the caller stores it with
   * the segment); a marker that ends nothing (a retried one) returns null. A marker with a newer
   * epoch (a fenced or timed-out transaction, aborted by the coordinator with epoch + 1) starts that
   * epoch.
   */
  applyMarker(producerId: bigint, epoch: number, commit: boolean, coordinatorEpoch: number, offset: number, timestamp: number): AbortedTxn | null {
    let e = this.producers.get(producerId);
    if (e === undefined) {
      e = { producerId, epoch, batches: [], lastTimestamp: timestamp, coordinatorEpoch, txnFirstOffset: -1 };
      this.producers.set(producerId, e);
    }
    if (e.epoch !== epoch) {
      e.epoch = epoch;
      e.batches = [];
    }
    e.coordinatorEpoch = coordinatorEpoch;
    e.lastTimestamp = Math.max(e.lastTimestamp, timestamp);
    if (e.txnFirstOffset < 0) return null;
    const first = e.txnFirstOffset;
    e.txnFirstOffset = -1;
    this.ongoing.delete(producerId);
    if (commit) return null;
    return { producerId, firstOffset: first, lastOffset: offset, lastStableOffset: this.#firstOngoing(offset + 1) };
  }

  #firstOngoing(otherwise: number): number {
    for (const first of this.ongoing.values()) return Math.min(first, otherwise);
    return otherwise;
  }

  /** Last stable offset: the first offset of the earliest ongoing transaction, at most `highWatermark`. */
  lastStableOffset(highWatermark: number): number {
    return this.#firstOngoing(highWatermark);
  }

  /** Forgets producers idle since before `cutoff` with no ongoing transaction (producer.id.expiration.ms, KIP-854). */
  expire(cutoff: number): number {
    let n = 0;
    for (const [id, e] of this.producers) {
      if (e.txnFirstOffset < 0 && e.lastTimestamp < cutoff) {
        this.producers.delete(id);
        n++;
      }
    }
    return n;
  }
}

function addBatch(e: ProducerEntry, b: BatchInfo, firstOffset: number): void {
  if (e.epoch !== b.epoch) {
    e.epoch = b.epoch;
    e.batches = [];
  }
  e.batches.push({
    firstSeq: b.firstSeq,
    lastSeq: lastSequence(b.firstSeq, b.lastOffsetDelta),
    firstOffset,
    lastOffset: firstOffset + b.lastOffsetDelta,
    timestamp: b.maxTimestamp,
  });
  if (e.batches.length > BATCHES_RETAINED) e.batches.shift();
  e.lastTimestamp = Math.max(e.lastTimestamp, b.maxTimestamp);
}
