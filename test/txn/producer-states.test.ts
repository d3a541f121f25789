// Producer state bound to real partition logs (in-memory file system): the produce path's
// de-duplication survives a clean restart (snapshot), a kill -9 (snapshot at the last roll + replay,
// or a full replay), a damaged snapshot, and a failed write that the log rolls back (the state is
// rebuilt, so the retry of the lost batch is appended, not answered from a batch that is gone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { buildRecordBatch } from '../../src/protocol/record-batch.ts';
import { appendToPartition, type AppendOutcome } from '../../src/broker/produce.ts';
import type { TopicSettings } from '../../src/broker/topic-settings.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import { ProducerStates } from '../../src/txn/producer-states.ts';
import { config, memEnv, readAll } from '../storage/helpers.ts';

const NOW = 1_700_000_000_000;

function settings(segmentBytes = 1 << 20): TopicSettings {
  return {
    maxMessageBytes: 1 << 20, timestampType: 'CreateTime', timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER, timestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
    compacted: false, minInsyncReplicas: 1, logConfig: config({ segmentBytes }),
  };
}

function idem(seq: number, n: number, opts: { pid?: bigint; epoch?: number; transactional?: boolean; tag?: string } = {}): Buffer {
  return buildRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${opts.tag ?? 'v'}${seq + i}`), timestamp: NOW })),
    producerId: opts.pid ?? 42n, producerEpoch: opts.epoch ?? 0, baseSequence: seq, transactional: opts.transactional,
  });
}

function produce(log: PartitionLog, ps: ProducerStates, records: Buffer, verify: (() => number) | null = null): AppendOutcome {
  return appendToPartition(log, records, {
    settings: settings(), apiVersion: 9, acks: -1, leaderEpoch: 0, fsyncAcksAll: true, now: NOW, producers: ps, verify,
  });
}

async function produceOk(log: PartitionLog, ps: ProducerStates, records: Buffer, verify: (() => number) | null = null): Promise<number> {
  const o = produce(log, ps, records, verify);
  assert.equal(o.errorCode, 0, o.errorMessage ?? '');
  await o.done;
  return o.baseOffset;
}

const quiet = { log: () => {}, now: () => NOW };

test('a retry after a clean restart is answered with its original offset (snapshot at shutdown)', async () => {
  const env = memEnv();
  let m = await env.open();
  let log = await m.create('t', 0, 'tid', config());
  let ps = new ProducerStates(quiet);
  const offsets: number[] = [];
  for (let i = 0; i < 6; i++) offsets.push(await produceOk(log, ps, idem(i * 3, 3)));
  assert.deepEqual(offsets, [0, 3, 6, 9, 12, 15]);
  await ps.snapshotAll([log]);
  await m.close();
  assert.deepEqual(log.snapshots.offsets, [18]);

  m = await env.open();
  log = m.get('t', 0)!;
  ps = new ProducerStates(quiet);
  await ps.loadAll(m.all());
  for (let i = 1; i < 6; i++) {
    const again = produce(log, ps, idem(i * 3, 3));
    assert.equal(again.errorCode, 0);
    assert.equal(again.baseOffset, offsets[i], `batch ${i} is a duplicate`);
  }
  assert.equal(log.logEndOffset, 18, 'nothing appended twice');
  assert.equal(produce(log, ps, idem(19, 1)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(await produceOk(log, ps, idem(18, 1)), 18);
  await m.close();
});

test('after kill -9 the state is rebuilt from the last snapshot (taken at a segment roll) plus a replay of the batches after it', async () => {
  const env = memEnv();
  let m = await env.open();
  let log = await m.create('t', 0, 'tid', config({ segmentBytes: 400 }));
  let ps = new ProducerStates(quiet);
  const offsets: number[] = [];
  for (let i = 0; i < 12; i++) offsets.push(await produceOk(log, ps, idem(i * 2, 2)));
  // A transaction left open by another producer: after the crash it must still hold the LSO.
  const inTxn = () => ErrorCode.NONE;
  const txStart = await produceOk(log, ps, idem(0, 1, { pid: 7n, transactional: true }), inTxn);
  await produceOk(log, ps, idem(1, 1, { pid: 7n, transactional: true }), inTxn);
  await log.flush();
  assert.ok(log.segments.length > 2, 'the log rolled');
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(log.snapshots.offsets.length > 0, 'a roll wrote a snapshot');
  const newest = log.snapshots.offsets[log.snapshots.offsets.length - 1];
  assert.ok(newest < log.logEndOffset, 'batches after the snapshot must be replayed');
  m.halt();
  env.fs.crash('all');

  m = await env.open();
  log = m.get('t', 0)!;
  ps = new ProducerStates(quiet);
  await ps.loadAll(m.all());
  for (let i = 7; i < 12; i++) assert.equal(produce(log, ps, idem(i * 2, 2)).baseOffset, offsets[i], `batch ${i}`);
  assert.equal(log.logEndOffset, txStart + 2);
  assert.equal(ps.lastStableOffset(log), txStart);
  assert.equal(produce(log, ps, idem(2, 1, { pid: 7n, transactional: false })).errorCode, ErrorCode.INVALID_TXN_STATE);
  // The coordinator's abort marker ends it; the aborted index then covers it.
  await ps.appendMarker(log, { producerId: 7n, producerEpoch: 0, commit: false, coordinatorEpoch: 0, leaderEpoch: 0, sync: true });
  assert.equal(ps.lastStableOffset(log), log.highWatermark);
  assert.deepEqual(ps.abortedIn(log, 0, log.logEndOffset), [{ producerId: 7n, firstOffset: txStart, lastOffset: txStart + 2, lastStableOffset: txStart + 3 }]);
  await m.close();
});

test('a damaged snapshot is ignored and the whole log replayed', async () => {
  const env = memEnv();
  let m = await env.open();
  let log = await m.create('t', 0, 'tid', config());
  let ps = new ProducerStates(quiet);
  await produceOk(log, ps, idem(0, 4));
  await ps.snapshotAll([log]);
  await m.close();
  const path = `${log.dir}/00000000000000000004.snapshot`;
  env.fs.corrupt(path, 8, Buffer.from([0xff, 0xee]));
  const lines: string[] = [];
  m = await env.open();
  log = m.get('t', 0)!;
  ps = new ProducerStates({ log: (l) => lines.push(l), now: () => NOW });
  await ps.loadAll(m.all());
  assert.ok(lines.some((l) => /unreadable/.test(l)), lines.join('\n'));
  assert.equal(produce(log, ps, idem(0, 4)).baseOffset, 0, 'still a duplicate');
  await m.close();
});

test('a write the log rolls back is forgotten: the retry is appended again, not answered with an offset that no longer exists', async () => {
  const env = memEnv();
  const m = await env.open();
  const log = await m.create('t', 0, 'tid', config());
  const ps = new ProducerStates(quiet);
  await produceOk(log, ps, idem(0, 2, { tag: 'ok' }));
  env.fs.failNext('write', 'ENOSPC', { pathIncludes: '/t-0/' });
  const lost = produce(log, ps, idem(2, 2, { tag: 'lost' }));
  assert.equal(lost.errorCode, 0);
  await assert.rejects(lost.done!);
  for (let i = 0; i < 20 && log.logEndOffset !== 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(log.logEndOffset, 2, 'rolled back to the high watermark');
  env.clock.advance(10_000);
  // The state still knows the lost batch: the next append notices and rebuilds first.
  assert.equal(produce(log, ps, idem(2, 2, { tag: 'retry' })).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  let o: AppendOutcome = { errorCode: -2 } as AppendOutcome;
  for (let i = 0; i < 50; i++) {
    o = produce(log, ps, idem(2, 2, { tag: 'retry' }));
    if (o.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(o.errorCode, 0);
  assert.equal(o.baseOffset, 2);
  await o.done;
  assert.deepEqual((await readAll(log)).map((r) => r.value), ['ok0', 'ok1', 'retry2', 'retry3']);
  await m.close();
});

test('a transactional batch is only accepted when the coordinator says the partition is in the transaction', async () => {
  const env = memEnv();
  const m = await env.open();
  const log = await m.create('t', 0, 'tid', config());
  const ps = new ProducerStates(quiet);
  const rejected = produce(log, ps, idem(0, 1, { transactional: true }), () => ErrorCode.INVALID_TXN_STATE);
  assert.equal(rejected.errorCode, ErrorCode.INVALID_TXN_STATE);
  assert.equal(log.logEndOffset, 0);
  const ok = produce(log, ps, idem(0, 1, { transactional: true }), () => ErrorCode.NONE);
  assert.equal(ok.errorCode, 0);
  await ok.done;
  assert.equal(ps.lastStableOffset(log), 0);
  await m.close();
});
