// The aborted-transaction indexes (per-segment .txnindex files) bound to the producer-state layer:
// markers written by the marker writer land in the index of the segment holding them; after a crash
// (in-memory fs losing or keeping unsynced bytes) the replay gives exactly one entry per ABORT
// marker in the recovered log; an upgrade from version-1 snapshots moves their aborted list into the
// files; and a read_committed Fetch across several segments lists the same aborted transactions
// before and after a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRecordBatch } from '../../src/protocol/record-batch.ts';
import { crc32c } from '../../src/protocol/crc32c.ts';
import { appendToPartition } from '../../src/broker/produce.ts';
import type { TopicSettings } from '../../src/broker/topic-settings.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import type { AbortedTxn } from '../../src/storage/txn-index.ts';
import { PartitionProducerState } from '../../src/txn/producer-state.ts';
import { ProducerStates, replayBatch } from '../../src/txn/producer-states.ts';
import { startTestBroker } from '../helpers/broker.ts';
import { config, killable, memEnv } from '../storage/helpers.ts';
import { LogManager } from '../../src/storage/log-manager.ts';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';
import { ManualClock } from '../../src/storage/clock.ts';
import { ControlType, controlTypeOf } from '../../src/protocol/records.ts';
import { decodeRecords, isControlBatch, producerIdOf } from '../../src/protocol/record-batch.ts';
import { createTopic } from './harness.ts';
import { Raw, batchOf } from './raw.ts';

const NOW = 1_700_000_000_000;
const quiet = { log: () => {}, now: () => NOW };

function settings(segmentBytes: number): TopicSettings {
  return {
    maxMessageBytes: 1 << 20, timestampType: 'CreateTime', timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER, timestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
    compacted: false, minInsyncReplicas: 1, logConfig: config({ segmentBytes }),
  };
}

/** Drives transactions of several producers against one log through the produce path and the marker writer. */
class Driver {
  readonly seqs = new Map<bigint, number>();
  compacted = false;
  readonly log: PartitionLog;
  readonly ps: ProducerStates;
  readonly acks: -1 | 1;

  constructor(log: PartitionLog, ps: ProducerStates, acks: -1 | 1) {
    this.log = log;
    this.ps = ps;
    this.acks = acks;
  }

  async data(pid: bigint, key: string | null = null, transactional = true): Promise<void> {
    const seq = this.seqs.get(pid) ?? 0;
    this.seqs.set(pid, seq + 1);
    const batch = buildRecordBatch({
      records: [{ key: key === null ? null : Buffer.from(key), value: Buffer.from(`p${pid}-${seq}`), timestamp: NOW }],
      producerId: pid, producerEpoch: 0, baseSequence: seq, transactional,
    });
    const s = { ...settings(this.log.config.segmentBytes), compacted: this.compacted };
    const o = appendToPartition(this.log, batch, { settings: s, apiVersion: 9, acks: this.acks, leaderEpoch: 0, fsyncAcksAll: true, now: NOW, producers: this.ps, verify: transactional ? () => 0 : null });
    assert.equal(o.errorCode, 0, o.errorMessage ?? '');
    await o.done;
  }

  end(pid: bigint, commit: boolean): Promise<void> {
    return this.ps.appendMarker(this.log, { producerId: pid, producerEpoch: 0, commit, coordinatorEpoch: 0, leaderEpoch: 0, sync: this.acks === -1 });
  }
}

/** One entry per ABORT marker that ends a transaction, from a replay of the whole log. */
async function expectedEntries(log: PartitionLog): Promise<AbortedTxn[]> {
  const state = new PartitionProducerState();
  const out: AbortedTxn[] = [];
  await log.scanBatches(log.logStartOffset, (b) => replayBatch(state, b, (e) => out.push(e)));
  return out;
}

const indexed = (log: PartitionLog): AbortedTxn[] => log.segments.flatMap((s) => s.txnIndex.entries);

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

test('after a crash (power loss or kill -9) the replay leaves exactly one txn-index entry per ABORT marker in the recovered log', async () => {
  const seeds = Number(process.env.TXN_INDEX_SEEDS ?? 40);
  let rebuilt = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = rng(seed);
    const env = memEnv();
    let m = await env.open();
    let log = await m.create('t', 0, 'tid', config({ segmentBytes: 250 + Math.floor(r() * 300) }));
    let ps = new ProducerStates(quiet);
    const d = new Driver(log, ps, r() < 0.5 ? -1 : 1);
    const open = new Set<bigint>();
    const steps = 30 + Math.floor(r() * 50);
    for (let i = 0; i < steps; i++) {
      const pid = BigInt(1 + Math.floor(r() * 4));
      if (open.has(pid) && r() < 0.4) {
        await d.end(pid, r() < 0.4);
        open.delete(pid);
      } else {
        await d.data(pid);
        open.add(pid);
      }
      if (r() < 0.1) await m.checkpoint();
    }
    const where = `seed ${seed}`;
    assert.deepEqual(indexed(log), await expectedEntries(log), `${where}: live`);
    m.halt();
    env.fs.crash(r() < 0.5 ? 'random' : r() < 0.5 ? 'none' : 'all', r);

    m = await env.open();
    log = m.get('t', 0)!;
    if (log.txnIndexRebuildFrom !== Number.MAX_SAFE_INTEGER) rebuilt++;
    ps = new ProducerStates(quiet);
    await ps.loadAll(m.all());
    assert.equal(log.txnIndexRebuildFrom, Number.MAX_SAFE_INTEGER, `${where}: rebuilt`);
    const expected = await expectedEntries(log);
    assert.deepEqual(indexed(log), expected, `${where}: after recovery`);
    for (const s of log.segments) for (const e of s.txnIndex.entries) assert.ok(e.lastOffset >= s.baseOffset && e.lastOffset < s.nextOffset, `${where}: entry in its segment`);
    // The rebuilt entries reach the files: a clean restart reads the same.
    await ps.snapshotAll(m.all());
    await m.close();
    m = await env.open();
    assert.deepEqual(indexed(m.get('t', 0)!), expected, `${where}: after a clean restart`);
    await m.close();
  }
  assert.ok(rebuilt > seeds / 4, `only ${rebuilt} of ${seeds} crashes needed a rebuild`);
});

test('a version-1 snapshot (upgrade: no .txnindex files yet) hands its aborted list to the txn indexes, which are written at once', async () => {
  const env = memEnv();
  let m = await env.open();
  let log = await m.create('t', 0, 'tid', config({ segmentBytes: 300 }));
  let ps = new ProducerStates(quiet);
  const d = new Driver(log, ps, -1);
  for (let i = 0; i < 6; i++) {
    await d.data(1n);
    await d.data(2n);
    await d.end(1n, false);
    await d.end(2n, i % 2 === 0);
  }
  const expected = await expectedEntries(log);
  assert.equal(expected.length, 9);
  await ps.snapshotAll([log]);
  await m.close();
  // Turn the broker's files into what the previous version left: a version-1 snapshot carrying the
  // aborted index, and no .txnindex files.
  const dir = log.dir;
  for (const n of await env.fs.readdir(dir)) if (n.endsWith('.txnindex')) await env.fs.unlink(`${dir}/${n}`);
  const snaps = (await env.fs.readdir(dir)).filter((n) => n.endsWith('.snapshot')).sort();
  const snapName = snaps.pop()!;
  for (const n of snaps) await env.fs.unlink(`${dir}/${n}`);
  const v2 = await env.fs.readFile(`${dir}/${snapName}`);
  assert.equal(v2.readInt16BE(0), 2);
  const tail = Buffer.alloc(4 + expected.length * 32);
  tail.writeInt32BE(expected.length, 0);
  expected.forEach((e, i) => {
    tail.writeBigInt64BE(e.producerId, 4 + i * 32);
    tail.writeBigInt64BE(BigInt(e.firstOffset), 12 + i * 32);
    tail.writeBigInt64BE(BigInt(e.lastOffset), 20 + i * 32);
    tail.writeBigInt64BE(BigInt(e.lastStableOffset), 28 + i * 32);
  });
  const v1 = Buffer.concat([v2, tail]);
  v1.writeInt16BE(1, 0);
  v1.writeUInt32BE(crc32c(v1, 6), 2);
  const h = await env.fs.open(`${dir}/${snapName}`, 'w+');
  await h.writev([v1], 0);
  await h.datasync();
  await h.close();

  m = await env.open();
  log = m.get('t', 0)!;
  assert.deepEqual(indexed(log), [], 'no files');
  ps = new ProducerStates(quiet);
  await ps.loadAll(m.all());
  assert.deepEqual(indexed(log), expected);
  assert.ok((await env.fs.readdir(dir)).some((n) => n.endsWith('.txnindex')), 'written without waiting for a checkpoint');
  m.halt();
  env.fs.crash('none');
  m = await env.open();
  log = m.get('t', 0)!;
  assert.deepEqual(indexed(log).filter((e) => e.lastOffset < log.txnIndexRebuildFrom), expected.filter((e) => e.lastOffset < log.txnIndexRebuildFrom));
  ps = new ProducerStates(quiet);
  await ps.loadAll(m.all());
  assert.deepEqual(indexed(log), expected);
  await m.close();
});

test('read_committed Fetch across several segments lists the same aborted transactions before and after a restart', async () => {
  let b = await startTestBroker({ 'log.segment.bytes': '400', 'transaction.state.log.num.partitions': '1' }, { quiet: true });
  const dataDir = b.dataDir;
  let raw = await Raw.connect(b.host, b.port);
  try {
    const topic = 'aborts';
    await createTopic(b.host, b.port, topic, 1);
    const ids = ['ta', 'tb'];
    const pids = new Map<string, { pid: bigint; epoch: number; seq: number }>();
    for (const id of ids) {
      const r = await raw.initProducerId(id);
      assert.equal(r.errorCode, 0);
      pids.set(id, { pid: r.producerId, epoch: r.producerEpoch, seq: 0 });
    }
    const expected: { producerId: bigint; firstOffset: number }[] = [];
    for (let round = 0; round < 6; round++) {
      const first = new Map<string, number>();
      for (const id of ids) {
        const p = pids.get(id)!;
        assert.deepEqual(await raw.addPartitions(id, p.pid, p.epoch, topic, [0]), [0]);
      }
      for (let k = 0; k < 3; k++) {
        for (const id of ids) {
          const p = pids.get(id)!;
          const res = await raw.produce(topic, 0, batchOf([`${id}-${round}-${k}-${'x'.repeat(60)}`], { producerId: p.pid, epoch: p.epoch, seq: p.seq++, transactional: true }), id);
          assert.equal(res.errorCode, 0);
          if (!first.has(id)) first.set(id, res.baseOffset);
        }
      }
      for (const id of ids) {
        const p = pids.get(id)!;
        const commit = (round + (id === 'ta' ? 0 : 1)) % 3 === 0;
        assert.equal(await raw.endTxn(id, p.pid, p.epoch, commit), 0);
        if (!commit) expected.push({ producerId: p.pid, firstOffset: first.get(id)! });
      }
    }
    const log = b.broker.logs.get(topic, 0)!;
    assert.ok(log.segments.length >= 4, `several segments: ${log.segments.length}`);
    const sorted = (l: { producerId: bigint; firstOffset: number }[] | null) => [...(l ?? [])].sort((x, y) => x.firstOffset - y.firstOffset || Number(x.producerId - y.producerId));
    /** Every read_committed fetch from each batch start to the end, with its aborted list. */
    const sweep = async () => {
      const out: string[] = [];
      let offset = 0;
      for (let guard = 0; guard < 200 && offset < log.highWatermark; guard++) {
        const f = await raw.fetch(topic, 0, offset, 1);
        assert.equal(f.errorCode, 0);
        out.push(`${offset}: ${sorted(f.aborted).map((a) => `${a.producerId}@${a.firstOffset}`).join(',')}`);
        if (f.batches.length === 0) break;
        offset = f.batches[0].baseOffset + 1;
      }
      return out;
    };
    const whole = await raw.fetch(topic, 0, 0, 1);
    // One fetch returns at most the first segment (reads stop at a segment end, as Kafka's).
    const firstEnd = log.segments[1].baseOffset;
    assert.deepEqual(sorted(whole.aborted), sorted(expected.filter((e) => e.firstOffset < firstEnd)));
    const before = await sweep();
    raw.close();
    await b.stop();
    b = await startTestBroker({ 'log.segment.bytes': '400', 'transaction.state.log.num.partitions': '1' }, { quiet: true, dataDir });
    raw = await Raw.connect(b.host, b.port);
    const after = await sweep();
    assert.deepEqual(after, before);
    assert.ok(before.filter((l) => !l.endsWith(': ')).length > 5, before.join('\n'));
    // Every aborted transaction is listed by some fetch that returns its first batch.
    const listed = new Set(before.flatMap((l) => l.split(': ')[1].split(',').filter((x) => x !== '')));
    for (const e of expected) assert.ok(listed.has(`${e.producerId}@${e.firstOffset}`), `${e.producerId}@${e.firstOffset}`);
  } finally {
    raw.close();
    await b.close();
    const { rm } = await import('node:fs/promises');
    await rm(dataDir, { recursive: true, force: true });
  }
});

/** ABORT markers in the log: marker offset → producer id. */
async function abortMarkers(log: PartitionLog): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>();
  await log.scanBatches(log.logStartOffset, (b) => {
    if (!isControlBatch(b)) return;
    for (const r of decodeRecords(b)) if (controlTypeOf(r.key) === ControlType.Abort) out.set(r.offset, producerIdOf(b));
  });
  return out;
}

test('a crash during a compaction of transactional data: every txn-index entry names an ABORT marker in the log, and every abort a replay finds is indexed', async () => {
  const seeds = Number(process.env.TXN_INDEX_SEEDS ?? 40);
  let interrupted = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = rng(seed * 7919);
    const mem = new MemoryFileSystem();
    const clock = new ManualClock(NOW);
    const cfg = config({ segmentBytes: 300 + Math.floor(r() * 400), cleanupPolicy: 'compact', minCleanableDirtyRatio: 0.01, deleteRetentionMs: 0 });
    const view = killable(mem);
    const m = await LogManager.open({ dirs: ['/d'], fs: view.fs, clock, defaults: cfg, background: false });
    const log = await m.create('c', 0, 'cid', cfg);
    const d = new Driver(log, new ProducerStates(quiet), -1);
    d.compacted = true;
    const open = new Set<bigint>();
    for (let i = 0; i < 50; i++) {
      const pid = BigInt(1 + Math.floor(r() * 3));
      const key = `k${Math.floor(r() * 5)}`;
      if (open.has(pid) && r() < 0.35) {
        await d.end(pid, r() < 0.4);
        open.delete(pid);
      } else if (!open.has(pid) && r() < 0.3) {
        await d.data(pid, key, false);
      } else {
        await d.data(pid, key);
        open.add(pid);
      }
    }
    for (const pid of open) await d.end(pid, false);
    for (let i = 0; i < 10; i++) await d.data(9n, `f${i}`, false);
    // A first cleaning gives markers their delete horizon (delete.retention.ms = 0): the second may remove some.
    if (r() < 0.5) await m.runCleaner();
    let finished = false;
    const cleaning = m.runCleaner().catch(() => null).finally(() => (finished = true));
    const ticks = Math.floor(r() * 600);
    for (let t = 0; t < ticks && !finished; t++) await Promise.resolve();
    if (!finished) interrupted++;
    view.kill();
    m.halt();
    mem.crash('random', r);
    await cleaning;

    const m2 = await LogManager.open({ dirs: ['/d'], fs: mem, clock, defaults: cfg, background: false });
    const log2 = m2.get('c', 0)!;
    const ps = new ProducerStates(quiet);
    await ps.loadAll(m2.all());
    const where = `seed ${seed}`;
    assert.equal(ps.lastStableOffset(log2), log2.highWatermark, `${where}: no transaction left open by the cleaning`);
    const markers = await abortMarkers(log2);
    const entries = indexed(log2);
    for (const e of entries) assert.equal(markers.get(e.lastOffset), e.producerId, `${where}: entry at ${e.lastOffset} has its ABORT marker`);
    const byMarker = new Map(entries.map((e) => [e.lastOffset, e]));
    for (const e of await expectedEntries(log2)) {
      const got = byMarker.get(e.lastOffset);
      assert.ok(got !== undefined && got.producerId === e.producerId && got.firstOffset <= e.firstOffset, `${where}: abort at ${e.lastOffset} indexed`);
    }
    await m2.close();
  }
  assert.ok(interrupted > seeds / 5, `only ${interrupted} of ${seeds} crashes interrupted a cleaning`);
});
