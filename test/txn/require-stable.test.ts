// OffsetFetch require_stable (KIP-447) over the wire, transactions driven with raw requests:
// InitProducerId → AddOffsetsToTxn → TxnOffsetCommit leaves a commit pending; OffsetFetch v7 and v8
// with require_stable then answer UNSTABLE_OFFSET_COMMIT (88) on that partition only (offset -1,
// top-level / group error NONE, as Kafka 3.9); without the flag (or below v7) the old offset.
// EndTxn COMMIT makes the new offset stable; ABORT the old one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { createTopic, eventually } from './harness.ts';
import { Raw } from './raw.ts';
import { buildRecordBatch } from '../../src/protocol/record-batch.ts';
import { GroupConsumer } from '../../src/client/group/group-consumer.ts';
import type { ConsumerRecord } from '../../src/client/consumer.ts';

const PROPS = { 'transaction.state.log.num.partitions': '2', 'offsets.topic.num.partitions': '2' };
const TOPIC = 'rs-src';
const GROUP = 'rs-group';

let b: TestBroker;
let raw: Raw;
before(async () => {
  b = await startTestBroker(PROPS, { quiet: true });
  raw = await Raw.connect(b.host, b.port);
  await createTopic(b.host, b.port, TOPIC, 2);
  // FindCoordinator creates __consumer_offsets; the group's shard answers once it is loaded.
  await eventually(async () => (await raw.conn.send(10, 3, { key: GROUP, keyType: 0, coordinatorKeys: [] })).errorCode === 0, 10_000, 'group coordinator');
});
after(async () => {
  raw?.close();
  await b?.close();
});

type Part = [partition: number, offset: bigint, error: number];

/** OffsetFetch v6/v7 of partitions 0 and 1: [top-level error, per-partition answers]. */
async function fetchV7(requireStable: boolean, version = 7): Promise<[number, Part[]]> {
  const r = await raw.conn.send(9, version, { groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0, 1] }], groups: [], requireStable });
  return [r.errorCode, r.topics[0].partitions.map((p): Part => [p.partitionIndex, p.committedOffset, p.errorCode])];
}

/** OffsetFetch v8 of our group and one that has never committed: [group, group error, answers] each. */
async function fetchV8(requireStable: boolean): Promise<[string, number, Part[]][]> {
  const r = await raw.conn.send(9, 8, {
    groupId: '', topics: [], requireStable,
    groups: [GROUP, 'rs-bystander'].map((groupId) => ({ groupId, memberId: null, memberEpoch: -1, topics: [{ name: TOPIC, partitionIndexes: [0, 1] }] })),
  });
  return r.groups.map((g) => [g.groupId, g.errorCode, g.topics[0].partitions.map((p): Part => [p.partitionIndex, p.committedOffset, p.errorCode])]);
}

async function commit(offsets: [number, bigint][]): Promise<void> {
  const r = await raw.conn.send(8, 8, {
    groupId: GROUP, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
    topics: [{ name: TOPIC, partitions: offsets.map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' })) }],
  });
  assert.deepEqual(r.topics[0].partitions.map((p) => p.errorCode), offsets.map(() => 0));
}

async function txnCommit(txnId: string, pid: bigint, epoch: number, partition: number, offset: bigint): Promise<number> {
  const r = await raw.conn.send(28, 3, {
    transactionalId: txnId, groupId: GROUP, producerId: pid, producerEpoch: epoch, generationId: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: TOPIC, partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }],
  });
  return r.topics[0].partitions[0].errorCode;
}

const UNSTABLE = ErrorCode.UNSTABLE_OFFSET_COMMIT;

test('a pending TxnOffsetCommit: 88 on that partition with require_stable (v7, v8), the old offset without; then COMMIT, then ABORT', async () => {
  await commit([[0, 3n], [1, 4n]]);
  const { errorCode, producerId: pid, producerEpoch: epoch } = await raw.initProducerId('rs-txn');
  assert.equal(errorCode, 0);
  assert.equal(await raw.addOffsets('rs-txn', pid, epoch, GROUP), 0);
  assert.equal(await txnCommit('rs-txn', pid, epoch, 0, 9n), 0);

  assert.deepEqual(await fetchV7(true), [ErrorCode.NONE, [[0, -1n, UNSTABLE], [1, 4n, 0]]], 'v7 require_stable: a partition error, the top-level error stays NONE');
  assert.deepEqual(await fetchV8(true), [
    [GROUP, ErrorCode.NONE, [[0, -1n, UNSTABLE], [1, 4n, 0]]],
    ['rs-bystander', ErrorCode.NONE, [[0, -1n, 0], [1, -1n, 0]]],
  ], 'v8 require_stable: per partition in the group that has the pending commit, other groups untouched');
  assert.deepEqual(await fetchV7(false), [ErrorCode.NONE, [[0, 3n, 0], [1, 4n, 0]]], 'without require_stable: the last committed offset');
  assert.deepEqual(await fetchV7(true, 6), [ErrorCode.NONE, [[0, 3n, 0], [1, 4n, 0]]], 'v6 has no require_stable field');
  assert.deepEqual((await fetchV8(false))[0], [GROUP, ErrorCode.NONE, [[0, 3n, 0], [1, 4n, 0]]]);

  assert.equal(await raw.endTxn('rs-txn', pid, epoch, true), 0);
  // The marker reaches __consumer_offsets after EndTxn's answer in Kafka; a client retries 88 until then.
  await eventually(async () => (await fetchV7(true))[1][0][2] !== UNSTABLE, 10_000, 'the COMMIT marker applies the pending offset');
  assert.deepEqual(await fetchV7(true), [ErrorCode.NONE, [[0, 9n, 0], [1, 4n, 0]]]);
  assert.deepEqual((await fetchV8(true))[0], [GROUP, ErrorCode.NONE, [[0, 9n, 0], [1, 4n, 0]]]);

  // The next transaction commits partition 1 and is aborted.
  assert.equal(await raw.addOffsets('rs-txn', pid, epoch, GROUP), 0);
  assert.equal(await txnCommit('rs-txn', pid, epoch, 1, 20n), 0);
  assert.deepEqual(await fetchV7(true), [ErrorCode.NONE, [[0, 9n, 0], [1, -1n, UNSTABLE]]]);
  assert.equal(await raw.endTxn('rs-txn', pid, epoch, false), 0);
  await eventually(async () => (await fetchV7(true))[1][1][2] !== UNSTABLE, 10_000, 'the ABORT marker drops the pending offset');
  assert.deepEqual(await fetchV7(true), [ErrorCode.NONE, [[0, 9n, 0], [1, 4n, 0]]]);
  assert.deepEqual((await fetchV8(true))[0], [GROUP, ErrorCode.NONE, [[0, 9n, 0], [1, 4n, 0]]]);
});

test("Brook's own group consumer waits out a pending transactional commit, then starts at its offset", async () => {
  const topic = 'rs-gc-src';
  const group = 'rs-gc';
  await createTopic(b.host, b.port, topic, 1);
  const values = Array.from({ length: 10 }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`) }));
  assert.equal((await raw.produce(topic, 0, buildRecordBatch({ records: values }))).errorCode, 0);
  const { producerId: pid, producerEpoch: epoch } = await raw.initProducerId('rs-gc-txn');
  assert.equal(await raw.addOffsets('rs-gc-txn', pid, epoch, group), 0);
  const r = await raw.conn.send(28, 3, {
    transactionalId: 'rs-gc-txn', groupId: group, producerId: pid, producerEpoch: epoch, generationId: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 7n, committedLeaderEpoch: -1, committedMetadata: null }] }],
  });
  assert.equal(r.topics[0].partitions[0].errorCode, 0);
  const consumer = new GroupConsumer({ brokers: b.bootstrap }, {
    groupId: group, topics: [topic], heartbeatIntervalMs: 100, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 10_000, autoOffsetReset: 'earliest',
  });
  try {
    const early: ConsumerRecord[] = [];
    const until = Date.now() + 5000; // past group.initial.rebalance.delay.ms (3 s): the member is assigned by now
    while (Date.now() < until) early.push(...await consumer.poll({ timeoutMs: 200 }));
    assert.deepEqual(early.map((x) => x.offset), [], 'nothing is read while the offset is unstable (not from the reset policy)');
    assert.equal(await raw.endTxn('rs-gc-txn', pid, epoch, true), 0);
    const got: ConsumerRecord[] = [];
    const deadline = Date.now() + 15_000;
    while (got.length < 3 && Date.now() < deadline) got.push(...await consumer.poll({ timeoutMs: 200 }));
    assert.deepEqual(got.map((x) => x.offset), [7, 8, 9], 'starts at the offset the transaction committed');
  } finally {
    await consumer.close();
  }
});
