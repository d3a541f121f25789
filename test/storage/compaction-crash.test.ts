// Property: a crash at a random point of a compaction (power loss: unsynced writes lost or torn,
// unsynced renames undone) never loses the latest record of a key, never serves a record that was
// not appended at that offset, and never serves a corrupt batch. The dying process's file system
// access is cut off at the crash, as a killed process's would be.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitBatches } from '../../src/protocol/record-batch.ts';
import { checkBatch } from '../../src/storage/batch-scan.ts';
import { LogManager } from '../../src/storage/log-manager.ts';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';
import { ManualClock } from '../../src/storage/clock.ts';
import { batch, config, killable, readAll } from './helpers.ts';

function rng(seed: number): () => number {
  let x = seed * 2654435761 + 1;
  return () => {
    x = (x * 48271) % 2147483647;
    return x / 2147483647;
  };
}

test('a crash during compaction loses no latest value and serves nothing corrupt', async () => {
  const seeds = Number(process.env.STORAGE_SEEDS ?? 250) / 5;
  let interrupted = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = rng(seed);
    const mem = new MemoryFileSystem();
    const clock = new ManualClock();
    const cfg = config({ segmentBytes: 300 + Math.floor(r() * 700), cleanupPolicy: 'compact', minCleanableDirtyRatio: 0.01, indexIntervalBytes: 100 });
    const first = killable(mem);
    const m = await LogManager.open({ dirs: ['/d'], fs: first.fs, clock, defaults: cfg, background: false });
    const log = await m.create('c', 0, 'cid', cfg);
    const written = new Map<number, string>();
    const latest = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const key = `k${Math.floor(r() * 8)}`;
      const value = r() < 0.1 ? null : `${key}=${i}`;
      const { baseOffset, done } = log.append(batch([{ key, value }]), { leaderEpoch: 0, sync: true });
      await done;
      written.set(baseOffset, value ?? 'null');
      latest.set(key, baseOffset);
    }
    let finished = false;
    const cleaning = m.runCleaner().catch(() => null).finally(() => (finished = true));
    // The in-memory fs completes I/O in microtasks: crash after a random number of them.
    const ticks = Math.floor(r() * 500);
    for (let t = 0; t < ticks && !finished; t++) await Promise.resolve();
    const cut = !finished;
    first.kill();
    m.halt();
    mem.crash('random', r);
    await cleaning;

    const m2 = await LogManager.open({ dirs: ['/d'], fs: mem, clock, defaults: cfg, background: false });
    const log2 = m2.get('c', 0)!;
    const rows = await readAll(log2);
    const where = `seed ${seed} (crash after ${ticks} ticks, cleaning ${cut ? 'interrupted' : 'finished'})`;
    if (cut) interrupted++;
    for (const row of rows) assert.equal(row.value ?? 'null', written.get(row.offset), `${where}: offset ${row.offset}`);
    const served = new Set(rows.map((x) => x.offset));
    for (const [key, offset] of latest) {
      // A tombstone may go once its horizon passed; the clock does not move here, so it stays too.
      assert.ok(served.has(offset), `${where}: latest record of ${key} (offset ${offset}) lost`);
    }
    assert.equal(log2.logEndOffset, 60, where);
    const all = await log2.read(0, 1 << 30, { maxOffset: log2.highWatermark, minOneBatch: true });
    for (const { pos, size } of splitBatches(all.records)) assert.equal(checkBatch(all.records, pos, pos + size), size, where);
    const names = await mem.readdir('/d/c-0');
    assert.ok(!names.some((n) => n.endsWith('.swap') || n.endsWith('.cleaned')), `${where}: ${names.join()}`);
    await m2.close();
  }
  assert.ok(interrupted > seeds / 4, `only ${interrupted} of ${seeds} crashes interrupted a cleaning`);
});
