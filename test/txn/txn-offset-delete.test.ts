// OffsetDelete (key 47) and DeleteGroups (key 42) of offsets a transaction holds pending, over the
// wire with raw requests. As Kafka's OffsetMetadataManager: the deleted partitions' pending
// transactional commits go with the committed offsets, so OffsetFetch require_stable stops
// answering UNSTABLE_OFFSET_COMMIT (88) for them at once and the transaction's COMMIT marker does
// not bring them back; partitions not deleted keep their pending commit and get it on COMMIT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { createTopic, eventually } from './harness.ts';
import { Raw } from './raw.ts';

const PROPS = { 'transaction.state.log.num.partitions': '2', 'offsets.topic.num.partitions': '2' };
const TOPIC = 'od-src';
const U = ErrorCode.UNSTABLE_OFFSET_COMMIT;

let b: TestBroker;
let raw: Raw;
before(async () => {
  b = await startTestBroker(PROPS, { quiet: true });
  raw = await Raw.connect(b.host, b.port);
  await createTopic(b.host, b.port, TOPIC, 3);
  for (const group of ['od-g1', 'od-g2']) {
    await eventually(async () => (await raw.conn.send(10, 3, { key: group, keyType: 0, coordinatorKeys: [] })).errorCode === 0, 10_000, 'group coordinator');
  }
});
after(async () => {
  raw?.close();
  await b?.close();
});

/** OffsetFetch v7 with require_stable of partitions 0–2: [offset, error] each. */
async function stable(group: string): Promise<[bigint, number][]> {
  const r = await raw.conn.send(9, 7, { groupId: group, topics: [{ name: TOPIC, partitionIndexes: [0, 1, 2] }], groups: [], requireStable: true });
  assert.equal(r.errorCode, 0);
  return r.topics[0].partitions.map((p): [bigint, number] => [p.committedOffset, p.errorCode]);
}

async function commit(group: string, partition: number, offset: bigint): Promise<void> {
  const r = await raw.conn.send(8, 8, {
    groupId: group, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
    topics: [{ name: TOPIC, partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }] }],
  });
  assert.equal(r.topics[0].partitions[0].errorCode, 0);
}

async function txnCommit(txnId: string, pid: bigint, epoch: number, group: string, offsets: [number, bigint][]): Promise<number[]> {
  const r = await raw.conn.send(28, 3, {
    transactionalId: txnId, groupId: group, producerId: pid, producerEpoch: epoch, generationId: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: TOPIC, partitions: offsets.map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: null })) }],
  });
  return r.topics[0].partitions.map((p) => p.errorCode);
}

test('OffsetDelete of partitions with a pending transactional commit: stable at once, not restored by COMMIT', async () => {
  await commit('od-g1', 0, 3n);
  const { errorCode, producerId: pid, producerEpoch: epoch } = await raw.initProducerId('od-txn-1');
  assert.equal(errorCode, 0);
  assert.equal(await raw.addOffsets('od-txn-1', pid, epoch, 'od-g1'), 0);
  assert.deepEqual(await txnCommit('od-txn-1', pid, epoch, 'od-g1', [[0, 9n], [1, 9n], [2, 9n]]), [0, 0, 0]);
  assert.deepEqual(await stable('od-g1'), [[-1n, U], [-1n, U], [-1n, U]]);

  // Partition 0 has a committed and a pending offset, partition 1 only a pending one.
  const del = await raw.conn.send(47, 0, { groupId: 'od-g1', topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0 }, { partitionIndex: 1 }] }] });
  assert.deepEqual([del.errorCode, del.topics[0].partitions.map((p) => [p.partitionIndex, p.errorCode])], [0, [[0, 0], [1, 0]]]);
  assert.deepEqual(await stable('od-g1'), [[-1n, 0], [-1n, 0], [-1n, U]], 'deleted partitions: no 88; the other still pending');

  assert.equal(await raw.endTxn('od-txn-1', pid, epoch, true), 0);
  assert.deepEqual(await stable('od-g1'), [[-1n, 0], [-1n, 0], [9n, 0]], 'COMMIT: only the partition not deleted');
});

test('DeleteGroups of an empty group with pending transactional commits: deleted with them, COMMIT brings nothing back', async () => {
  await commit('od-g2', 0, 2n);
  const { producerId: pid, producerEpoch: epoch } = await raw.initProducerId('od-txn-2');
  assert.equal(await raw.addOffsets('od-txn-2', pid, epoch, 'od-g2'), 0);
  assert.deepEqual(await txnCommit('od-txn-2', pid, epoch, 'od-g2', [[0, 7n], [2, 7n]]), [0, 0]);
  assert.deepEqual(await stable('od-g2'), [[-1n, U], [-1n, 0], [-1n, U]]);

  const del = await raw.conn.send(42, 2, { groupsNames: ['od-g2'] });
  assert.deepEqual(del.results.map((r) => [r.groupId, r.errorCode]), [['od-g2', 0]]);
  assert.deepEqual(await stable('od-g2'), [[-1n, 0], [-1n, 0], [-1n, 0]], 'no 88 for a deleted group');

  assert.equal(await raw.endTxn('od-txn-2', pid, epoch, true), 0);
  assert.deepEqual(await stable('od-g2'), [[-1n, 0], [-1n, 0], [-1n, 0]], 'the COMMIT marker does not resurrect them');
  const groups = await raw.conn.send(16, 4, { statesFilter: [], typesFilter: [] });
  assert.equal(groups.groups.some((g) => g.groupId === 'od-g2'), false, 'the group stays deleted');
});
