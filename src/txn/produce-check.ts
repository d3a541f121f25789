// The producer-id checks of one Produce partition, on the batch headers only (fixed-offset reads):
// run before the append (de-duplication, epochs, sequences, transaction membership) and after it
// (record what was written at which offsets). A request normally holds one batch per partition; a
// request with several batches of one producer is checked batch by batch against the state the
// earlier ones would leave.
import { ErrorCode } from '../protocol/errors.ts';
import {
  ATTRIBUTES, CONTROL_FLAG, LAST_OFFSET_DELTA, PRODUCER_EPOCH, PRODUCER_ID, BASE_SEQUENCE, TRANSACTIONAL_FLAG,
  baseOffsetOf, batchSizeAt, maxTimestampOf,
} from '../protocol/record-batch.ts';
import type { BatchInfo, BatchMeta, PartitionProducerState, ProducerEntry } from './producer-state.ts';

/** Whether any batch carries a producer id (idempotent or transactional producer). */
export function hasProducerBatches(records: Buffer): boolean {
  for (let pos = 0; pos < records.length; pos += batchSizeAt(records, pos)) {
    // The high word of a non-negative int64 is non-negative.
    if (records.readInt32BE(pos + PRODUCER_ID) >= 0) return true;
  }
  return false;
}

export function batchInfoAt(buf: Buffer, pos: number): BatchInfo {
  return {
    producerId: buf.readBigInt64BE(pos + PRODUCER_ID),
    epoch: buf.readInt16BE(pos + PRODUCER_EPOCH),
    firstSeq: buf.readInt32BE(pos + BASE_SEQUENCE),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA),
    transactional: (buf[pos + ATTRIBUTES + 1] & TRANSACTIONAL_FLAG) !== 0,
    maxTimestamp: maxTimestampOf(buf, pos),
  };
}

export function isControlAt(buf: Buffer, pos: number): boolean {
  return (buf[pos + ATTRIBUTES + 1] & CONTROL_FLAG) !== 0;
}

/**
 * Answers whether a transactional producer may write to this partition now: the coordinator's
 * error code (NONE when the partition was added to the producer's ongoing transaction).
 */
export type TxnVerifier = (producerId: bigint, epoch: number) => number;

export type ProduceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMeta }
  | { kind: 'error'; errorCode: number; message: string };

const APPEND: ProduceCheck = { kind: 'append' };

/** Checks every producer batch of `records` (nothing is changed). `nextOffset` is the log end offset. */
export function checkProduce(state: PartitionProducerState, records: Buffer, nextOffset: number, verify: TxnVerifier | null): ProduceCheck {
  let pending: Map<bigint, ProducerEntry> | null = null;
  let verified: Set<bigint> | null = null;
  let offset = nextOffset;
  const multi = batchSizeAt(records, 0) < records.length;
  for (let pos = 0; pos < records.length; pos += batchSizeAt(records, pos)) {
    const b = batchInfoAt(records, pos);
    if (b.producerId < 0n) {
      if (b.transactional) return { kind: 'error', errorCode: ErrorCode.INVALID_RECORD, message: 'a transactional batch needs a producer id' };
      offset += b.lastOffsetDelta + 1;
      continue;
    }
    const r = state.check(b, pending?.get(b.producerId));
    // Kafka answers the whole partition with the duplicate's offsets when any batch is a retry.
    if (r.kind !== 'append') return r;
    if (b.transactional && !verified?.has(b.producerId)) {
      if (verify === null) return { kind: 'error', errorCode: ErrorCode.INVALID_REQUEST, message: 'transactional records need a transactional id' };
      const code = verify(b.producerId, b.epoch);
      if (code !== ErrorCode.NONE) return { kind: 'error', errorCode: code, message: `producer ${b.producerId} may not write to this partition in its transaction` };
      (verified ??= new Set()).add(b.producerId);
    }
    if (multi) (pending ??= new Map()).set(b.producerId, state.preview(b, pending.get(b.producerId) ?? state.producers.get(b.producerId), offset));
    offset += b.lastOffsetDelta + 1;
  }
  return APPEND;
}

/** Records the producer batches of `records`, whose base offsets the log has just assigned. */
export function applyAppended(state: PartitionProducerState, records: Buffer): void {
  for (let pos = 0; pos < records.length; pos += batchSizeAt(records, pos)) {
    if (records.readInt32BE(pos + PRODUCER_ID) < 0) continue;
    state.applyData(batchInfoAt(records, pos), baseOffsetOf(records, pos));
  }
}
