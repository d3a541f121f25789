import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  baseOffsetOf, partitionLeaderEpochOf, splitBatches, maxTimestampOf, timestampTypeOf, batchSizeAt,
} from '../../src/protocol/record-batch.ts';
import { checkBatch } from '../../src/storage/batch-scan.ts';
import { ManualClock } from '../../src/storage/clock.ts';
import { OffsetOutOfRangeError } from '../../src/storage/errors.ts';
import { LogManager } from '../../src/storage/log-manager.ts';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';
import { batch, config, CountingFs, memEnv, readAll, records, settle } from './helpers.ts';

async function freshLog(overrides = {}) {
  const cfg = config(overrides);
  const env = memEnv(cfg);
  const m = await env.open();
  const log = await m.create('t', 0, 'tid', cfg);
  return { env, m, log };
}

describe('append', () => {
  test('assigns consecutive offsets across several batches and patches base offset and epoch in place', async () => {
    const { log } = await freshLog();
    const input = Buffer.concat([batch(3), batch(2), batch(4)]);
    const r = log.append(input, { leaderEpoch: 7, sync: false });
    assert.deepEqual([r.baseOffset, r.lastOffset], [0, 8]);
    assert.equal(log.logEndOffset, 9);
    assert.deepEqual(splitBatches(input).map((s) => baseOffsetOf(input, s.pos)), [0, 3, 5]);
    assert.deepEqual(splitBatches(input).map((s) => partitionLeaderEpochOf(input, s.pos)), [7, 7, 7]);
    await r.done;
    const r2 = log.append(batch(1), { leaderEpoch: 7, sync: false });
    assert.equal(r2.baseOffset, 9);
    await r2.done;
    assert.deepEqual((await readAll(log)).map((x) => x.offset), [...Array(10).keys()]);
  });

  test('the high watermark moves only when the bytes are written, and then listeners run', async () => {
    const { log } = await freshLog();
    let calls = 0;
    const off = log.onAppend(() => calls++);
    const r = log.append(batch(2), { leaderEpoch: 0, sync: false });
    assert.equal(log.highWatermark, 0);
    assert.deepEqual(await log.read(0, 1000, { maxOffset: 100, minOneBatch: true }), { records: Buffer.alloc(0), outOfRange: false });
    await r.done;
    assert.equal(log.highWatermark, 2);
    assert.equal(calls, 1);
    off();
    await log.append(batch(1), { leaderEpoch: 0, sync: false }).done;
    assert.equal(calls, 1);
  });

  test('LogAppendTime stamps max timestamp and the timestamp type with a valid CRC', async () => {
    const { log } = await freshLog();
    const b = batch(2, { timestamp: 5 });
    await log.append(b, { leaderEpoch: 0, sync: false, logAppendTime: 123456 }).done;
    const { records: data } = await log.read(0, 1000, { maxOffset: 10, minOneBatch: true });
    assert.equal(maxTimestampOf(data), 123456);
    assert.equal(timestampTypeOf(data), 1);
    assert.equal(checkBatch(data, 0, data.length), data.length);
    assert.deepEqual(records(data).map((r) => r.timestamp), [123456, 123456]);
  });

  test('appends in one event-loop turn are written with one write per segment file', async () => {
    const mem = new MemoryFileSystem();
    const counting = new CountingFs(mem);
    const m = await LogManager.open({ dirs: ['/d'], fs: counting.fs, defaults: config(), background: false });
    const log = await m.create('t', 0, 'tid', config());
    const dones = Array.from({ length: 50 }, () => log.append(batch(3), { leaderEpoch: 0, sync: false }).done);
    await Promise.all(dones);
    assert.equal(counting.writev, 1);
    assert.equal(log.highWatermark, 150);
  });

  test('group commit: sync appends waiting together share one fdatasync; acks=1 appends wait for none', async () => {
    const mem = new MemoryFileSystem();
    const counting = new CountingFs(mem);
    const m = await LogManager.open({ dirs: ['/d'], fs: counting.fs, defaults: config(), background: false });
    const log = await m.create('t', 0, 'tid', config());
    await Promise.all(Array.from({ length: 20 }, () => log.append(batch(1), { leaderEpoch: 0, sync: false }).done));
    assert.equal(counting.datasync, 0);
    const first = Array.from({ length: 10 }, () => log.append(batch(1), { leaderEpoch: 0, sync: true }).done);
    await settle(1);
    // Arrives while the first flight is being written or synced: covered by the next fdatasync.
    const second = Array.from({ length: 10 }, () => log.append(batch(1), { leaderEpoch: 0, sync: true }).done);
    await Promise.all([...first, ...second]);
    assert.ok(counting.datasync >= 1 && counting.datasync <= 2, `datasyncs: ${counting.datasync}`);
    assert.equal(log.recoveryPoint, 40);
  });

  test('flush.messages forces a sync after that many messages', async () => {
    const mem = new MemoryFileSystem();
    const counting = new CountingFs(mem);
    const m = await LogManager.open({ dirs: ['/d'], fs: counting.fs, defaults: config(), background: false });
    const log = await m.create('t', 0, 'tid', config({ flushMessages: 5 }));
    await log.append(batch(3), { leaderEpoch: 0, sync: false }).done;
    await settle(3);
    assert.equal(counting.datasync, 0);
    await log.append(batch(3), { leaderEpoch: 0, sync: false }).done;
    await settle(5);
    assert.equal(counting.datasync, 1);
    assert.equal(log.recoveryPoint, 6);
  });

  test('flush.ms flushes unsynced data once the interval has passed', async () => {
    const clock = new ManualClock();
    const mem = new MemoryFileSystem();
    const counting = new CountingFs(mem);
    const m = await LogManager.open({ dirs: ['/d'], fs: counting.fs, clock, defaults: config(), background: false });
    const log = await m.create('t', 0, 'tid', config({ flushMs: 1000 }));
    await log.append(batch(2), { leaderEpoch: 0, sync: false }).done;
    log.maybeFlushByTime();
    await settle(3);
    assert.equal(counting.datasync, 0);
    clock.advance(1000);
    log.maybeFlushByTime();
    await settle(5);
    assert.equal(counting.datasync, 1);
    assert.equal(log.recoveryPoint, 2);
  });

  test('rolls segments by segment.bytes, segment.ms and a full index', async () => {
    const { log } = await freshLog({ segmentBytes: 300 });
    const size = batchSizeAt(batch(2), 0);
    for (let i = 0; i < 6; i++) await log.append(batch(2), { leaderEpoch: 0, sync: false }).done;
    const perSegment = Math.floor(300 / size);
    assert.deepEqual(log.segments.map((s) => s.baseOffset), [0, 2 * perSegment, 4 * perSegment].filter((o) => o < 12));

    const byTime = await freshLog({ segmentMs: 1000 });
    await byTime.log.append(batch(1, { timestamp: 10_000 }), { leaderEpoch: 0, sync: false }).done;
    await byTime.log.append(batch(1, { timestamp: 10_500 }), { leaderEpoch: 0, sync: false }).done;
    await byTime.log.append(batch(1, { timestamp: 11_001 }), { leaderEpoch: 0, sync: false }).done;
    assert.deepEqual(byTime.log.segments.map((s) => s.baseOffset), [0, 2]);

    const byIndex = await freshLog({ indexIntervalBytes: 1, segmentIndexBytes: 16 });
    for (let i = 0; i < 6; i++) await byIndex.log.append(batch(1), { leaderEpoch: 0, sync: false }).done;
    assert.ok(byIndex.log.segments.length >= 2, 'index full rolls');
    assert.deepEqual((await readAll(byIndex.log)).map((r) => r.offset), [0, 1, 2, 3, 4, 5]);
  });
});

describe('read', () => {
  async function filled() {
    const f = await freshLog({ segmentBytes: 1000, indexIntervalBytes: 100 });
    for (let i = 0; i < 30; i++) await f.log.append(batch(3, { prefix: `b${i}` }), { leaderEpoch: 0, sync: false }).done;
    return f;
  }

  test('returns whole batches from the one holding the offset, within max bytes', async () => {
    const { log } = await filled();
    const one = batchSizeAt(batch(3, { prefix: 'b10' }), 0);
    const r = await log.read(31, one * 2 + 5, { maxOffset: log.highWatermark, minOneBatch: true });
    const got = records(r.records);
    assert.equal(got[0].offset, 30);
    assert.equal(splitBatches(r.records).length, 2);
    assert.equal(got[got.length - 1].offset, 35);
  });

  test('first batch larger than max bytes: whole batch with minOneBatch, nothing without', async () => {
    const { log } = await filled();
    const r = await log.read(3, 10, { maxOffset: log.highWatermark, minOneBatch: true });
    assert.deepEqual(records(r.records).map((x) => x.offset), [3, 4, 5]);
    const none = await log.read(3, 10, { maxOffset: log.highWatermark, minOneBatch: false });
    assert.equal(none.records.length, 0);
    assert.equal(none.outOfRange, false);
  });

  test('never returns a batch reaching maxOffset', async () => {
    const { log } = await filled();
    const r = await log.read(0, 1 << 20, { maxOffset: 7, minOneBatch: true });
    assert.deepEqual(records(r.records).map((x) => x.offset), [0, 1, 2, 3, 4, 5]);
    const r2 = await log.read(6, 1 << 20, { maxOffset: 7, minOneBatch: true });
    assert.equal(r2.records.length, 0);
  });

  test('offsets outside [log start, log end] are out of range; the log end is not', async () => {
    const { log } = await filled();
    assert.equal((await log.read(91, 100, { maxOffset: 1000, minOneBatch: true })).outOfRange, true);
    assert.deepEqual(await log.read(90, 100, { maxOffset: 1000, minOneBatch: true }), { records: Buffer.alloc(0), outOfRange: false });
    await log.deleteRecordsBefore(10);
    assert.equal((await log.read(9, 100, { maxOffset: 1000, minOneBatch: true })).outOfRange, true);
    assert.equal(records((await log.read(10, 100, { maxOffset: 1000, minOneBatch: true })).records)[0].offset, 9);
  });

  test('reads continue across segments', async () => {
    const { log } = await filled();
    assert.ok(log.segments.length > 3);
    const all = await readAll(log);
    assert.deepEqual(all.map((r) => r.offset), [...Array(90).keys()]);
    assert.equal(all[89].value, 'b29-2');
  });
});

describe('timestamps', () => {
  test('offsetForTimestamp finds the first record at or after the time, inside a batch', async () => {
    const { log } = await freshLog({ segmentBytes: 400, indexIntervalBytes: 50 });
    for (let i = 0; i < 20; i++) {
      const recs = [0, 1, 2].map((j) => ({ key: 'k', value: `v${i}.${j}`, timestamp: 1000 + i * 10 + j * 3 }));
      await log.append(batch(recs), { leaderEpoch: 0, sync: false }).done;
    }
    assert.deepEqual(await log.offsetForTimestamp(0), { offset: 0, timestamp: 1000 });
    assert.deepEqual(await log.offsetForTimestamp(1054), { offset: 17, timestamp: 1056 });
    assert.deepEqual(await log.offsetForTimestamp(1051), { offset: 16, timestamp: 1053 });
    assert.deepEqual(await log.offsetForTimestamp(1196), { offset: 59, timestamp: 1196 });
    assert.equal(await log.offsetForTimestamp(1197), null);
  });

  test('maxTimestamp names the record holding the largest timestamp', async () => {
    const { log } = await freshLog({ segmentBytes: 400 });
    assert.deepEqual(await log.maxTimestamp(), { offset: -1, timestamp: -1 });
    const ts = [5, 9, 3, 50, 7, 8, 2, 1, 4, 6];
    for (let i = 0; i < ts.length; i++) {
      await log.append(batch([{ key: 'a', value: 'x', timestamp: ts[i] }, { key: 'b', value: 'y', timestamp: ts[i] - 1 }]), { leaderEpoch: 0, sync: false }).done;
    }
    assert.deepEqual(await log.maxTimestamp(), { offset: 6, timestamp: 50 });
  });
});

describe('log start, truncation, epochs, snapshots', () => {
  test('DeleteRecords moves the log start and deletes whole segments below it', async () => {
    const { log, env } = await freshLog({ segmentBytes: 300 });
    for (let i = 0; i < 12; i++) await log.append(batch(2), { leaderEpoch: 0, sync: false }).done;
    const before = log.segments.length;
    assert.equal(await log.deleteRecordsBefore(9), 9);
    assert.equal(log.logStartOffset, 9);
    assert.ok(log.segments.length < before);
    assert.ok(log.segments[0].baseOffset <= 9);
    const names = await env.fs.readdir('/data/t-0');
    assert.ok(!names.includes('00000000000000000000.log'));
    await assert.rejects(log.deleteRecordsBefore(1000), OffsetOutOfRangeError);
    assert.equal(await log.deleteRecordsBefore(-1), 24);
  });

  test('truncateTo drops whole batches at and after the offset, and epochs that started there', async () => {
    const { log } = await freshLog({ segmentBytes: 300 });
    for (let i = 0; i < 12; i++) await log.append(batch(2), { leaderEpoch: i < 6 ? 1 : 2, sync: false }).done;
    assert.deepEqual(log.leaderEpochs.entries, [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 12 }]);
    await log.truncateTo(10);
    assert.equal(log.logEndOffset, 10);
    assert.equal(log.highWatermark, 10);
    assert.deepEqual(log.leaderEpochs.entries, [{ epoch: 1, startOffset: 0 }]);
    assert.deepEqual((await readAll(log)).map((r) => r.offset), [...Array(10).keys()]);
    const r = log.append(batch(1), { leaderEpoch: 3, sync: true });
    assert.equal(r.baseOffset, 10);
    await r.done;
    assert.deepEqual(log.endOffsetForEpoch(1), { epoch: 1, endOffset: 10 });
    assert.deepEqual(log.endOffsetForEpoch(3), { epoch: 3, endOffset: 11 });
  });

  test('producer snapshots: latest wins, only a few kept', async () => {
    const { log, env } = await freshLog();
    assert.equal(await log.latestProducerSnapshot(), null);
    for (const o of [5, 10, 15, 20]) await log.writeProducerSnapshot(o, Buffer.from(`state@${o}`));
    const latest = await log.latestProducerSnapshot();
    assert.equal(latest?.offset, 20);
    assert.equal(latest?.bytes.toString(), 'state@20');
    const snaps = (await env.fs.readdir('/data/t-0')).filter((n) => n.endsWith('.snapshot')).sort();
    assert.deepEqual(snaps, ['00000000000000000015.snapshot', '00000000000000000020.snapshot']);
  });

  test('scanBatches visits batches from an offset to the high watermark', async () => {
    const { log } = await freshLog({ segmentBytes: 300 });
    for (let i = 0; i < 10; i++) await log.append(batch(2), { leaderEpoch: 0, sync: false }).done;
    const bases: number[] = [];
    await log.scanBatches(7, (b) => {
      bases.push(baseOffsetOf(b));
    });
    assert.deepEqual(bases, [6, 8, 10, 12, 14, 16, 18]);
  });
});
