import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Compression, compressionOf, splitBatches } from '../../src/protocol/record-batch.ts';
import { hasDeleteHorizon } from '../../src/storage/cleaner-rewrite.ts';
import type { LogConfig } from '../../src/storage/log-config.ts';
import { batch, config, memEnv, readAll, type TestRecord } from './helpers.ts';

const T0 = 1_700_000_000_000;

async function setup(overrides: Partial<LogConfig> = {}) {
  const cfg = config({ segmentBytes: 600, cleanupPolicy: 'compact', minCleanableDirtyRatio: 0.1, deleteRetentionMs: 1000, ...overrides });
  const env = memEnv(cfg);
  env.clock.wall = T0;
  const m = await env.open();
  const log = await m.create('c', 0, 'cid', cfg);
  const put = async (recs: TestRecord[], opts: { compression?: (typeof Compression)[keyof typeof Compression] } = {}) =>
    log.append(batch(recs.map((r) => ({ timestamp: T0, ...r })), opts), { leaderEpoch: 0, sync: false }).done;
  return { env, m, log, cfg, put };
}

const latest = (rows: { key: string | null; value: string | null }[]) => {
  const out = new Map<string | null, string | null>();
  for (const r of rows) out.set(r.key, r.value);
  return out;
};

describe('compaction', () => {
  test('keeps the latest record per key with its offset; the log end offset is unchanged', async () => {
    const { m, log, put } = await setup();
    for (let round = 0; round < 8; round++) {
      await put(['a', 'b', 'c', 'd'].map((k) => ({ key: k, value: `${k}${round}` })));
    }
    await put([{ key: 'z', value: 'tail' }]);
    const before = await readAll(log);
    const end = log.logEndOffset;
    assert.equal(await m.runCleaner(), log);
    const after = await readAll(log);
    assert.equal(log.logEndOffset, end);
    assert.ok(after.length < before.length);
    assert.deepEqual(latest(after), latest(before));
    // Surviving records keep their offsets and values.
    const byOffset = new Map(before.map((r) => [r.offset, r.value]));
    for (const r of after) assert.equal(r.value, byOffset.get(r.offset));
    // Nothing below the active segment holds a superseded key.
    const sealedEnd = log.active.baseOffset;
    const keys = after.filter((r) => r.offset < sealedEnd).map((r) => r.key);
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(await m.runCleaner(), null, 'nothing dirty any more');
  });

  test('tombstones stay for delete.retention.ms after the first cleaning (KIP-534), then go', async () => {
    const { env, m, log, put } = await setup();
    for (let i = 0; i < 6; i++) await put([{ key: 'a', value: `a${i}` }, { key: 'b', value: `b${i}` }]);
    await put([{ key: 'a', value: null }]);
    for (let i = 0; i < 6; i++) await put([{ key: 'c', value: `c${i}` }, { key: 'd', value: `d${i}` }]);
    await m.runCleaner();
    let rows = await readAll(log);
    assert.equal(rows.filter((r) => r.key === 'a').length, 1);
    assert.equal(rows.find((r) => r.key === 'a')?.value, null);
    const withTomb = await log.read(rows.find((r) => r.key === 'a')!.offset, 1 << 20, { maxOffset: log.highWatermark, minOneBatch: true });
    assert.ok(hasDeleteHorizon(withTomb.records), 'tombstone batch carries a delete horizon');
    // More writes make the log dirty again, but the horizon has not passed yet.
    for (let i = 0; i < 6; i++) await put([{ key: 'c', value: `c${i}'` }, { key: 'd', value: `d${i}'` }]);
    await m.runCleaner();
    rows = await readAll(log);
    assert.equal(rows.filter((r) => r.key === 'a').length, 1);
    env.clock.wall = T0 + 1001;
    for (let i = 0; i < 6; i++) await put([{ key: 'c', value: `c${i}"` }, { key: 'd', value: `d${i}"` }]);
    await m.runCleaner();
    rows = await readAll(log);
    assert.equal(rows.filter((r) => r.key === 'a').length, 0);
    assert.equal(latest(rows).get('b'), 'b5');
  });

  test('min.cleanable.dirty.ratio and min.compaction.lag.ms hold cleaning back', async () => {
    const lazy = await setup({ minCleanableDirtyRatio: 0.99 });
    for (let i = 0; i < 10; i++) await lazy.put([{ key: 'k', value: `v${i}` }]);
    await lazy.m.runCleaner();
    const firstPass = lazy.log.segments.length;
    await lazy.put([{ key: 'k', value: 'more' }]);
    assert.equal(await lazy.m.runCleaner(), null, 'a little new dirt is below the ratio');
    assert.ok(firstPass >= 1);

    const lagged = await setup({ minCompactionLagMs: 60_000 });
    for (let i = 0; i < 10; i++) await lagged.put([{ key: 'k', value: `v${i}` }]);
    assert.equal(await lagged.m.runCleaner(), null, 'records younger than the lag are not compacted');
    lagged.env.clock.wall = T0 + 60_001;
    assert.equal(await lagged.m.runCleaner(), lagged.log);
  });

  test('keyless records are dropped, compressed batches stay compressed', async () => {
    const { m, log, put } = await setup();
    for (let i = 0; i < 5; i++) await put([{ key: null, value: `nokey${i}` }, { key: 'x', value: `x${i}` }], { compression: Compression.Gzip });
    for (let i = 0; i < 5; i++) await put([{ key: 'y', value: `y${i}` }]);
    await m.runCleaner();
    const rows = await readAll(log);
    const sealed = rows.filter((r) => r.offset < log.active.baseOffset);
    assert.ok(sealed.every((r) => r.key !== null));
    const data = (await log.read(0, 1 << 20, { maxOffset: log.highWatermark, minOneBatch: true })).records;
    const codecs = splitBatches(data).map((s) => compressionOf(data, s.pos));
    assert.ok(codecs.includes(Compression.Gzip));
  });

  test('the cleaned log survives a restart, and the cleaner checkpoint avoids re-cleaning', async () => {
    const { env, m, log, put } = await setup();
    for (let i = 0; i < 10; i++) await put([{ key: `k${i % 3}`, value: `v${i}` }]);
    await m.runCleaner();
    const rows = await readAll(log);
    await m.close();
    const m2 = await env.open();
    const log2 = m2.get('c', 0)!;
    assert.deepEqual(await readAll(log2), rows);
    assert.match(env.fs.peek('/data/cleaner-offset-checkpoint').toString(), /^0\n1\nc 0 \d+\n$/);
    assert.equal(await m2.runCleaner(), null);
    const names = await env.fs.readdir('/data/c-0');
    assert.ok(!names.some((n) => n.endsWith('.swap') || n.endsWith('.cleaned') || n.endsWith('.deleted')));
  });

  test('compaction runs in slices: appends made meanwhile are written before it ends', async () => {
    const { m, log, put } = await setup({ segmentBytes: 64 * 1024 });
    for (let i = 0; i < 3000; i++) await put([{ key: `k${i % 50}`, value: 'v'.repeat(50) }]);
    const order: string[] = [];
    // The in-memory fs never yields to the event loop by itself: only the cleaner's slicing lets
    // the append's write (scheduled with setImmediate) run before cleaning ends.
    const cleaning = m.runCleaner().then((r) => {
      order.push('cleaned');
      return r;
    });
    const during = log.append(batch([{ key: 'live', value: 'now' }]), { leaderEpoch: 0, sync: false }).done.then(() => {
      order.push('appended');
    });
    await Promise.all([cleaning, during]);
    assert.deepEqual(order, ['appended', 'cleaned']);
    assert.equal(await cleaning, log);
    assert.equal((await readAll(log)).at(-1)?.value, 'now');
  });
});
