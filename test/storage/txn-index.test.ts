// Aborted-transaction indexes (src/storage/txn-index.ts): Kafka's TransactionIndex format, the
// collectAbortedTxns search, and the .txnindex file following its segment through reopen,
// retention, DeleteRecords, truncation, compaction and topic deletion.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildRecordBatch } from '../../src/protocol/record-batch.ts';
import { endTxnMarkerRecord } from '../../src/protocol/records.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import { collectAbortedTxns, decodeTxnEntries, encodeTxnEntries, TXN_ENTRY_SIZE, TxnIndex, type AbortedTxn } from '../../src/storage/txn-index.ts';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';
import { config, memEnv } from './helpers.ts';

const T0 = 1_700_000_000_000;

const entry = (producerId: bigint, firstOffset: number, lastOffset: number, lastStableOffset = lastOffset + 1): AbortedTxn => ({ producerId, firstOffset, lastOffset, lastStableOffset });

describe('txn index format and search', () => {
  test('34-byte big-endian entries: version 0, producer id, first offset, marker offset, LSO', () => {
    const e = [entry(0x0102030405060708n, 10, 20, 15), entry(-1n, 21, 30, 31)];
    const bytes = encodeTxnEntries(e);
    assert.equal(bytes.length, 2 * TXN_ENTRY_SIZE);
    assert.equal(bytes.readInt16BE(0), 0);
    assert.equal(bytes.readBigInt64BE(2), 0x0102030405060708n);
    assert.equal(bytes.readBigInt64BE(10), 10n);
    assert.equal(bytes.readBigInt64BE(18), 20n);
    assert.equal(bytes.readBigInt64BE(26), 15n);
    assert.equal(bytes.readBigInt64BE(34 + 2), -1n);
    assert.deepEqual(decodeTxnEntries(bytes, 0), { entries: e, valid: true });
  });

  test('decoding keeps the valid prefix: a torn entry, an unknown version, disorder or a marker outside the segment end it', () => {
    const bytes = encodeTxnEntries([entry(1n, 10, 20), entry(2n, 21, 30), entry(3n, 31, 40)]);
    assert.deepEqual(decodeTxnEntries(bytes.subarray(0, 2 * TXN_ENTRY_SIZE + 5), 0), { entries: [entry(1n, 10, 20), entry(2n, 21, 30)], valid: false });
    const badVersion = Buffer.from(bytes);
    badVersion.writeInt16BE(1, TXN_ENTRY_SIZE);
    assert.equal(decodeTxnEntries(badVersion, 0).entries.length, 1);
    const disorder = encodeTxnEntries([entry(1n, 10, 20), entry(2n, 11, 19)]);
    assert.equal(decodeTxnEntries(disorder, 0).valid, false);
    assert.equal(decodeTxnEntries(bytes, 0, 31).entries.length, 2, 'marker 31 lies past a segment ending at 31');
    assert.equal(decodeTxnEntries(bytes, 25).entries.length, 0, 'marker 20 lies before the segment base 25');
  });

  test('adding is idempotent per marker offset and keeps marker order; truncation drops markers at or past the offset', () => {
    const idx = new TxnIndex(0);
    assert.equal(idx.add(entry(1n, 0, 10)), true);
    assert.equal(idx.add(entry(2n, 5, 30)), true);
    assert.equal(idx.add(entry(3n, 12, 20)), true, 'inserted in order');
    assert.equal(idx.add(entry(9n, 0, 20)), false, 'a marker already indexed');
    assert.deepEqual(idx.entries.map((e) => e.lastOffset), [10, 20, 30]);
    idx.truncateTo(20);
    assert.deepEqual(idx.entries.map((e) => e.lastOffset), [10]);
  });

  test("collectAbortedTxns: markers at or after the fetch offset, data before the end; stops at an LSO reaching the end (Kafka's rule)", () => {
    // Producer 1: data 0..9, aborted at 10. Producer 3: data 14, aborted at 20 (segment 2). Producer 4:
    // data 25, aborted at 30 with producer 5 open since 22 (LSO 22), producer 5 aborted at 40.
    const a = new TxnIndex(0, [entry(1n, 0, 10, 11)]);
    const b = new TxnIndex(15, [entry(3n, 14, 20, 21), entry(4n, 25, 30, 22)]);
    const c = new TxnIndex(35, [entry(5n, 22, 40, 41)]);
    const segs = [a, b, c];
    const ids = (from: number, to: number) => {
      let i = 0;
      while (i + 1 < segs.length && segs[i + 1].baseOffset <= from) i++;
      return collectAbortedTxns(segs.slice(i), from, to).map((e) => e.producerId);
    };
    assert.deepEqual(ids(0, 5), [1n], 'the LSO after marker 10 (11) reaches 5: stop');
    assert.deepEqual(ids(0, 21), [1n, 3n]);
    assert.deepEqual(ids(11, 14), [], 'marker 10 is below the fetch, producer 3 starts at 14');
    assert.deepEqual(ids(11, 15), [3n]);
    assert.deepEqual(ids(21, 24), [5n], 'producer 5 (from 22) is aborted in a later segment: the search goes on past LSO 22 < 24');
    assert.deepEqual(ids(41, 50), []);
  });

  test('persist appends what the file lacks, rewrites it after truncation, and creates no file for an empty index', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d');
    const path = '/d/00000000000000000000.txnindex';
    const idx = new TxnIndex(0);
    await idx.persist(fs, path);
    assert.equal(await fs.stat(path), null);
    idx.add(entry(1n, 0, 10));
    idx.add(entry(2n, 3, 12));
    await idx.persist(fs, path);
    assert.equal(idx.dirty, false);
    idx.add(entry(3n, 13, 15));
    await idx.persist(fs, path);
    assert.deepEqual(decodeTxnEntries(await fs.readFile(path), 0).entries, idx.entries);
    idx.truncateTo(12);
    await idx.persist(fs, path);
    assert.equal((await fs.readFile(path)).length, TXN_ENTRY_SIZE);
    fs.crash('none');
    assert.deepEqual((await TxnIndex.load(fs, path, 0)).entries, [entry(1n, 0, 10)], 'durable: fdatasync and the directory entry');
  });
});

async function setup(segmentBytes = 300) {
  const cfg = config({ segmentBytes });
  const env = memEnv(cfg);
  env.clock.wall = T0;
  const m = await env.open();
  const log = await m.create('t', 0, 'tid', cfg);
  return { env, m, log, cfg };
}

/** Appends one record of `pid` (transactional) or an ABORT marker; returns its offset. */
async function put(log: PartitionLog, pid: bigint, kind: 'data' | 'abort'): Promise<number> {
  const batch = kind === 'data'
    ? buildRecordBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('v'.repeat(40)), timestamp: T0 }], producerId: pid, producerEpoch: 0, baseSequence: 0, transactional: true })
    : buildRecordBatch({ records: [endTxnMarkerRecord(false, 0, T0)], producerId: pid, producerEpoch: 0, baseSequence: -1, transactional: true, control: true });
  const { baseOffset, done } = log.append(batch, { leaderEpoch: 0, sync: true });
  await done;
  return baseOffset;
}

/** `rounds` aborted transactions of one record each, each entry added as the txn layer would. */
async function abortedTxns(log: PartitionLog, rounds: number): Promise<AbortedTxn[]> {
  const out: AbortedTxn[] = [];
  for (let i = 0; i < rounds; i++) {
    const pid = BigInt(100 + i);
    const first = await put(log, pid, 'data');
    const marker = await put(log, pid, 'abort');
    const e = entry(pid, first, marker);
    log.addAbortedTxn(e);
    out.push(e);
  }
  return out;
}

function indexed(log: PartitionLog): AbortedTxn[] {
  return log.segments.flatMap((s) => s.txnIndex.entries);
}

describe('txn index files of a partition log', () => {
  test('entries go to the segment holding the marker and are read back from the .txnindex files after a reopen', async () => {
    const { env, m, log } = await setup();
    const expected = await abortedTxns(log, 8);
    assert.ok(log.segments.length >= 3, 'several segments');
    for (const s of log.segments) for (const e of s.txnIndex.entries) assert.ok(e.lastOffset >= s.baseOffset && e.lastOffset < s.nextOffset);
    assert.deepEqual(indexed(log), expected);
    await m.close();
    const files = (await env.fs.readdir(log.dir)).filter((n) => n.endsWith('.txnindex'));
    assert.ok(files.length >= 2, files.join(','));
    const m2 = await env.open();
    const again = m2.get('t', 0)!;
    assert.deepEqual(indexed(again), expected);
    assert.deepEqual(again.abortedTxns(0, again.logEndOffset), expected);
    assert.equal(again.txnIndexRebuildFrom, Number.MAX_SAFE_INTEGER, 'a clean shutdown leaves nothing to rebuild');
    await m2.close();
  });

  test('a checkpoint writes the txn indexes of segments below the recovery point; an unclean start empties those of re-scanned segments and asks for a rebuild', async () => {
    const { env, m, log } = await setup();
    const expected = await abortedTxns(log, 8);
    await m.checkpoint();
    const rp = log.recoveryPoint;
    const durable = expected.filter((e) => log.segments.some((s) => s.sealed && s.nextOffset <= rp && e.lastOffset >= s.baseOffset && e.lastOffset < s.nextOffset));
    assert.ok(durable.length > 0 && durable.length < expected.length);
    m.halt();
    env.fs.crash('none');
    const m2 = await env.open();
    const again = m2.get('t', 0)!;
    assert.deepEqual(indexed(again), durable, 'segments below the recovery point keep their files');
    const firstRescanned = again.segments.findLast((s) => s.baseOffset <= rp)!;
    assert.ok(again.txnIndexRebuildFrom >= firstRescanned.baseOffset && again.txnIndexRebuildFrom < again.logEndOffset);
    // Until the transaction layer has rebuilt them, the recovery point is not checkpointed past it.
    await again.flush();
    assert.equal((await again.checkpointState()).recoveryPoint, again.txnIndexRebuildFrom);
    for (const e of expected) again.addAbortedTxn(e);
    again.txnIndexRebuilt(firstRescanned.baseOffset);
    assert.equal((await again.checkpointState()).recoveryPoint, again.logEndOffset);
    assert.deepEqual(indexed(again), expected);
    await m2.close();
  });

  test('retention and DeleteRecords delete the .txnindex with its segment, and its entries leave memory', async () => {
    const { env, m, log } = await setup();
    const expected = await abortedTxns(log, 8);
    const victim = log.segments[1];
    assert.ok(victim.txnIndex.count > 0);
    const path = victim.txnIndexPath;
    await m.close();
    const m2 = await env.open();
    const again = m2.get('t', 0)!;
    assert.notEqual(await env.fs.stat(path), null);
    const gone = again.segments.slice(0, 2);
    const cut = again.segments[2].baseOffset;
    await again.deleteRecordsBefore(cut);
    assert.equal(await env.fs.stat(path), null);
    for (const s of gone) assert.equal(s.txnIndex.count, 0);
    assert.deepEqual(indexed(again), expected.filter((e) => e.lastOffset >= cut));
    assert.deepEqual(again.abortedTxns(cut, again.logEndOffset), expected.filter((e) => e.lastOffset >= cut));
    assert.equal(await env.fs.stat(path + '.deleted'), null, 'file.delete.delay.ms is 0 here');
    // retention.ms: every segment has expired; the active one is rolled and goes too.
    const paths = again.segments.filter((s) => s.txnIndex.count > 0).map((s) => s.txnIndexPath);
    assert.ok(paths.length > 0);
    again.updateConfig({ ...again.config, retentionMs: 1000 });
    env.clock.advance(10_000);
    assert.ok((await again.deleteOldSegments()) > 0);
    for (const p of paths) assert.equal(await env.fs.stat(p), null, p);
    assert.deepEqual(indexed(again), []);
    assert.deepEqual(again.abortedTxns(again.logStartOffset, again.logEndOffset), []);
    await m2.close();
  });

  test('truncation drops the entries of markers at or after the truncation offset, in memory and in the file', async () => {
    const { env, m, log } = await setup(100_000);
    const expected = await abortedTxns(log, 4);
    await m.checkpoint();
    await log.persistTxnIndexes();
    await log.truncateTo(expected[2].lastOffset);
    assert.deepEqual(indexed(log), expected.slice(0, 2));
    assert.deepEqual(log.abortedTxns(0, log.logEndOffset), expected.slice(0, 2));
    const path = log.active.txnIndexPath;
    assert.equal(env.fs.peek(path).length, 2 * TXN_ENTRY_SIZE);
    await m.close();
  });

  test('compaction writes the cleaned segment its txn index (the entries of the merged segments)', async () => {
    const cfg = config({ segmentBytes: 300, cleanupPolicy: 'compact', minCleanableDirtyRatio: 0.01 });
    const env = memEnv(cfg);
    env.clock.wall = T0;
    const m = await env.open();
    const log = await m.create('t', 0, 'tid', cfg);
    const expected = await abortedTxns(log, 8);
    const before = log.segments.length;
    log.updateConfig({ ...cfg, segmentBytes: 100_000 });
    assert.equal(await m.runCleaner(), log);
    assert.ok(log.segments.length < before, 'segments were merged');
    assert.deepEqual(indexed(log), expected);
    for (const s of log.segments) for (const e of s.txnIndex.entries) assert.ok(e.lastOffset >= s.baseOffset && e.lastOffset < s.nextOffset);
    assert.deepEqual(log.abortedTxns(0, log.logEndOffset), expected);
    await m.close();
    const m2 = await env.open();
    assert.deepEqual(indexed(m2.get('t', 0)!), expected);
    await m2.close();
  });

  test('recovery completes an interrupted swap with its .txnindex.swap', async () => {
    const { env, m, log } = await setup();
    const expected = await abortedTxns(log, 8);
    await m.close();
    const [s1, s2] = [log.segments[1], log.segments[2]];
    assert.ok(s1.txnIndex.count > 0 && s2.txnIndex.count > 0);
    // What a cleaning merging segments 1 and 2 leaves when it stops right after the .log.swap rename.
    const merged = [...s1.txnIndex.entries, ...s2.txnIndex.entries];
    const write = async (path: string, data: Buffer) => {
      const h = await env.fs.open(path, 'w+');
      await h.writev([data], 0);
      await h.datasync();
      await h.close();
    };
    await write(s1.logPath + '.swap', Buffer.concat([await env.fs.readFile(s1.logPath), await env.fs.readFile(s2.logPath)]));
    await write(s1.txnIndexPath + '.swap', encodeTxnEntries(merged));
    const m2 = await env.open();
    const again = m2.get('t', 0)!;
    assert.equal(again.segments.length, log.segments.length - 1);
    assert.deepEqual(again.segments[1].txnIndex.entries, merged);
    assert.deepEqual(indexed(again), expected);
    assert.equal(await env.fs.stat(s2.txnIndexPath), null, 'the covered segment went with its index');
    await m2.close();
  });

  test('recovery discards a .txnindex.swap whose swap never started', async () => {
    const { env, m, log } = await setup();
    await abortedTxns(log, 6);
    await m.close();
    const dir = log.dir;
    const base = log.segments[1].baseOffset;
    const name = (suffix: string) => `${dir}/${String(base).padStart(20, '0')}${suffix}`;
    // A cleaning that wrote its outputs but never renamed the .log.cleaned to .log.swap: both go.
    const h = await env.fs.open(name('.txnindex.swap'), 'w+');
    await h.writev([encodeTxnEntries([entry(5n, base, base + 1)])], 0);
    await h.close();
    const c = await env.fs.open(name('.log.cleaned'), 'w+');
    await c.close();
    const m2 = await env.open();
    const again = m2.get('t', 0)!;
    const names = await env.fs.readdir(dir);
    assert.ok(!names.some((n) => n.endsWith('.swap') || n.endsWith('.cleaned')), names.join(','));
    assert.notDeepEqual(again.segments[1].txnIndex.entries, [entry(5n, base, base + 1)]);
    await m2.close();
  });

  test('deleting the topic removes its txn indexes', async () => {
    const { env, m, log } = await setup();
    await abortedTxns(log, 6);
    await log.persistTxnIndexes();
    const dir = log.dir;
    assert.ok((await env.fs.readdir(dir)).some((n) => n.endsWith('.txnindex')));
    await m.delete('t', 0);
    assert.equal(await env.fs.stat(dir), null);
    const all = await env.fs.readdir('/data');
    assert.ok(!all.some((n) => n.startsWith('t-0')), all.join(','));
    await m.close();
  });
});
