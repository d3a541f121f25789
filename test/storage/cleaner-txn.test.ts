// Log compaction with transactions (KIP-98): aborted records never survive nor shadow committed
// values, nothing at or past the last stable offset is cleaned, markers are kept.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { baseOffsetOf, buildRecordBatch, decodeRecords, isControlBatch, lastOffsetDeltaOf, splitBatches } from '../../src/protocol/record-batch.ts';
import { ControlType, controlTypeOf, endTxnMarkerRecord } from '../../src/protocol/records.ts';
import { AbortedTxns } from '../../src/storage/cleaner-txn.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import { config, memEnv } from './helpers.ts';

const T0 = 1_700_000_000_000;
const P = 7n;
const Q = 9n;

interface Row {
  offset: number;
  key: string | null;
  value: string | null;
  marker: 'commit' | 'abort' | null;
}

async function setup() {
  const cfg = config({ segmentBytes: 400, cleanupPolicy: 'compact', minCleanableDirtyRatio: 0.01, deleteRetentionMs: 1000 });
  const env = memEnv(cfg);
  env.clock.wall = T0;
  const m = await env.open();
  const log = await m.create('t', 0, 'tid', cfg);
  const seqs = new Map<bigint, number>();
  const append = async (b: Buffer): Promise<number> => {
    const { baseOffset, done } = log.append(b, { leaderEpoch: 0, sync: false });
    await done;
    return baseOffset;
  };
  const rec = (key: string, value: string | null) => ({ key: Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: T0 });
  return {
    m,
    log,
    /** A plain (non-transactional) record. */
    put: (key: string, value: string | null) => append(buildRecordBatch({ records: [rec(key, value)] })),
    /** A transactional record of `pid`. */
    txn: (pid: bigint, key: string, value: string) => {
      const seq = seqs.get(pid) ?? 0;
      seqs.set(pid, seq + 1);
      return append(buildRecordBatch({ records: [rec(key, value)], producerId: pid, producerEpoch: 0, baseSequence: seq, transactional: true }));
    },
    /** The COMMIT or ABORT marker ending `pid`'s transaction. */
    end: (pid: bigint, commit: boolean) =>
      append(buildRecordBatch({ records: [endTxnMarkerRecord(commit, 3, T0)], producerId: pid, producerEpoch: 0, baseSequence: -1, transactional: true, control: true })),
    /** Distinct keys that fill and roll segments. */
    fill: async (prefix: string, n: number) => {
      for (let i = 0; i < n; i++) await append(buildRecordBatch({ records: [rec(`${prefix}${i}`, 'x')] }));
    },
  };
}

/** Every record from the log start to the high watermark, decoded batch by batch. */
async function readBack(log: PartitionLog): Promise<Row[]> {
  const rows: Row[] = [];
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const { records } = await log.read(offset, 1 << 20, { maxOffset: log.highWatermark, minOneBatch: true });
    if (records.length === 0) break;
    for (const { pos } of splitBatches(records)) {
      const control = isControlBatch(records, pos);
      for (const r of decodeRecords(records.subarray(pos))) {
        const type = control ? controlTypeOf(r.key) : -1;
        rows.push({
          offset: r.offset,
          key: control ? null : r.key?.toString() ?? null,
          value: control ? null : r.value?.toString() ?? null,
          marker: type === ControlType.Commit ? 'commit' : type === ControlType.Abort ? 'abort' : null,
        });
      }
      // Batches may be empty after cleaning: move on by their offset range.
      offset = baseOffsetOf(records, pos) + lastOffsetDeltaOf(records, pos) + 1;
    }
  }
  return rows;
}

const valuesOf = (rows: Row[], key: string) => rows.filter((r) => r.key === key).map((r) => ({ offset: r.offset, value: r.value }));

describe('compaction of transactional data', () => {
  test('an aborted value neither survives nor shadows the committed one; offsets and markers stay', async () => {
    const { m, log, put, txn, end, fill } = await setup();
    const v1 = await put('k', 'v1');
    await txn(P, 'k', 'v2');
    const abort = await end(P, false);
    await fill('f', 12);
    const before = await readBack(log);
    assert.equal(await m.runCleaner(), log);
    const after = await readBack(log);
    assert.ok(log.active.baseOffset > abort, 'the transaction lies in cleaned segments');
    assert.deepEqual(valuesOf(after, 'k'), [{ offset: v1, value: 'v1' }]);
    assert.deepEqual(after.filter((r) => r.marker !== null), [{ offset: abort, key: null, value: null, marker: 'abort' }]);
    // Every survivor is the record that was at its offset before.
    const was = new Map(before.map((r) => [r.offset, r]));
    for (const r of after) assert.deepEqual(r, was.get(r.offset));
    assert.equal(after.length, before.length - 1);
  });

  test('a committed transactional value wins like any later record', async () => {
    const { m, log, put, txn, end, fill } = await setup();
    await put('k', 'v1');
    const v2 = await txn(P, 'k', 'v2');
    const commit = await end(P, true);
    await fill('f', 12);
    assert.equal(await m.runCleaner(), log);
    const after = await readBack(log);
    assert.deepEqual(valuesOf(after, 'k'), [{ offset: v2, value: 'v2' }]);
    assert.deepEqual(after.filter((r) => r.marker !== null).map((r) => r.offset), [commit]);
  });

  test('interleaved producers: only the aborted one loses its records', async () => {
    const { m, log, put, txn, end, fill } = await setup();
    await put('a', 'a1');
    await put('b', 'b1');
    await txn(P, 'a', 'a2-aborted');
    const b2 = await txn(Q, 'b', 'b2');
    await txn(P, 'b', 'b3-aborted');
    await end(Q, true);
    await end(P, false);
    const a3 = await txn(P, 'a', 'a3');
    await end(P, true);
    await fill('f', 12);
    assert.equal(await m.runCleaner(), log);
    const after = await readBack(log);
    assert.deepEqual(valuesOf(after, 'a'), [{ offset: a3, value: 'a3' }]);
    assert.deepEqual(valuesOf(after, 'b'), [{ offset: b2, value: 'b2' }]);
  });

  test('nothing at or past the last stable offset (the hook) is cleaned', async () => {
    const { m, log, put, fill } = await setup();
    await put('a', 'a1');
    await put('a', 'a2');
    await fill('f', 8);
    // Stands for the first batch of an open transaction the txn layer knows of.
    const open = await put('k', 'open');
    await put('b', 'b1');
    await put('b', 'b2');
    await fill('g', 12);
    log.cleanableUpperBound = () => open;
    assert.equal(await m.runCleaner(), log);
    const after = await readBack(log);
    assert.deepEqual(valuesOf(after, 'a').map((r) => r.value), ['a2'], 'below the LSO: cleaned');
    assert.deepEqual(valuesOf(after, 'b').map((r) => r.value), ['b1', 'b2'], 'past the LSO: untouched');
    assert.deepEqual(valuesOf(after, 'k'), [{ offset: open, value: 'open' }]);
  });

  test('without the hook, a transaction with no marker still stops the cleaner at its segment', async () => {
    const { m, log, put, txn, end, fill } = await setup();
    await put('a', 'a1');
    await put('a', 'a2');
    await fill('f', 8);
    await txn(P, 'k', 'v2');
    await put('b', 'b1');
    await put('b', 'b2');
    await fill('g', 12);
    assert.equal(await m.runCleaner(), log);
    let after = await readBack(log);
    assert.deepEqual(valuesOf(after, 'a').map((r) => r.value), ['a2']);
    assert.deepEqual(valuesOf(after, 'b').map((r) => r.value), ['b1', 'b2']);
    assert.deepEqual(valuesOf(after, 'k').map((r) => r.value), ['v2']);
    // Once the transaction aborts, the next cleaning drops its record and goes on.
    await end(P, false);
    await put('b', 'b3');
    await fill('h', 12);
    assert.equal(await m.runCleaner(), log);
    after = await readBack(log);
    assert.deepEqual(valuesOf(after, 'k'), []);
    assert.deepEqual(valuesOf(after, 'b').map((r) => r.value), ['b3']);
  });
});

describe('AbortedTxns', () => {
  test('covers exactly [first, marker] of the aborted transactions of that producer', () => {
    const a = new AbortedTxns();
    a.add(P, 3, 8);
    a.add(P, 20, 25);
    a.add(Q, 10, 12);
    assert.equal(a.size, 3);
    for (const o of [3, 5, 8, 20, 25]) assert.equal(a.covers(P, o), true, `P@${o}`);
    for (const o of [2, 9, 10, 12, 19, 26]) assert.equal(a.covers(P, o), false, `P@${o}`);
    assert.equal(a.covers(Q, 11), true);
    assert.equal(a.covers(Q, 5), false);
    assert.equal(a.covers(1n, 5), false);
  });
});
