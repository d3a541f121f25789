// Pending transactional offset commits (KIP-98/KIP-447) against OffsetDelete and DeleteGroups, and
// the KIP-890 verification guard of the shard. As Kafka's OffsetMetadataManager: OffsetDelete
// writes a tombstone for a partition with a committed OR a pending offset, DeleteGroups for every
// committed partition and every pending-only one, and replaying a tombstone drops the partition's
// pending commits — live and when the partition is reloaded — so a later COMMIT marker does not
// bring a deleted offset back and require_stable stops answering UNSTABLE_OFFSET_COMMIT for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';
import { createTxnOffsetCommitRequest } from '../../src/protocol/generated/txn-offset-commit-request.ts';
import { createOffsetCommitRequest } from '../../src/protocol/generated/offset-commit-request.ts';
import { txnCommitOffsets } from '../../src/group/txn-offsets.ts';
import { ShardRuntime } from '../../src/group/runtime.ts';
import { TEST_CONFIG } from './harness.ts';
import { MemoryLog } from './memory-log.ts';

const PID = 5000n;
const META = { version: 8, clientId: 'c', clientHost: '/127.0.0.1' };

let ids = 0;
async function runtime(log: MemoryLog): Promise<ShardRuntime> {
  const rt = new ShardRuntime({
    partition: 0, leaderEpoch: 0, log, sync: true,
    env: { config: TEST_CONFIG, topics: { byName: (n) => ({ id: 'id-' + n, name: n, numPartitions: 4 }), byId: () => undefined }, newUuid: () => `u${++ids}`, log: () => {} },
    onFailure: () => {},
  });
  await rt.loaded;
  return rt;
}

function txnCommit(rt: ShardRuntime, producerId: bigint, parts: [topic: string, partition: number, offset: bigint][], guard: Parameters<ShardRuntime['writeTransactional']>[3] = null) {
  const topics = [...new Set(parts.map(([t]) => t))].map((name) => ({
    name,
    partitions: parts.filter(([t]) => t === name).map(([, partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: null })),
  }));
  const req = createTxnOffsetCommitRequest({ transactionalId: 'tx', groupId: 'g', producerId, producerEpoch: 0, generationId: -1, memberId: '', groupInstanceId: null, topics });
  return rt.writeTransactional(producerId, 0, (s) => txnCommitOffsets(s, req, 3), guard);
}

function commit(rt: ShardRuntime, topic: string, partition: number, offset: bigint) {
  return rt.write((s) => s.commitOffsets(createOffsetCommitRequest({
    groupId: 'g', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }] }],
  }), META));
}

/** [offset, error] of each partition with require_stable. */
function stable(rt: ShardRuntime, topic: string, partitions: number[]): [bigint, number][] {
  return rt.read((s) => s.fetchOffsets('g', [{ name: topic, partitionIndexes: partitions }], { requireStable: true }))
    .topics[0].partitions.map((p) => [p.committedOffset, p.errorCode]);
}

const U = ErrorCode.UNSTABLE_OFFSET_COMMIT;

test('OffsetDelete of partitions with pending transactional commits: tombstoned, no longer unstable, not restored by COMMIT nor by a reload', async () => {
  const log = new MemoryLog();
  const rt = await runtime(log);
  await commit(rt, 't', 0, 3n); // committed + pending
  await txnCommit(rt, PID, [['t', 0, 9n], ['t', 1, 9n], ['t', 2, 9n]]); // 1: pending only; 2: kept
  assert.deepEqual(stable(rt, 't', [0, 1, 2]), [[-1n, U], [-1n, U], [-1n, U]]);

  const res = await rt.write((s) => s.deleteOffsets({ groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 0 }, { partitionIndex: 1 }, { partitionIndex: 3 }] }] }));
  assert.deepEqual([res.errorCode, res.topics[0].partitions.map((p) => p.errorCode)], [ErrorCode.NONE, [0, 0, 0]]);
  assert.deepEqual(stable(rt, 't', [0, 1, 2]), [[-1n, 0], [-1n, 0], [-1n, U]], 'deleted partitions are stable (and empty) at once');

  await rt.writeMarker(PID, 0, true, 0);
  assert.deepEqual(stable(rt, 't', [0, 1, 2]), [[-1n, 0], [-1n, 0], [9n, 0]], 'COMMIT applies only what was not deleted');
  rt.close();

  const again = await runtime(log);
  assert.deepEqual(stable(again, 't', [0, 1, 2]), [[-1n, 0], [-1n, 0], [9n, 0]], 'the log replays to the same offsets');
  again.close();
});

test('OffsetDelete with the commit still pending, then a reload before the marker: the tombstone keeps the partition deleted', async () => {
  const log = new MemoryLog();
  const rt = await runtime(log);
  await commit(rt, 't', 0, 1n); // the group must exist for OffsetDelete
  await txnCommit(rt, PID, [['t', 1, 4n]]);
  await rt.write((s) => s.deleteOffsets({ groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 1 }] }] }));
  rt.close();

  const again = await runtime(log);
  assert.deepEqual(stable(again, 't', [0, 1]), [[1n, 0], [-1n, 0]], 'loaded without the pending commit');
  await again.writeMarker(PID, 0, true, 0);
  assert.deepEqual(stable(again, 't', [0, 1]), [[1n, 0], [-1n, 0]]);
  again.close();
});

test('DeleteGroups of an empty group with pending transactional commits: every partition tombstoned, the COMMIT marker brings nothing back', async () => {
  const log = new MemoryLog();
  const rt = await runtime(log);
  await commit(rt, 't', 0, 2n);
  await txnCommit(rt, PID, [['t', 0, 6n], ['u', 3, 6n]]); // u-3 has only a pending commit
  await txnCommit(rt, PID + 1n, [['t', 1, 8n]]);
  const before = log.batches.length;

  assert.equal(await rt.write((s) => s.deleteGroup('g')), ErrorCode.NONE);
  assert.equal(log.batches.length, before + 1, 'one batch of tombstones');
  assert.equal(rt.shard.groups.has('g'), false);
  assert.equal(rt.shard.txnOffsets.has('g', 't', 0) || rt.shard.txnOffsets.has('g', 't', 1) || rt.shard.txnOffsets.has('g', 'u', 3), false);
  assert.deepEqual([...stable(rt, 't', [0, 1]), ...stable(rt, 'u', [3])], [[-1n, 0], [-1n, 0], [-1n, 0]]);

  await rt.writeMarker(PID, 0, true, 0);
  await rt.writeMarker(PID + 1n, 0, true, 0);
  assert.deepEqual([...stable(rt, 't', [0, 1]), ...stable(rt, 'u', [3])], [[-1n, 0], [-1n, 0], [-1n, 0]]);
  assert.equal(rt.shard.groups.has('g'), false, 'no offsets, no group');
  rt.close();

  const again = await runtime(log);
  assert.deepEqual([...stable(again, 't', [0, 1]), ...stable(again, 'u', [3])], [[-1n, 0], [-1n, 0], [-1n, 0]]);
  assert.equal(again.shard.groups.has('g'), false);
  again.close();
});

test('verification guard: a marker after the guard refuses the append (INVALID_TXN_STATE); an open transaction of the producer here does not need it', async () => {
  const log = new MemoryLog();
  const rt = await runtime(log);
  const refused = async (p: Promise<unknown>, code: number) => {
    await assert.rejects(p, (err: unknown) => err instanceof KafkaError && err.code === code);
  };

  const g1 = rt.startTxnVerification(PID);
  assert.equal(rt.startTxnVerification(PID), g1, 'concurrent verifications share the guard');
  await rt.writeMarker(PID, 0, false, 0);
  await refused(txnCommit(rt, PID, [['t', 0, 5n]], g1), ErrorCode.INVALID_TXN_STATE);
  assert.deepEqual(stable(rt, 't', [0]), [[-1n, 0]]);

  const g2 = rt.startTxnVerification(PID);
  assert.notEqual(g2, g1);
  await txnCommit(rt, PID, [['t', 0, 5n]], g2);
  // Kafka's rule: with a transaction of the producer already open in the partition, the append
  // is not checked against the guard (that transaction was verified, and no marker ended it).
  await txnCommit(rt, PID, [['t', 1, 5n]], g1);
  assert.deepEqual(stable(rt, 't', [0, 1]), [[-1n, U], [-1n, U]]);
  await rt.writeMarker(PID, 0, true, 0);
  assert.deepEqual(stable(rt, 't', [0, 1]), [[5n, 0], [5n, 0]]);
  assert.equal(rt.shard.txnOffsets.guards, 0, 'the marker ended the guard');

  // A guard of a previous load of the partition: the coordinator moved, find it again.
  const g3 = rt.startTxnVerification(PID);
  rt.close();
  const again = await runtime(log);
  await refused(txnCommit(again, PID, [['t', 0, 7n]], g3), ErrorCode.NOT_COORDINATOR);
  assert.deepEqual(stable(again, 't', [0]), [[5n, 0]]);
  again.close();
});
