// The producer's record accumulator and the consumer's decoding of fetched bytes, without a broker.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BATCH_OVERHEAD, RecordAccumulator, estimateRecordSize, type ProducerBatch } from '../../src/client/record-accumulator.ts';
import { decodeFetchedRecords } from '../../src/client/fetch-decode.ts';
import { buildRecordBatch, Compression } from '../../src/protocol/record-batch.ts';
import { endTxnMarkerRecord } from '../../src/protocol/records.ts';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';

const noop = (): void => {};
const rec = (v: string) => ({ key: null, value: Buffer.from(v) });
const partitionsOf = (r: { partitions: ProducerBatch[][] }) => r.partitions.map((l) => l[0].partition);

describe('record accumulator', () => {
  test('closes a batch when the next record would pass batch.size and opens another', () => {
    const size = estimateRecordSize(rec('x'.repeat(40)));
    const acc = new RecordAccumulator({ batchSize: BATCH_OVERHEAD + 2 * size, lingerMs: 50 });
    assert.equal(acc.append('t', 0, rec('x'.repeat(40)), size, noop, noop, 0), false);
    assert.equal(acc.append('t', 0, rec('x'.repeat(40)), size, noop, noop, 0), true, 'full at exactly batch.size');
    acc.append('t', 0, rec('x'.repeat(40)), size, noop, noop, 0);
    const batches = acc.all();
    assert.equal(batches.length, 2);
    assert.equal(batches[0].records.length, 2);
    assert.equal(batches[1].records.length, 1);
    assert.equal(acc.bufferedBytes, 2 * BATCH_OVERHEAD + 3 * size);
  });

  test('a batch is ready when closed, after linger.ms, or when flushing; a backed-off partition waits', () => {
    const acc = new RecordAccumulator({ batchSize: 1_000_000, lingerMs: 50 });
    acc.append('t', 0, rec('a'), 10, noop, noop, 1000);
    acc.append('t', 1, rec('b'), 10, noop, noop, 1020);
    let r = acc.ready(1010, false, 5, -1n, -1);
    assert.equal(r.partitions.length, 0);
    assert.equal(r.nextReadyAt, 1050);
    r = acc.ready(1050, false, 5, -1n, -1);
    assert.deepEqual(partitionsOf(r), [0]);
    assert.equal(r.nextReadyAt, 1070);
    assert.equal(acc.ready(1000, true, 5, -1n, -1).partitions.length, 2, 'flush ignores linger');
    acc.queue('t', 1).retryAt = 6000;
    assert.deepEqual(partitionsOf(acc.ready(5000, true, 5, -1n, -1)), [0], 'a backed-off partition waits');
  });

  test('several batches per partition go out in order, up to the in-flight limit', () => {
    const acc = new RecordAccumulator({ batchSize: 100, lingerMs: 0 });
    for (let i = 0; i < 7; i++) acc.append('t', 0, rec(`r${i}`), 100, noop, noop, 0);
    const [list] = acc.ready(0, false, 5, -1n, -1).partitions;
    assert.deepEqual(list.map((b) => b.records[0].value!.toString()), ['r0', 'r1', 'r2', 'r3', 'r4']);
    for (const b of list.slice(0, 3)) acc.sent(b);
    assert.deepEqual(acc.ready(0, false, 5, -1n, -1).partitions[0].map((b) => b.records[0].value!.toString()), ['r3', 'r4'], 'what follows those in flight');
    acc.sent(list[3]);
    acc.sent(list[4]);
    assert.equal(acc.ready(0, false, 5, -1n, -1).partitions.length, 0, 'five in flight: the limit');
    acc.complete(list[0]);
    assert.deepEqual(acc.ready(0, false, 5, -1n, -1).partitions[0].map((b) => b.records[0].value!.toString()), ['r5']);
  });

  test('a batch back for a retry blocks its partition until every later one is back, then the head goes first', () => {
    const acc = new RecordAccumulator({ batchSize: 100, lingerMs: 0 });
    for (let i = 0; i < 4; i++) acc.append('t', 0, rec(`r${i}`), 100, noop, noop, 0);
    const [list] = acc.ready(0, false, 5, -1n, -1).partitions;
    for (const b of list.slice(0, 3)) acc.sent(b);
    acc.returned(list[0], 10);
    assert.equal(acc.queue('t', 0).blocked, true);
    assert.equal(acc.ready(100, false, 5, -1n, -1).partitions.length, 0, 'r1 and r2 are still out');
    acc.returned(list[1], 10);
    acc.returned(list[2], 10);
    assert.equal(acc.queue('t', 0).blocked, false);
    assert.equal(acc.ready(5, false, 5, -1n, -1).partitions.length, 0, 'backing off');
    assert.deepEqual(acc.ready(10, false, 5, -1n, -1).partitions[0].map((b) => b.records[0].value!.toString()), ['r0', 'r1', 'r2', 'r3']);
  });

  test('batches of two producer identities are not in flight together on a partition', () => {
    const acc = new RecordAccumulator({ batchSize: 100, lingerMs: 0 });
    for (let i = 0; i < 3; i++) acc.append('t', 0, rec(`r${i}`), 100, noop, noop, 0);
    const [b0, b1, b2] = acc.all();
    b0.encoded = Buffer.alloc(0);
    b0.producerId = 7n;
    b0.producerEpoch = 0;
    acc.sent(b0);
    // The producer id was replaced (8): b1 and b2 would be encoded under it.
    assert.equal(acc.ready(0, false, 5, 8n, 0).partitions.length, 0, 'wait for the old identity\'s batch');
    acc.complete(b0);
    assert.deepEqual(acc.ready(0, false, 5, 8n, 0).partitions[0], [b1, b2]);
  });

  test('completing a batch releases its memory and settles it', async () => {
    const acc = new RecordAccumulator({ batchSize: 1000, lingerMs: 0 });
    acc.append('t', 0, rec('a'), 30, noop, noop, 0);
    const [b] = acc.all();
    acc.sent(b);
    assert.equal(acc.queue('t', 0).inFlight, 1);
    acc.complete(b);
    await b.settled;
    assert.equal(acc.bufferedBytes, 0);
    assert.equal(acc.empty, true);
    assert.equal(acc.queue('t', 0).inFlight, 0);
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
