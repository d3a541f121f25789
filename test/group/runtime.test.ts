// ShardRuntime: answers only after the append is durable, rebuilds from the log, and treats a
// failed append as "reload from the log" (the log is the truth).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShardRuntime } from '../../src/group/runtime.ts';
import { MemoryLog } from './memory-log.ts';
import { TEST_CONFIG } from './harness.ts';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';
import { buildRecordBatch, splitBatches } from '../../src/protocol/record-batch.ts';
import { createOffsetCommitRequest } from '../../src/protocol/generated/offset-commit-request.ts';
import { encodeRecord, offsetCommitRecord, createOffsetCommitValue } from '../../src/group/records.ts';

let ids = 0;
function runtime(log: MemoryLog, lines: string[] = [], failures: ShardRuntime[] = []): ShardRuntime {
  return new ShardRuntime({
    partition: 0, leaderEpoch: 0, log, sync: true,
    env: { config: TEST_CONFIG, topics: { byName: (n) => ({ id: 'id-' + n, name: n, numPartitions: 4 }), byId: () => undefined }, newUuid: () => `u${++ids}`, log: (l) => lines.push(l) },
    onFailure: (rt) => failures.push(rt),
  });
}

const commitReq = (offset: bigint) => createOffsetCommitRequest({ groupId: 'g', topics: [{ name: 't', partitions: [
  { partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: 'm' },
  { partitionIndex: 1, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: 'm' },
] }] });
const meta = { version: 8, clientId: 'c', clientHost: '/h' };

test('an operation is answered only once its records are durable; they form one batch', async () => {
  const log = new MemoryLog();
  log.autoFlush = false;
  const rt = runtime(log);
  await rt.loaded;
  let answered = false;
  const p = rt.write((s) => s.commitOffsets(commitReq(5n), meta)).then((r) => {
    answered = true;
    return r;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(answered, false);
  assert.equal(log.batches.length, 1);
  assert.equal(splitBatches(log.batches[0]).length, 1);
  assert.equal(log.next, 2, 'two records, one per partition');
  // The state already moved on: the next operation sees the commit.
  assert.equal(rt.read((s) => s.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }])).topics[0].partitions[0].committedOffset, 5n);
  log.flush();
  const res = await p;
  assert.equal(answered, true);
  assert.deepEqual(res.topics[0].partitions.map((x) => x.errorCode), [0, 0]);
  rt.close();
});

test('a new runtime rebuilds the state from the log; an aborted transactional commit is not applied', async () => {
  const log = new MemoryLog();
  const rt = runtime(log);
  await rt.loaded;
  await rt.write((s) => s.commitOffsets(commitReq(7n), meta));
  rt.close();
  // A transactional commit, then its transaction's ABORT marker (control record type 0).
  const enc = encodeRecord(offsetCommitRecord('g', 't', 0, createOffsetCommitValue({ offset: 99n })));
  log.append(buildRecordBatch({ records: [enc], transactional: true, producerId: 5, producerEpoch: 0 }));
  log.append(buildRecordBatch({ records: [{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], control: true, transactional: true, producerId: 5, producerEpoch: 0 }));
  const lines: string[] = [];
  const again = runtime(log, lines);
  await again.loaded;
  assert.equal(again.state, 'active');
  assert.equal(again.read((s) => s.fetchOffsets('g', [{ name: 't', partitionIndexes: [0, 1] }])).topics[0].partitions.map((p) => p.committedOffset).join(), '7,7');
  assert.ok(lines.some((l) => /loaded __consumer_offsets-0 \(2 records, 1 groups\)/.test(l)), lines.join('\n'));
  again.close();
});

test('a failed append fails the operation with COORDINATOR_NOT_AVAILABLE; a reload shows only what the log holds', async () => {
  const log = new MemoryLog();
  const failures: ShardRuntime[] = [];
  const rt = runtime(log, [], failures);
  await rt.loaded;
  await rt.write((s) => s.commitOffsets(commitReq(1n), meta));
  log.failNext = true;
  await assert.rejects(rt.write((s) => s.commitOffsets(commitReq(2n), meta)), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal(rt.state, 'failed');
  assert.deepEqual(failures, [rt]);
  await assert.rejects(rt.write((s) => s.commitOffsets(commitReq(3n), meta)), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.COORDINATOR_NOT_AVAILABLE);
  const fresh = runtime(log);
  await fresh.loaded;
  assert.equal(fresh.read((s) => s.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }])).topics[0].partitions[0].committedOffset, 1n);
  fresh.close();
});

test('parked JoinGroup answers fail with the append when the rebalance record cannot be written', async () => {
  const log = new MemoryLog();
  const rt = runtime(log);
  await rt.loaded;
  const join = (memberId: string) => new Promise<any>((resolve) => {
    rt.write((s) => s.joinGroup({ groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null }, { version: 3, clientId: 'c', clientHost: '/h' }, resolve)).catch(() => {});
  });
  const j = await join('');
  assert.equal(j.errorCode, 0);
  log.failNext = true;
  const sync = await new Promise<any>((resolve) => {
    rt.write((s) => s.syncGroup({ groupId: 'g', generationId: j.generationId, memberId: j.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }, { version: 3, clientId: 'c', clientHost: '/h' }, resolve)).catch(() => {});
  });
  assert.equal(sync.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal(rt.state, 'failed');
  rt.close();
});

test('closing (the partition moved) answers parked requests with NOT_COORDINATOR', async () => {
  const log = new MemoryLog();
  const rt = runtime(log);
  await rt.loaded;
  const req = { groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null };
  const first = await new Promise<any>((resolve) => void rt.write((s) => s.joinGroup(req, { version: 3, clientId: 'c', clientHost: '/h' }, resolve)));
  await new Promise<any>((resolve) => void rt.write((s) => s.syncGroup({ groupId: 'g', generationId: first.generationId, memberId: first.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }, { version: 3, clientId: 'c', clientHost: '/h' }, resolve)));
  // A second member joins: the join phase now waits for the first to rejoin.
  const parked = new Promise<any>((resolve) => void rt.write((s) => s.joinGroup(req, { version: 3, clientId: 'c', clientHost: '/h' }, resolve)));
  rt.close();
  assert.equal((await parked).errorCode, ErrorCode.NOT_COORDINATOR);
  await assert.rejects(rt.write((s) => s.commitOffsets(commitReq(1n), meta)), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.NOT_COORDINATOR);
});
