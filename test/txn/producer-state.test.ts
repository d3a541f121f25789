// Per-partition producer state (src/txn/producer-state.ts, produce-check.ts, producer-snapshot.ts):
// de-duplication of the last 5 batches with their original offsets, sequence gaps, stale epochs,
// unknown producers, transactions (LSO, the aborted-transaction entries markers yield) and the
// snapshot round trip (version 2 without the aborted index; version 1 still loads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { buildRecordBatch, setBaseOffset } from '../../src/protocol/record-batch.ts';
import { PartitionProducerState, lastSequence, type BatchInfo } from '../../src/txn/producer-state.ts';
import { applyAppended, checkProduce } from '../../src/txn/produce-check.ts';
import { decodeProducerSnapshot, encodeProducerSnapshot, SnapshotFormatError } from '../../src/txn/producer-snapshot.ts';
import { crc32c } from '../../src/protocol/crc32c.ts';
import type { AbortedTxn } from '../../src/storage/txn-index.ts';

const PID = 1000n;

function info(firstSeq: number, count: number, over: Partial<BatchInfo> = {}): BatchInfo {
  return { producerId: PID, epoch: 0, firstSeq, lastOffsetDelta: count - 1, transactional: false, maxTimestamp: 1, ...over };
}

/** A partition log reduced to its end offset: appends what `check` accepts. */
class Sim {
  readonly state = new PartitionProducerState();
  end = 0;
  readonly aborted: AbortedTxn[] = [];
  /** Returns the first offset the batch got (or its duplicate's), or the error code. */
  produce(b: BatchInfo): { offset: number } | { error: number } {
    const r = this.state.check(b);
    if (r.kind === 'error') return { error: r.errorCode };
    if (r.kind === 'duplicate') return { offset: r.batch.firstOffset };
    const offset = this.end;
    this.state.applyData(b, offset);
    this.end += b.lastOffsetDelta + 1;
    return { offset };
  }
  marker(commit: boolean, epoch = 0, pid = PID): number {
    const offset = this.end++;
    const entry = this.state.applyMarker(pid, epoch, commit, 3, offset, 1);
    if (entry !== null) this.aborted.push(entry);
    return offset;
  }
}

test('a retry of any of the last 5 batches gets its original offset and is not appended again; an older one is out of order', () => {
  const s = new Sim();
  const offsets: number[] = [];
  for (let i = 0; i < 7; i++) offsets.push((s.produce(info(i * 10, 10)) as { offset: number }).offset);
  assert.deepEqual(offsets, [0, 10, 20, 30, 40, 50, 60]);
  for (let i = 2; i < 7; i++) assert.deepEqual(s.produce(info(i * 10, 10)), { offset: offsets[i] }, `retry of batch ${i}`);
  assert.equal(s.end, 70, 'no retry was appended');
  assert.deepEqual(s.produce(info(10, 10)), { error: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER }, 'batch 1 fell out of the window');
  // A retry must match the batch exactly: same first and last sequence.
  assert.deepEqual(s.produce(info(60, 5)), { error: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  assert.deepEqual(s.produce(info(70, 1)), { offset: 70 });
});

test('a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER and changes nothing', () => {
  const s = new Sim();
  s.produce(info(0, 5));
  assert.deepEqual(s.produce(info(6, 1)), { error: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  assert.deepEqual(s.produce(info(5, 1)), { offset: 5 });
});

test('epochs: stale → INVALID_PRODUCER_EPOCH; a new epoch must start at 0; an unknown producer may start anywhere', () => {
  const s = new Sim();
  s.produce(info(0, 3, { epoch: 2 }));
  assert.deepEqual(s.produce(info(3, 1, { epoch: 1 })), { error: ErrorCode.INVALID_PRODUCER_EPOCH });
  assert.deepEqual(s.produce(info(3, 1, { epoch: 3 })), { error: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  assert.deepEqual(s.produce(info(0, 1, { epoch: 3 })), { offset: 3 });
  // The old epoch's batches are no longer retries once the epoch moved on.
  assert.deepEqual(s.produce(info(0, 3, { epoch: 2 })), { error: ErrorCode.INVALID_PRODUCER_EPOCH });
  // KIP-360: no state at all (expired, or log truncated away) accepts any sequence.
  assert.deepEqual(s.produce(info(12345, 2, { producerId: 7n, epoch: 4 })), { offset: 4 });
  assert.deepEqual(s.produce(info(12347, 1, { producerId: 7n, epoch: 4 })), { offset: 6 });
});

test('sequence numbers wrap from INT32_MAX to 0', () => {
  assert.equal(lastSequence(0x7ffffffe, 3), 1);
  const s = new Sim();
  s.produce(info(0x7ffffffe, 2));
  assert.deepEqual(s.produce(info(0, 1)), { offset: 2 });
  assert.deepEqual(s.produce(info(0x7ffffffe, 2)), { offset: 0 }, 'the wrapped batch is still a retry');
});

test('transactions: the LSO is the first offset of the earliest open transaction, capped by the high watermark', () => {
  const s = new Sim();
  s.produce(info(0, 2)); // plain idempotent data at 0-1
  const tx = (pid: bigint, seq: number) => info(seq, 1, { producerId: pid, transactional: true });
  s.produce(tx(1n, 0)); // 2
  s.produce(tx(2n, 0)); // 3
  s.produce(tx(1n, 1)); // 4
  assert.equal(s.state.lastStableOffset(5), 2);
  assert.equal(s.state.lastStableOffset(1), 1, 'never past the high watermark');
  const m1 = s.marker(true, 0, 1n); // 5: producer 1 commits
  assert.equal(m1, 5);
  assert.equal(s.state.lastStableOffset(6), 3, 'producer 2 still holds it');
  const m2 = s.marker(false, 0, 2n); // 6: producer 2 aborts
  assert.equal(s.state.lastStableOffset(7), 7);
  assert.deepEqual(s.aborted, [{ producerId: 2n, firstOffset: 3, lastOffset: m2, lastStableOffset: 7 }], 'the commit yields no entry');
  assert.equal(s.state.applyMarker(2n, 0, false, 3, 99, 1), null, 'a repeated abort ends nothing and yields no entry');
  // Off-by-one guard (Redpanda #3036): the LSO is exactly the first open offset, not one past it.
  s.produce(tx(1n, 2)); // 7
  assert.equal(s.state.lastStableOffset(8), 7);
  assert.equal(s.state.producers.get(1n)!.txnFirstOffset, 7);
});

test('inside a transaction a non-transactional batch of the same producer is INVALID_TXN_STATE', () => {
  const s = new Sim();
  s.produce(info(0, 1, { transactional: true }));
  assert.deepEqual(s.produce(info(1, 1)), { error: ErrorCode.INVALID_TXN_STATE });
});

test('an abort marker yields the LSO right after it: the earliest transaction still open, else the offset past the marker', () => {
  const st = new PartitionProducerState();
  st.applyData(info(0, 10, { producerId: 1n, transactional: true }), 0);
  st.applyData(info(0, 2, { producerId: 2n, transactional: true }), 10);
  assert.deepEqual(st.applyMarker(2n, 0, false, 0, 12, 1), { producerId: 2n, firstOffset: 10, lastOffset: 12, lastStableOffset: 0 });
  assert.deepEqual(st.applyMarker(1n, 0, false, 0, 13, 1), { producerId: 1n, firstOffset: 0, lastOffset: 13, lastStableOffset: 14 });
});

test('checkProduce/applyAppended on real batches: a two-batch request is checked in order and recorded at its offsets', () => {
  const st = new PartitionProducerState();
  const b = (seq: number, n: number) => buildRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`v${seq + i}`), timestamp: 5 })),
    producerId: PID, producerEpoch: 0, baseSequence: seq,
  });
  const two = Buffer.concat([b(0, 3), b(3, 2)]);
  assert.deepEqual(checkProduce(st, two, 100, null), { kind: 'append' });
  setBaseOffset(two, 0, 100);
  setBaseOffset(two, two.readInt32BE(8) + 12, 103);
  applyAppended(st, two);
  assert.deepEqual(st.producers.get(PID)!.batches.map((m) => [m.firstSeq, m.lastSeq, m.firstOffset, m.lastOffset]), [[0, 2, 100, 102], [3, 4, 103, 104]]);
  const retry = checkProduce(st, b(3, 2), 105, null);
  assert.equal(retry.kind, 'duplicate');
  assert.equal(retry.kind === 'duplicate' && retry.batch.firstOffset, 103);
  const gapInSecond = Buffer.concat([b(5, 1), b(7, 1)]);
  assert.equal((checkProduce(st, gapInSecond, 105, null) as { errorCode: number }).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  const txn = buildRecordBatch({ records: [{ key: null, value: Buffer.from('t'), timestamp: 5 }], producerId: 9n, producerEpoch: 0, baseSequence: 0, transactional: true });
  assert.equal((checkProduce(st, txn, 105, null) as { errorCode: number }).errorCode, ErrorCode.INVALID_REQUEST, 'transactional data needs a transactional id');
  assert.equal((checkProduce(st, txn, 105, () => ErrorCode.INVALID_TXN_STATE) as { errorCode: number }).errorCode, ErrorCode.INVALID_TXN_STATE);
  assert.deepEqual(checkProduce(st, txn, 105, () => ErrorCode.NONE), { kind: 'append' });
});

test('expiration forgets idle producers but never one with an open transaction', () => {
  const st = new PartitionProducerState();
  st.applyData(info(0, 1, { producerId: 1n, maxTimestamp: 100 }), 0);
  st.applyData(info(0, 1, { producerId: 2n, maxTimestamp: 100, transactional: true }), 1);
  st.applyData(info(0, 1, { producerId: 3n, maxTimestamp: 900 }), 2);
  assert.equal(st.expire(500), 1);
  assert.deepEqual([...st.producers.keys()], [2n, 3n]);
});

test('snapshots round-trip every retained batch and open transactions in offset order; damage is detected', () => {
  const st = new PartitionProducerState();
  for (let i = 0; i < 6; i++) st.applyData(info(i * 2, 2, { maxTimestamp: 10 + i }), i * 2);
  st.applyData(info(0, 1, { producerId: 5n, transactional: true, epoch: 3 }), 20);
  st.applyData(info(0, 1, { producerId: 4n, transactional: true }), 21);
  st.applyData(info(0, 1, { producerId: 6n, transactional: true }), 22);
  st.applyMarker(6n, 0, false, 7, 23, 50);
  const bytes = encodeProducerSnapshot(st);
  assert.equal(bytes.readInt16BE(0), 2, 'version 2');
  const { state: back, legacyAborted } = decodeProducerSnapshot(bytes);
  assert.deepEqual(back.producers, st.producers);
  assert.deepEqual([...back.ongoing], [[5n, 20], [4n, 21]]);
  assert.deepEqual(legacyAborted, [], 'the aborted index lives in the txn indexes now');
  assert.equal(back.lastStableOffset(100), 20);
  assert.equal(back.check(info(10, 2, { maxTimestamp: 15 })).kind, 'duplicate');
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 3] ^= 0x40;
  assert.throws(() => decodeProducerSnapshot(flipped), SnapshotFormatError);
  assert.throws(() => decodeProducerSnapshot(bytes.subarray(0, bytes.length - 4)), SnapshotFormatError);
});

test('a version-1 snapshot (with the aborted index) still loads and hands its aborted list over', () => {
  const st = new PartitionProducerState();
  st.applyData(info(0, 2), 0);
  st.applyData(info(0, 1, { producerId: 5n, transactional: true }), 2);
  const v2 = encodeProducerSnapshot(st);
  // Version 1 = the same bytes + aborted:int32 { producerId firstOffset lastOffset lastStableOffset }.
  const tail = Buffer.alloc(4 + 32);
  tail.writeInt32BE(1, 0);
  tail.writeBigInt64BE(9n, 4);
  tail.writeBigInt64BE(3n, 12);
  tail.writeBigInt64BE(4n, 20);
  tail.writeBigInt64BE(2n, 28);
  const v1 = Buffer.concat([v2, tail]);
  v1.writeInt16BE(1, 0);
  v1.writeUInt32BE(crc32c(v1, 6), 2);
  const { state, legacyAborted } = decodeProducerSnapshot(v1);
  assert.deepEqual(state.producers, st.producers);
  assert.deepEqual([...state.ongoing], [[5n, 2]]);
  assert.deepEqual(legacyAborted, [{ producerId: 9n, firstOffset: 3, lastOffset: 4, lastStableOffset: 2 }]);
  const v3 = Buffer.from(v2);
  v3.writeInt16BE(3, 0);
  assert.throws(() => decodeProducerSnapshot(v3), SnapshotFormatError);
});
