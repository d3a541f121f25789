// Log compaction with transactions (KIP-98): aborted records never survive nor shadow committed
// values, nothing at or past the last stable offset is cleaned, each producer's last data batch
// stays (empty if need be), and a marker goes delete.retention.ms after the last batch of its
// transaction did, with its txn-index entry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  baseOffsetOf, baseSequenceOf, baseTimestampOf, buildRecordBatch, decodeRecords, isControlBatch, isTransactionalBatch, lastOffsetDeltaOf, producerEpochOf, producerIdOf,
  recordsCountOf, splitBatches,
} from '../../src/protocol/record-batch.ts';
import { ControlType, controlTypeOf, endTxnMarkerRecord } from '../../src/protocol/records.ts';
import { AbortedTxns } from '../../src/storage/cleaner-txn.ts';
import { hasDeleteHorizon, placeholderFor } from '../../src/storage/cleaner-rewrite.ts';
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
    env,
    m,
    log,
    /** A plain idempotent (non-transactional) record of `pid`. */
    idem: (pid: bigint, key: string, value: string) => {
      const seq = seqs.get(pid) ?? 0;
      seqs.set(pid, seq + 1);
      return append(buildRecordBatch({ records: [rec(key, value)], producerId: pid, producerEpoch: 0, baseSequence: seq }));
    },
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

interface Header {
  base: number;
  lastDelta: number;
  pid: bigint;
  epoch: number;
  seq: number;
  count: number;
  transactional: boolean;
  control: boolean;
}

/** The header of every batch in the log, in offset order. */
async function headers(log: PartitionLog): Promise<Header[]> {
  const out: Header[] = [];
  await log.scanBatches(log.logStartOffset, (b) => {
    out.push({
      base: baseOffsetOf(b), lastDelta: lastOffsetDeltaOf(b), pid: producerIdOf(b), epoch: producerEpochOf(b), seq: baseSequenceOf(b),
      count: recordsCountOf(b), transactional: isTransactionalBatch(b), control: isControlBatch(b),
    });
  });
  return out;
}

/** Replaying the log must close every transaction it opens: each transactional batch has a later marker of its producer. */
function assertNoDanglingTransaction(hs: Header[]): void {
  const open = new Map<bigint, number>();
  for (const h of hs) {
    if (h.control) open.delete(h.pid);
    else if (h.transactional && !open.has(h.pid)) open.set(h.pid, h.base);
  }
  assert.deepEqual([...open], [], 'a transactional batch with no marker after it');
}

describe('compaction keeps producer state and removes markers (KIP-98, KIP-534)', () => {
  test("a producer's last data batch stays as an empty batch with its header; its earlier emptied batches go", async () => {
    const { m, log, put, idem, fill } = await setup();
    const first = await idem(P, 'a', 'a1');
    const last = await idem(P, 'b', 'b1');
    await put('a', 'a2');
    await put('b', 'b2');
    await fill('f', 12);
    const before = (await headers(log)).find((h) => h.base === last)!;
    assert.equal(await m.runCleaner(), log);
    const after = await headers(log);
    assert.equal(after.find((h) => h.base === first), undefined, 'not the last batch of P: dropped');
    const kept = after.find((h) => h.base === last);
    assert.deepEqual(kept, { ...before, count: 0 }, 'same base offset, offset range, producer id, epoch and base sequence; no records');
    assert.deepEqual(valuesOf(await readBack(log), 'b').map((r) => r.value), ['b2']);
    // Once P writes again, the empty batch is no longer its last and goes at the next cleaning.
    await idem(P, 'c', 'c1');
    await fill('g', 12);
    assert.equal(await m.runCleaner(), log);
    assert.equal((await headers(log)).find((h) => h.base === last), undefined);
  });

  test('a marker whose transaction lost every batch gets a delete horizon, then goes after delete.retention.ms with its txn-index entry', async () => {
    const { env, m, log, put, txn, end, idem, fill } = await setup();
    await put('k', 'v1');
    const first = await txn(P, 'k', 'aborted');
    const abort = await end(P, false);
    log.addAbortedTxn({ producerId: P, firstOffset: first, lastOffset: abort, lastStableOffset: abort + 1 });
    const committed = await txn(Q, 'c', 'c1');
    const commit = await end(Q, true);
    await idem(P, 'p', 'later'); // P's last batch: the aborted one is not kept for P's sequence
    await idem(Q, 'q', 'later');
    await put('c', 'c2'); // supersedes Q's committed value
    await fill('f', 12);
    assert.equal(await m.runCleaner(), log);
    let hs = await headers(log);
    assert.equal(hs.find((h) => h.base === first), undefined, 'aborted data gone');
    assert.equal(hs.find((h) => h.base === committed), undefined, 'superseded committed data gone');
    let markers = (await readBack(log)).filter((r) => r.marker !== null).map((r) => r.offset);
    assert.deepEqual(markers, [abort, commit], 'the markers stay for delete.retention.ms');
    let marked: Buffer | null = null;
    await log.scanBatches(abort, (b) => {
      if (baseOffsetOf(b) === abort) marked = Buffer.from(b);
      return marked === null;
    });
    assert.ok(marked !== null && hasDeleteHorizon(marked), 'the marker got a delete horizon (KIP-534)');
    assert.equal(baseTimestampOf(marked), T0 + 1000, 'now + delete.retention.ms');
    assert.equal(decodeRecords(marked)[0].timestamp, T0, 'the marker record keeps its timestamp');
    assert.equal(controlTypeOf(decodeRecords(marked)[0].key), ControlType.Abort);
    assert.deepEqual(log.abortedTxns(0, log.logEndOffset).map((e) => e.lastOffset), [abort]);
    // Not yet: the horizon is delete.retention.ms (1 s) after the cleaning that found them alone.
    env.clock.advance(500);
    await fill('g', 12);
    assert.equal(await m.runCleaner(), log);
    markers = (await readBack(log)).filter((r) => r.marker !== null).map((r) => r.offset);
    assert.deepEqual(markers, [abort, commit]);
    env.clock.advance(600);
    await fill('h', 12);
    assert.equal(await m.runCleaner(), log);
    markers = (await readBack(log)).filter((r) => r.marker !== null).map((r) => r.offset);
    assert.deepEqual(markers, [], 'both markers removed');
    assert.deepEqual(log.abortedTxns(0, log.logEndOffset), [], 'the aborted entry left with its marker');
    assert.deepEqual(log.segments.flatMap((s) => s.txnIndex.entries), []);
    hs = await headers(log);
    assertNoDanglingTransaction(hs);
    assert.deepEqual(valuesOf(await readBack(log), 'k').map((r) => r.value), ['v1']);
  });

  test('a marker stays while a batch of its transaction remains', async () => {
    const { env, m, log, txn, end, idem, fill } = await setup();
    const live = await txn(P, 'x', 'x1'); // committed and never superseded
    const commit = await end(P, true);
    await idem(P, 'p', 'later');
    await fill('f', 12);
    assert.equal(await m.runCleaner(), log);
    env.clock.advance(5_000);
    await fill('g', 12);
    assert.equal(await m.runCleaner(), log);
    const rows = await readBack(log);
    assert.deepEqual(valuesOf(rows, 'x'), [{ offset: live, value: 'x1' }]);
    assert.deepEqual(rows.filter((r) => r.marker !== null).map((r) => r.offset), [commit], 'its data is still there');
    assertNoDanglingTransaction(await headers(log));
  });

  test("an aborted transaction that was its producer's last write keeps an empty batch, so its marker and entry stay", async () => {
    const { env, m, log, txn, end, fill } = await setup();
    const first = await txn(P, 'k', 'aborted');
    const abort = await end(P, false);
    log.addAbortedTxn({ producerId: P, firstOffset: first, lastOffset: abort, lastStableOffset: abort + 1 });
    await fill('f', 12);
    assert.equal(await m.runCleaner(), log);
    env.clock.advance(5_000);
    await fill('g', 12);
    assert.equal(await m.runCleaner(), log);
    const hs = await headers(log);
    assert.deepEqual(hs.find((h) => h.base === first), { base: first, lastDelta: 0, pid: P, epoch: 0, seq: 0, count: 0, transactional: true, control: false });
    assert.ok(hs.some((h) => h.base === abort && h.control));
    assert.deepEqual(log.abortedTxns(0, log.logEndOffset).map((e) => e.lastOffset), [abort]);
    assertNoDanglingTransaction(hs);
  });
});

describe('segment-end placeholders', () => {
  const header = (opts: { pid: bigint; transactional?: boolean; control?: boolean }) => buildRecordBatch({
    records: opts.control ? [endTxnMarkerRecord(false, 0, T0)] : [{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp: T0 }],
    baseOffset: 40, producerId: opts.pid, producerEpoch: 2, baseSequence: opts.control ? -1 : 7, transactional: opts.transactional, control: opts.control,
  });

  test('an emptied idempotent batch keeps its header; a transactional batch or a marker is replaced by one naming no producer', () => {
    const plain = placeholderFor(header({ pid: P }));
    assert.deepEqual([baseOffsetOf(plain), lastOffsetDeltaOf(plain), producerIdOf(plain), producerEpochOf(plain), baseSequenceOf(plain), recordsCountOf(plain)], [40, 0, P, 2, 7, 0]);
    for (const h of [header({ pid: P, transactional: true }), header({ pid: P, transactional: true, control: true })]) {
      const ph = placeholderFor(h);
      assert.deepEqual([baseOffsetOf(ph), lastOffsetDeltaOf(ph), producerIdOf(ph), isTransactionalBatch(ph), isControlBatch(ph), recordsCountOf(ph)], [40, 0, -1n, false, false, 0]);
    }
  });
});
