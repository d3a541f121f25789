import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/storage/clock.ts';
import { LogManager } from '../../src/storage/log-manager.ts';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';
import { batch, config, readAll } from './helpers.ts';

async function open(fs: MemoryFileSystem, dirs = ['/a', '/b']) {
  return LogManager.open({ dirs, fs, clock: new ManualClock(), defaults: config(), background: false });
}

describe('log manager', () => {
  test('create is idempotent for the same topic id and replaces a leftover of another', async () => {
    const fs = new MemoryFileSystem();
    const m = await open(fs);
    const log = await m.create('t', 0, 'id-1', config());
    await log.append(batch(3), { leaderEpoch: 0, sync: true }).done;
    assert.equal(await m.create('t', 0, 'id-1', config({ retentionMs: 5 })), log);
    assert.equal(log.config.retentionMs, 5);
    const fresh = await m.create('t', 0, 'id-2', config());
    assert.notEqual(fresh, log);
    assert.equal(fresh.logEndOffset, 0);
    assert.equal(fresh.topicId, 'id-2');
  });

  test('partitions are spread over log dirs and found again after a restart', async () => {
    const fs = new MemoryFileSystem();
    const m = await open(fs);
    for (let p = 0; p < 4; p++) {
      const log = await m.create('t', p, 'tid', config());
      await log.append(batch(p + 1), { leaderEpoch: 0, sync: false }).done;
    }
    assert.deepEqual(m.all().map((l) => l.logDir).sort(), ['/a', '/a', '/b', '/b']);
    await m.close();
    assert.match(fs.peek('/a/recovery-point-offset-checkpoint').toString(), /^0\n2\n/);
    const m2 = await open(fs);
    assert.deepEqual(m2.all().map((l) => `${l.topic}-${l.partition}:${l.logEndOffset}`).sort(), ['t-0:1', 't-1:2', 't-2:3', 't-3:4']);
    assert.deepEqual((await readAll(m2.get('t', 3)!)).map((r) => r.offset), [0, 1, 2, 3]);
  });

  test('checkpoints record recovery points and log start offsets', async () => {
    const fs = new MemoryFileSystem();
    const m = await open(fs, ['/a']);
    const log = await m.create('x.y-z', 7, 'tid', config());
    await log.append(batch(5), { leaderEpoch: 0, sync: true }).done;
    await log.append(batch(5), { leaderEpoch: 0, sync: false }).done;
    await log.deleteRecordsBefore(2);
    await m.checkpoint();
    assert.equal(fs.peek('/a/recovery-point-offset-checkpoint').toString(), '0\n1\nx.y-z 7 5\n');
    assert.equal(fs.peek('/a/log-start-offset-checkpoint').toString(), '0\n1\nx.y-z 7 2\n');
  });

  test('a log dir that cannot be opened is offline; the others work', async () => {
    const fs = new MemoryFileSystem();
    const m0 = await open(fs);
    await m0.create('t', 0, 'tid', config());
    await m0.create('t', 1, 'tid', config());
    await m0.close();
    fs.failNext('read', 'EIO', { pathIncludes: '/b/' });
    const m = await open(fs);
    assert.deepEqual(m.offlineDirs(), ['/b']);
    assert.equal(m.all().length, 1);
    const again = await m.create('u', 0, 'uid', config());
    assert.equal(again.logDir, '/a');
  });

  test('background timers run checkpoints and stop at close', async () => {
    const fs = new MemoryFileSystem();
    const m = await LogManager.open({ dirs: ['/a'], fs, defaults: config(), checkpointMs: 5, flushCheckMs: 5 });
    const log = await m.create('t', 0, 'tid', config({ flushMs: 0 }));
    await log.append(batch(2), { leaderEpoch: 0, sync: false }).done;
    for (let i = 0; i < 50 && log.recoveryPoint < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(log.recoveryPoint, 2, 'flush.ms=0 flushed by the timer');
    for (let i = 0; i < 50 && (await fs.stat('/a/recovery-point-offset-checkpoint')) === null; i++) await new Promise((r) => setTimeout(r, 5));
    assert.match(fs.peek('/a/recovery-point-offset-checkpoint').toString(), /t 0 2/);
    await m.close();
  });
});
