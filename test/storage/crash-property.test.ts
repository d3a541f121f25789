// Property: random appends (acks=all and acks=1), random background progress, injected disk
// faults (ENOSPC, EIO on write or fdatasync, possibly after a partial write), then a crash that
// loses unsynced bytes (all of them, none of them, or a random prefix with a torn write). After
// recovery (unsynced writes that survive may also hold a flipped byte): every acknowledged-as-durable record is there with its value, every record served is
// one that was appended at that offset (no corrupt or foreign batch), offsets form a prefix, and the
// log accepts and serves new appends. STORAGE_SEEDS sets the number of seeds (default 250); a
// failure names the seed, and STORAGE_SEED=<n> replays just that one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBatch } from '../../src/storage/batch-scan.ts';
import { CLEAN_SHUTDOWN_FILE } from '../../src/storage/file-names.ts';
import type { CrashMode } from '../../src/storage/memory-fs.ts';
import { splitBatches } from '../../src/protocol/record-batch.ts';
import { LogManager } from '../../src/storage/log-manager.ts';
import { batch, config, killable, memEnv, readAll, records, settle } from './helpers.ts';
import { seeded as mulberry32 } from '../helpers/seeded.ts';


async function runSeed(seed: number): Promise<void> {
  const rng = mulberry32(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
  const cfg = config({ segmentBytes: int(300, 4000), indexIntervalBytes: int(50, 1500), segmentIndexBytes: int(16, 400) });
  const env = memEnv(cfg);
  // The manager that crashes gets a view of the fs that dies with it: a killed process's pending
  // work must not touch the disk afterwards.
  let view = killable(env.fs);
  const open = () => LogManager.open({ dirs: ['/data'], fs: view.fs, clock: env.clock, defaults: cfg, background: false });
  let m = await open();
  let log = await m.create('p', 0, 'topic-id', cfg);
  const values = new Map<number, string>();
  const durable = new Set<number>();
  let counter = 0;
  const steps = int(3, 30);
  for (let s = 0; s < steps; s++) {
    const op = rng();
    if (op < 0.68) {
      const parts: Buffer[] = [];
      const nBatches = int(1, 3);
      const texts: string[] = [];
      for (let b = 0; b < nBatches; b++) {
        const n = int(1, 6);
        const list = Array.from({ length: n }, () => {
          const v = `s${seed}-${counter++}-${'x'.repeat(int(0, 120))}`;
          texts.push(v);
          return { key: `k${int(0, 9)}`, value: v };
        });
        parts.push(batch(list));
      }
      const sync = rng() < 0.5;
      let appended: { baseOffset: number; done: Promise<void> };
      try {
        appended = log.append(Buffer.concat(parts), { leaderEpoch: int(0, 3), sync });
      } catch {
        continue; // offline after an injected fault: nothing assigned
      }
      const { baseOffset, done } = appended;
      // An offset may be assigned again after a failed write was rolled back: latest wins.
      texts.forEach((t, i) => values.set(baseOffset + i, t));
      if (sync) {
        done.then(() => texts.forEach((_, i) => durable.add(baseOffset + i)), () => {});
      }
    } else if (op < 0.74) {
      // Disk trouble: a full disk (transient) or an I/O error (the log dir goes offline).
      const kind = (['write', 'datasync'] as const)[int(0, 1)];
      env.fs.failNext(kind, rng() < 0.7 ? 'ENOSPC' : 'EIO', { pathIncludes: '.log', partialBytes: int(0, 200) });
    } else if (op < 0.85) {
      await settle(int(1, 4));
    } else if (op < 0.9) {
      await m.checkpoint();
    } else if (op < 0.95) {
      env.clock.advance(int(1, 10_000));
      await settle(2);
    } else {
      // Clean restart: everything appended so far becomes durable.
      const end = log.logEndOffset;
      await m.close();
      // A clean close (marker written) made everything appended durable; a failed one, nothing more.
      if ((await env.fs.stat(`/data/${CLEAN_SHUTDOWN_FILE}`)) !== null) for (const o of values.keys()) if (o < end) durable.add(o);
      env.fs.clearFaults();
      m = await open();
      log = m.get('p', 0)!;
    }
  }
  await settle(int(0, 3));
  const mode = (['none', 'random', 'all'] as CrashMode[])[int(0, 2)];
  view.kill();
  m.halt();
  env.fs.crash(mode, rng, 0.2);

  view = killable(env.fs);
  m = await open();
  log = m.get('p', 0)!;
  assert.ok(log !== undefined, 'partition is back');
  const got = await readAll(log);
  // Nothing served that was not written at that offset; offsets a contiguous prefix.
  got.forEach((r, i) => {
    assert.equal(r.offset, i, `offset ${r.offset} at position ${i}`);
    assert.equal(r.value, values.get(r.offset), `value at offset ${r.offset}`);
  });
  assert.equal(got.length, log.logEndOffset, 'every offset below the log end is readable');
  for (const o of durable) assert.ok(o < got.length, `acknowledged durable offset ${o} lost (log end ${got.length}, mode ${mode})`);
  // Every served batch is intact.
  const all = await log.read(0, 1 << 30, { maxOffset: log.highWatermark, minOneBatch: true });
  for (const { pos, size } of splitBatches(all.records)) assert.equal(checkBatch(all.records, pos, pos + size), size, 'served batch passes CRC');
  // And the log goes on.
  const next = log.append(batch([{ key: 'after', value: `after-${seed}` }]), { leaderEpoch: 9, sync: true });
  await next.done;
  const tail = await log.read(next.baseOffset, 1 << 20, { maxOffset: log.highWatermark, minOneBatch: true });
  assert.deepEqual(records(tail.records).map((r) => r.value), [`after-${seed}`]);
  await m.close();
}

test('crash at random points never loses a durable record nor serves a corrupt one', async () => {
  const only = process.env.STORAGE_SEED;
  const seeds = only !== undefined ? [Number(only)] : Array.from({ length: Number(process.env.STORAGE_SEEDS ?? 250) }, (_, i) => i + 1);
  for (const seed of seeds) {
    try {
      await runSeed(seed);
    } catch (err) {
      throw new Error(`seed ${seed} failed (replay: STORAGE_SEED=${seed}): ${(err as Error).message}`, { cause: err });
    }
  }
});
