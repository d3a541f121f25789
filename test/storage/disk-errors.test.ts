import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENOSPC_RETRY_MS } from '../../src/storage/partition-log.ts';
import { StorageError } from '../../src/storage/errors.ts';
import { batch, config, memEnv, readAll, settle } from './helpers.ts';

async function setup() {
  const env = memEnv(config({ segmentBytes: 2000 }));
  const m = await env.open();
  const log = await m.create('t', 0, 'tid', config({ segmentBytes: 2000 }));
  const other = await m.create('u', 0, 'uid', config());
  for (let i = 0; i < 5; i++) await log.append(batch(2, { prefix: `ok${i}` }), { leaderEpoch: 0, sync: true }).done;
  return { env, m, log, other };
}

describe('disk errors', () => {
  test('ENOSPC: the append and those queued behind it are rejected, nothing unwritten is visible, appends resume later', async () => {
    const { env, log, other } = await setup();
    env.fs.failNext('write', 'ENOSPC', { pathIncludes: '/t-0/', partialBytes: 30 });
    const a = log.append(batch(2, { prefix: 'lost' }), { leaderEpoch: 0, sync: true });
    const b = log.append(batch(2, { prefix: 'lost2' }), { leaderEpoch: 0, sync: false });
    await assert.rejects(a.done, (e: unknown) => e instanceof StorageError && e.code === 'ENOSPC' && e.errorCode === 56);
    await assert.rejects(b.done, StorageError);
    assert.throws(() => log.append(batch(1), { leaderEpoch: 0, sync: false }), StorageError);
    await settle(5);
    // Rolled back to the last written batch; the partial write is gone from the file.
    assert.equal(log.logEndOffset, 10);
    assert.equal(log.highWatermark, 10);
    assert.equal(env.fs.peek(log.active.logPath).length, log.active.size);
    assert.deepEqual((await readAll(log)).map((r) => r.value), Array.from({ length: 10 }, (_, i) => `ok${i >> 1}-${i & 1}`));
    // Other partitions of the dir are unaffected by a full disk.
    await other.append(batch(1), { leaderEpoch: 0, sync: true }).done;
    env.clock.advance(ENOSPC_RETRY_MS);
    const c = log.append(batch(2, { prefix: 'again' }), { leaderEpoch: 0, sync: true });
    assert.equal(c.baseOffset, 10);
    await c.done;
    assert.equal((await readAll(log))[10].value, 'again-0');
  });

  test('a full file system (capacity) fails the write the same way', async () => {
    const { env, log } = await setup();
    env.fs.capacityBytes = env.fs.usedBytes() + 50;
    const a = log.append(batch(5, { prefix: 'big' }), { leaderEpoch: 0, sync: false });
    await assert.rejects(a.done, (e: unknown) => e instanceof StorageError && e.code === 'ENOSPC');
    await settle(5);
    assert.equal(log.logEndOffset, 10);
    assert.equal(env.fs.peek(log.active.logPath).length, log.active.size);
  });

  test('EIO on write takes the whole log dir offline: appends and reads fail, nothing acknowledged', async () => {
    const { env, m, log, other } = await setup();
    env.fs.failNext('write', 'EIO', { pathIncludes: '/t-0/' });
    const a = log.append(batch(2), { leaderEpoch: 0, sync: false });
    await assert.rejects(a.done, (e: unknown) => e instanceof StorageError && e.code === 'EIO');
    await assert.rejects(log.read(0, 100, { maxOffset: 100, minOneBatch: true }), StorageError);
    assert.throws(() => other.append(batch(1), { leaderEpoch: 0, sync: false }), StorageError);
    assert.deepEqual(m.offlineDirs(), ['/data']);
    env.clock.advance(60_000);
    assert.throws(() => log.append(batch(1), { leaderEpoch: 0, sync: false }), StorageError);
    // After a restart everything written before the failure is served.
    m.halt();
    const m2 = await env.open();
    assert.equal((await readAll(m2.get('t', 0)!)).length, 10);
  });

  test('a failed fdatasync rejects every append it covered and the partition stays offline', async () => {
    const { env, log } = await setup();
    env.fs.failNext('datasync', 'EIO', { pathIncludes: '/t-0/' });
    const xs = Array.from({ length: 4 }, () => log.append(batch(1), { leaderEpoch: 0, sync: true }).done);
    for (const x of xs) await assert.rejects(x, StorageError);
    assert.equal(log.isOffline, true);
    assert.throws(() => log.append(batch(1), { leaderEpoch: 0, sync: true }), StorageError);
  });

  test('a failed segment-file creation is a storage error too', async () => {
    const { env, log } = await setup();
    env.fs.failNext('open', 'EIO', { pathIncludes: '.log' });
    // Fill the active segment so the next append rolls to a new file.
    const big = log.append(batch(40, { prefix: 'x'.repeat(40) }), { leaderEpoch: 0, sync: false });
    const next = log.append(batch(1), { leaderEpoch: 0, sync: false });
    const results = await Promise.allSettled([big.done, next.done]);
    assert.ok(results.some((r) => r.status === 'rejected' && r.reason instanceof StorageError));
    assert.equal(log.isOffline, true);
  });
});
