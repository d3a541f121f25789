// The producer's record accumulator and the consumer's decoding of fetched bytes, without a broker.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BATCH_OVERHEAD, RecordAccumulator, estimateRecordSize, type Delivery } from '../../src/client/record-accumulator.ts';
import { decodeFetchedRecords } from '../../src/client/fetch-decode.ts';
import { buildRecordBatch, Compression } from '../../src/protocol/record-batch.ts';
import { endTxnMarkerRecord } from '../../src/protocol/records.ts';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';

const noop: Delivery = { resolve() {}, reject() {} };
const rec = (v: string) => ({ key: null, value: Buffer.from(v) });

describe('record accumulator', () => {
  test('closes a batch when the next record would pass batch.size and opens another', () => {
    const size = estimateRecordSize(rec('x'.repeat(40)));
    const acc = new RecordAccumulator({ batchSize: BATCH_OVERHEAD + 2 * size, lingerMs: 50 });
    assert.equal(acc.append('t', 0, rec('x'.repeat(40)), size, noop, 0).closedBatch, false);
    assert.equal(acc.append('t', 0, rec('x'.repeat(40)), size, noop, 0).closedBatch, true, 'full at exactly batch.size');
    acc.append('t', 0, rec('x'.repeat(40)), size, noop, 0);
    const batches = acc.all();
    assert.equal(batches.length, 2);
    assert.equal(batches[0].records.length, 2);
    assert.equal(batches[1].records.length, 1);
    assert.equal(acc.bufferedBytes, 2 * BATCH_OVERHEAD + 3 * size);
  });

  test('a batch is ready when closed, after linger.ms, or when flushing; one in flight per partition', () => {
    const acc = new RecordAccumulator({ batchSize: 1_000_000, lingerMs: 50 });
    acc.append('t', 0, rec('a'), 10, noop, 1000);
    acc.append('t', 1, rec('b'), 10, noop, 1020);
    let r = acc.ready(1010, false);
    assert.equal(r.batches.length, 0);
    assert.equal(r.nextReadyAt, 1050);
    r = acc.ready(1050, false);
    assert.deepEqual(r.batches.map((b) => b.partition), [0]);
    assert.equal(r.nextReadyAt, 1070);
    assert.equal(acc.ready(1000, true).batches.length, 2, 'flush ignores linger');
    acc.queue('t', 0).inFlight = true;
    acc.append('t', 0, rec('c'), 10, noop, 1000);
    assert.deepEqual(acc.ready(5000, true).batches.map((b) => b.partition), [1], 'partition 0 waits for its batch in flight');
    acc.queue('t', 1).retryAt = 6000;
    assert.equal(acc.ready(5000, true).batches.length, 0, 'a backed-off partition waits');
  });

  test('completing a batch releases its memory and settles it', async () => {
    const acc = new RecordAccumulator({ batchSize: 1000, lingerMs: 0 });
    acc.append('t', 0, rec('a'), 30, noop, 0);
    const [b] = acc.all();
    acc.queue('t', 0).inFlight = true;
    acc.complete(b);
    await b.settled;
    assert.equal(acc.bufferedBytes, 0);
    assert.equal(acc.empty, true);
    assert.equal(acc.queue('t', 0).inFlight, false);
  });
});

describe('decoding fetched records', () => {
  const opts = { readCommitted: false, aborted: null, checkCrcs: true };

  test('skips records below the fetch offset inside a compressed batch and stops at a partial batch', () => {
    const a = buildRecordBatch({ baseOffset: 10, compression: Compression.Gzip, records: [rec('r10'), rec('r11'), rec('r12')] });
    const b = buildRecordBatch({ baseOffset: 13, records: [rec('r13')] });
    const bytes = Buffer.concat([a, b, b.subarray(0, 20)]);
    const d = decodeFetchedRecords('t', 0, bytes, 11, opts);
    assert.deepEqual(d.records.map((r) => [r.offset, r.value!.toString()]), [[11, 'r11'], [12, 'r12'], [13, 'r13']]);
    assert.equal(d.nextOffset, 14);
    assert.equal(decodeFetchedRecords('t', 0, null, 5, opts).nextOffset, 5);
  });

  test('a corrupted batch is CORRUPT_MESSAGE', () => {
    const a = buildRecordBatch({ baseOffset: 0, records: [rec('hello')] });
    a[a.length - 2] ^= 0x20; // the last letter of the value
    assert.throws(() => decodeFetchedRecords('t', 0, a, 0, opts), (e) => e instanceof KafkaError && e.code === ErrorCode.CORRUPT_MESSAGE);
    assert.equal(decodeFetchedRecords('t', 0, a, 0, { ...opts, checkCrcs: false }).records[0].value!.toString(), 'hellO');
  });

  test('read_committed drops aborted transactions and control batches; read_uncommitted keeps data', () => {
    const txn = (baseOffset: number, pid: number, values: string[]) =>
      buildRecordBatch({ baseOffset, producerId: pid, producerEpoch: 0, baseSequence: baseOffset, transactional: true, records: values.map(rec) });
    const marker = (offset: number, pid: number, commit: boolean) =>
      buildRecordBatch({ baseOffset: offset, producerId: pid, producerEpoch: 0, transactional: true, control: true, records: [endTxnMarkerRecord(commit, 0)] });
    const bytes = Buffer.concat([
      txn(0, 1, ['p1-a', 'p1-b']), // offsets 0-1, aborted
      txn(2, 2, ['p2-a']), // offset 2, committed
      marker(3, 1, false), // abort p1
      txn(4, 1, ['p1-c']), // offset 4: p1's next transaction, committed
      marker(5, 2, true),
      marker(6, 1, true),
    ]);
    const aborted = [{ producerId: 1n, firstOffset: 0n }];
    const rc = decodeFetchedRecords('t', 0, bytes, 0, { readCommitted: true, aborted, checkCrcs: true });
    assert.deepEqual(rc.records.map((r) => r.value!.toString()), ['p2-a', 'p1-c']);
    assert.equal(rc.nextOffset, 7);
    const ru = decodeFetchedRecords('t', 0, bytes, 0, { readCommitted: false, aborted, checkCrcs: true });
    assert.deepEqual(ru.records.map((r) => r.value!.toString()), ['p1-a', 'p1-b', 'p2-a', 'p1-c']);
  });
});
