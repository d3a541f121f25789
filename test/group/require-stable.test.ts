// OffsetFetch require_stable (KIP-447) against the shard and the runtime: a partition an open
// transaction holds a commit for is answered UNSTABLE_OFFSET_COMMIT (offset -1, epoch -1, no
// metadata) only when the fetch asks for stability; otherwise, and once the transaction ends, the
// last committed offset. Pending commits survive a reload from the log, and hold off expiration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { createTxnOffsetCommitRequest } from '../../src/protocol/generated/txn-offset-commit-request.ts';
import { txnCommitOffsets } from '../../src/group/txn-offsets.ts';
import { ShardRuntime } from '../../src/group/runtime.ts';
import type { GroupShard } from '../../src/group/shard.ts';
import { Harness, TEST_CONFIG } from './harness.ts';
import { MemoryLog } from './memory-log.ts';

const PID = 4000n;

function txnReq(group: string, parts: { topic: string; partition: number; offset: bigint }[]) {
  const topics = [...new Set(parts.map((p) => p.topic))].map((name) => ({
    name,
    partitions: parts.filter((p) => p.topic === name).map((p) => ({ partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: 4, committedMetadata: 'txn' })),
  }));
  return createTxnOffsetCommitRequest({ transactionalId: 'tx', groupId: group, producerId: PID, producerEpoch: 0, generationId: -1, memberId: '', groupInstanceId: null, topics });
}

/** TxnOffsetCommit the way ShardRuntime.writeTransactional applies it: pending under the producer. */
function txnCommit(shard: GroupShard, producerId: bigint, group: string, parts: { topic: string; partition: number; offset: bigint }[]): number[] {
  const r = txnCommitOffsets(shard, txnReq(group, parts), 3);
  for (const rec of r.records) shard.txnOffsets.add(producerId, rec);
  return r.response.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
}

const view = (shard: GroupShard, requireStable: boolean, topics: { name: string; partitionIndexes: number[] }[] | null = [{ name: 't', partitionIndexes: [0, 1] }]) =>
  shard.fetchOffsets('g', topics, { requireStable }).topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata, p.errorCode])]);

test('require_stable: the pending partition answers UNSTABLE_OFFSET_COMMIT, the others their committed offset', () => {
  const h = new Harness();
  h.commitOne('t', 0, 3n, {}, 8, { metadata: 'old', leaderEpoch: 2 });
  h.commitOne('t', 1, 5n, {}, 8, { metadata: 'other', leaderEpoch: 2 });
  assert.deepEqual(txnCommit(h.shard, PID, 'g', [{ topic: 't', partition: 0, offset: 9n }]), [ErrorCode.NONE]);

  assert.deepEqual(view(h.shard, true), [['t', [[0, -1n, -1, '', ErrorCode.UNSTABLE_OFFSET_COMMIT], [1, 5n, 2, 'other', ErrorCode.NONE]]]]);
  assert.deepEqual(view(h.shard, false), [['t', [[0, 3n, 2, 'old', ErrorCode.NONE], [1, 5n, 2, 'other', ErrorCode.NONE]]]], 'without require_stable: the last committed offset');
  assert.equal(h.shard.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }], { requireStable: true }).errorCode, ErrorCode.NONE, 'a partition error, not a group error');
  // Null topics (all committed partitions) flags the pending one too.
  assert.deepEqual(view(h.shard, true, null), [['t', [[0, -1n, -1, '', ErrorCode.UNSTABLE_OFFSET_COMMIT], [1, 5n, 2, 'other', ErrorCode.NONE]]]]);
  // Another group, or the same partition of another topic, is not affected.
  assert.equal(h.shard.fetchOffsets('other', [{ name: 't', partitionIndexes: [0] }], { requireStable: true }).topics[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.equal(h.shard.fetchOffsets('g', [{ name: 'u', partitionIndexes: [0] }], { requireStable: true }).topics[0].partitions[0].errorCode, ErrorCode.NONE);
});

test('require_stable: COMMIT makes the new offset stable; ABORT the old one', () => {
  const h = new Harness();
  h.commitOne('t', 0, 3n);
  txnCommit(h.shard, PID, 'g', [{ topic: 't', partition: 0, offset: 9n }]);
  h.shard.txnOffsets.complete(PID, true, (r) => h.shard.replay(r));
  assert.deepEqual(view(h.shard, true, [{ name: 't', partitionIndexes: [0] }]), [['t', [[0, 9n, 4, 'txn', ErrorCode.NONE]]]]);

  txnCommit(h.shard, PID, 'g', [{ topic: 't', partition: 0, offset: 12n }]);
  assert.equal(h.fetchOne('t', 0).committedOffset, 9n);
  h.shard.txnOffsets.complete(PID, false, (r) => h.shard.replay(r));
  assert.deepEqual(view(h.shard, true, [{ name: 't', partitionIndexes: [0] }]), [['t', [[0, 9n, 4, 'txn', ErrorCode.NONE]]]]);
  assert.equal(h.shard.txnOffsets.size, 0);
});

test('require_stable: a partition stays unstable until every transaction holding a commit for it has ended', () => {
  const h = new Harness();
  txnCommit(h.shard, PID, 'g', [{ topic: 't', partition: 0, offset: 7n }, { topic: 't', partition: 1, offset: 7n }]);
  txnCommit(h.shard, PID, 'g', [{ topic: 't', partition: 0, offset: 8n }]); // the same transaction again
  txnCommit(h.shard, PID + 1n, 'g', [{ topic: 't', partition: 0, offset: 20n }]);
  // No committed offset at all yet: asked by name, the pending partition is still unstable.
  assert.deepEqual(view(h.shard, true), [['t', [[0, -1n, -1, '', ErrorCode.UNSTABLE_OFFSET_COMMIT], [1, -1n, -1, '', ErrorCode.UNSTABLE_OFFSET_COMMIT]]]]);
  // Null topics lists committed partitions only (as Kafka): nothing is committed yet.
  assert.deepEqual(view(h.shard, true, null), []);
  h.shard.txnOffsets.complete(PID, true, (r) => h.shard.replay(r));
  assert.deepEqual(view(h.shard, true), [['t', [[0, -1n, -1, '', ErrorCode.UNSTABLE_OFFSET_COMMIT], [1, 7n, 4, 'txn', ErrorCode.NONE]]]]);
  assert.equal(h.fetchOne('t', 0).committedOffset, 8n, 'the later commit of the same transaction wins');
  h.shard.txnOffsets.complete(PID + 1n, false, (r) => h.shard.replay(r));
  assert.deepEqual(view(h.shard, true), [['t', [[0, 8n, 4, 'txn', ErrorCode.NONE], [1, 7n, 4, 'txn', ErrorCode.NONE]]]]);
});

test('an offset an open transaction is replacing does not expire until the transaction ends', () => {
  const h = new Harness({ offsetsRetentionMs: 50_000, offsetsRetentionCheckIntervalMs: 10_000 });
  h.shard.onLoaded();
  h.commitOne('t', 0, 1n);
  h.commitOne('t', 1, 1n);
  txnCommit(h.shard, PID, 'g', [{ topic: 't', partition: 0, offset: 4n }]);
  h.advance(60_000);
  assert.equal(h.fetchOne('t', 0).committedOffset, 1n, 'kept while the transaction is open');
  assert.equal(h.fetchOne('t', 1).committedOffset, -1n, 'expired');
  assert.equal(h.shard.groups.has('g'), true);
  h.shard.txnOffsets.complete(PID, false, (r) => h.shard.replay(r));
  h.advance(10_000);
  assert.equal(h.fetchOne('t', 0).committedOffset, -1n);
  assert.equal(h.shard.groups.has('g'), false);
});

let ids = 0;
function runtime(log: MemoryLog): ShardRuntime {
  return new ShardRuntime({
    partition: 0, leaderEpoch: 0, log, sync: true,
    env: { config: TEST_CONFIG, topics: { byName: (n) => ({ id: 'id-' + n, name: n, numPartitions: 4 }), byId: () => undefined }, newUuid: () => `u${++ids}`, log: () => {} },
    onFailure: () => {},
  });
}

test('runtime: a pending commit is unstable as soon as TxnOffsetCommit runs, across a reload, until its marker', async () => {
  const log = new MemoryLog();
  const rt = runtime(log);
  await rt.loaded;
  await rt.writeTransactional(PID, 0, (s) => txnCommitOffsets(s, txnReq('g', [{ topic: 't', partition: 2, offset: 6n }]), 3));
  const stable = (r: ShardRuntime) => r.read((s) => s.fetchOffsets('g', [{ name: 't', partitionIndexes: [2] }], { requireStable: true })).topics[0].partitions[0];
  assert.equal(stable(rt).errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT);
  rt.close();

  // The transactional batch is in the log without a marker: a reload keeps it pending.
  const again = runtime(log);
  await again.loaded;
  assert.deepEqual([stable(again).errorCode, stable(again).committedOffset], [ErrorCode.UNSTABLE_OFFSET_COMMIT, -1n]);
  await again.writeMarker(PID, 0, true, 0);
  assert.deepEqual([stable(again).errorCode, stable(again).committedOffset], [ErrorCode.NONE, 6n]);
  again.close();

  const third = runtime(log);
  await third.loaded;
  assert.deepEqual([stable(third).errorCode, stable(third).committedOffset], [ErrorCode.NONE, 6n], 'the marker replays to the same answer');
  third.close();
});
