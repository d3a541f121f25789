import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/storage/clock.ts';
import type { OpenMode } from '../../src/storage/fs.ts';
import { LogManager } from '../../src/storage/log-manager.ts';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';
import { batch, config, memEnv, readAll, settle } from './helpers.ts';
import type { LogConfig } from '../../src/storage/log-config.ts';

const T0 = 1_700_000_000_000;

async function setup(overrides: Partial<LogConfig>) {
  const cfg = config({ segmentBytes: 400, ...overrides });
  const env = memEnv(cfg);
  env.clock.wall = T0;
  const m = await env.open();
  const log = await m.create('t', 0, 'tid', cfg);
  return { env, m, log, cfg };
}

describe('retention', () => {
  test('retention.ms deletes the prefix of segments whose largest timestamp is too old', async () => {
    const { env, m, log } = await setup({ retentionMs: 10_000 });
    for (let i = 0; i < 12; i++) await log.append(batch(2, { timestamp: T0 + i * 1000 }), { leaderEpoch: 0, sync: false }).done;
    const segs = log.segments.map((s) => ({ base: s.baseOffset, max: s.maxTimestamp }));
    env.clock.wall = T0 + 16_500;
    const deleted = await m.runRetention();
    const expired = segs.slice(0, -1).filter((s) => s.max < T0 + 6_500);
    assert.equal(deleted, expired.length);
    assert.ok(deleted > 0);
    assert.equal(log.logStartOffset, log.segments[0].baseOffset);
    assert.equal((await log.read(0, 100, { maxOffset: 100, minOneBatch: true })).outOfRange, true);
    const names = await env.fs.readdir('/data/t-0');
    for (const s of expired) assert.ok(!names.some((n) => n.startsWith(String(s.base).padStart(20, '0'))), `segment ${s.base} files gone`);
    assert.equal((await readAll(log)).at(-1)?.offset, 23);
  });

  test('an expired active segment is rolled and deleted; the log end offset stays', async () => {
    const { env, m, log } = await setup({ retentionMs: 1000 });
    for (let i = 0; i < 6; i++) await log.append(batch(2, { timestamp: T0 }), { leaderEpoch: 0, sync: false }).done;
    env.clock.wall = T0 + 5000;
    await m.runRetention();
    assert.equal(log.segments.length, 1);
    assert.equal(log.logStartOffset, 12);
    assert.equal(log.logEndOffset, 12);
    assert.equal(log.sizeInBytes(), 0);
    const r = log.append(batch(1, { timestamp: T0 + 5000 }), { leaderEpoch: 0, sync: true });
    assert.equal(r.baseOffset, 12);
    await r.done;
    await m.close();
    const m2 = await env.open();
    assert.equal(m2.get('t', 0)!.logStartOffset, 12);
    assert.deepEqual((await readAll(m2.get('t', 0)!)).map((x) => x.offset), [12]);
  });

  test('retention.bytes deletes whole old segments while the rest still exceeds the limit, never the active one', async () => {
    const { m, log } = await setup({ retentionBytes: 500, retentionMs: -1 });
    for (let i = 0; i < 20; i++) await log.append(batch(2), { leaderEpoch: 0, sync: false }).done;
    const total = log.sizeInBytes();
    await m.runRetention();
    assert.ok(log.sizeInBytes() >= 500, 'no more than needed deleted');
    assert.ok(log.sizeInBytes() - log.segments[0].size < 500 || log.segments.length === 1, 'enough deleted');
    assert.ok(log.sizeInBytes() < total);
    const tiny = await setup({ retentionBytes: 0, retentionMs: -1 });
    for (let i = 0; i < 20; i++) await tiny.log.append(batch(2), { leaderEpoch: 0, sync: false }).done;
    await tiny.m.runRetention();
    assert.equal(tiny.log.segments.length, 1);
    assert.ok(tiny.log.active.size > 0);
  });

  test('cleanup.policy=compact keeps old segments (no time or size retention)', async () => {
    const { env, m, log } = await setup({ retentionMs: 1000, retentionBytes: 10, cleanupPolicy: 'compact', minCleanableDirtyRatio: 1.1 });
    for (let i = 0; i < 10; i++) await log.append(batch(2, { timestamp: T0 }), { leaderEpoch: 0, sync: false }).done;
    const n = log.segments.length;
    env.clock.wall = T0 + 100_000;
    assert.equal(await m.runRetention(), 0);
    assert.equal(log.segments.length, n);
  });

  test('file.delete.delay.ms: deleted segments linger as *.deleted, then go', async () => {
    const { env, m, log } = await setup({ retentionMs: 1000, fileDeleteDelayMs: 30 });
    for (let i = 0; i < 10; i++) await log.append(batch(2, { timestamp: T0 }), { leaderEpoch: 0, sync: false }).done;
    await log.append(batch(2, { timestamp: T0 + 10_000 }), { leaderEpoch: 0, sync: false }).done;
    env.clock.wall = T0 + 5000;
    assert.ok((await m.runRetention()) > 0);
    assert.ok((await env.fs.readdir('/data/t-0')).some((n) => n.endsWith('.log.deleted')));
    await new Promise((r) => setTimeout(r, 60));
    assert.ok(!(await env.fs.readdir('/data/t-0')).some((n) => n.endsWith('.deleted')));
  });

  test('a read racing with the deletion of its segment (file.delete.delay.ms=0) is retried, not an I/O failure', async () => {
    const cfg = config({ segmentBytes: 400, retentionMs: 1000, fileDeleteDelayMs: 0 });
    const mem = new MemoryFileSystem();
    // Reads wait at a gate while armed, so the segment can be deleted under a read in progress.
    let gate: PromiseWithResolvers<void> | null = null;
    const fs = new Proxy(mem, {
      get(target, prop) {
        if (prop !== 'open') return (Reflect.get(target, prop) as (...a: unknown[]) => unknown).bind(target);
        return async (path: string, mode: OpenMode) => {
          const h = await target.open(path, mode);
          const read = h.read.bind(h);
          h.read = async (...args) => {
            if (gate !== null) await gate.promise;
            return read(...args);
          };
          return h;
        };
      },
    });
    const clock = new ManualClock(T0);
    const m = await LogManager.open({ dirs: ['/d'], fs, clock, defaults: cfg, background: false });
    const log = await m.create('t', 0, 'tid', cfg);
    for (let i = 0; i < 10; i++) await log.append(batch(2, { timestamp: T0 }), { leaderEpoch: 0, sync: false }).done;
    await log.append(batch(2, { timestamp: T0 + 10_000 }), { leaderEpoch: 0, sync: false }).done;
    clock.wall = T0 + 5000;
    gate = Promise.withResolvers<void>();
    const reading = log.read(1, 1000, { maxOffset: log.highWatermark, minOneBatch: true });
    await settle(2);
    const opened = gate;
    gate = null;
    assert.ok((await m.runRetention()) > 0);
    opened.resolve();
    const r = await reading;
    assert.equal(log.isOffline, false);
    assert.equal(r.outOfRange, true, 'retried against the new log start');
  });

  test('DeleteRecords survives a restart through the log-start-offset checkpoint', async () => {
    const { env, m, log } = await setup({});
    for (let i = 0; i < 10; i++) await log.append(batch(2), { leaderEpoch: 0, sync: true }).done;
    await log.deleteRecordsBefore(7);
    await m.checkpoint();
    m.halt();
    const m2 = await env.open();
    assert.equal(m2.get('t', 0)!.logStartOffset, 7);
    assert.equal((await readAll(m2.get('t', 0)!))[0].offset, 7);
  });

  test('deleting a partition renames its directory and removes it', async () => {
    const { env, m } = await setup({});
    await m.delete('t', 0);
    assert.equal(m.get('t', 0), undefined);
    assert.deepEqual((await env.fs.readdir('/data')).filter((n) => n.startsWith('t-0')), []);
    const again = await m.create('t', 0, 'tid2', config());
    assert.equal(again.logEndOffset, 0);
  });
});
