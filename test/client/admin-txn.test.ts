// Brook's admin client for producers, transactions, the metadata quorum and KIP-848 groups, against
// an in-process broker: an open transaction made with raw InitProducerId, AddPartitionsToTxn and a
// transactional Produce is seen by DescribeTransactions, ListTransactions and DescribeProducers,
// then again once committed; DescribeQuorum of the single-node quorum; ConsumerGroupDescribe of a
// group joined with a raw ConsumerGroupHeartbeat and of unknown and classic groups.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { Admin } from '../../src/client/admin.ts';
import { CoordinatorType } from '../../src/client/client.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { Raw, batchOf } from '../txn/raw.ts';

const TOPIC = 'txn-admin';
const TXN_ID = 'admin-txn-1';

describe('admin client: producers, transactions, quorum, KIP-848 groups', () => {
  let b: TestBroker;
  let admin: Admin;
  let raw: Raw;
  let pid: bigint;
  let epoch: number;
  let txnStart: number;

  before(async () => {
    b = await startTestBroker({ 'num.partitions': '2', 'transaction.state.log.num.partitions': '3' }, { quiet: true });
    admin = new Admin({ brokers: b.bootstrap });
    raw = await Raw.connect(b.host, b.port);
    const [created] = await admin.createTopics([{ name: TOPIC, partitions: 2 }]);
    assert.equal(created.error, null);
    const init = await raw.initProducerId(TXN_ID, { timeoutMs: 60_000 });
    assert.equal(init.errorCode, 0);
    pid = init.producerId;
    epoch = init.producerEpoch;
    assert.deepEqual(await raw.addPartitions(TXN_ID, pid, epoch, TOPIC, [1]), [0]);
    // Partition 0 holds only a non-idempotent batch.
    assert.equal((await raw.produce(TOPIC, 0, batchOf(['plain']))).errorCode, 0);
    assert.equal((await raw.produce(TOPIC, 1, batchOf(['plain']))).errorCode, 0);
    const p = await raw.produce(TOPIC, 1, batchOf(['t1', 't2'], { producerId: pid, epoch, seq: 0, transactional: true }), TXN_ID);
    assert.equal(p.errorCode, 0);
    txnStart = p.baseOffset;
  });
  after(async () => {
    raw?.close();
    admin?.close();
    await b?.close();
  });

  test('describeTransactions shows the open transaction and its partition; unknown ids fail per item', async () => {
    const [d, unknown] = await admin.describeTransactions([TXN_ID, 'no-such-txn']);
    assert.equal(d.error, null);
    assert.equal(d.transactionalId, TXN_ID);
    assert.equal(d.state, 'Ongoing');
    assert.equal(d.producerId, pid);
    assert.equal(d.producerEpoch, epoch);
    assert.equal(d.timeoutMs, 60_000);
    assert.ok(d.startTimeMs > 0);
    assert.deepEqual(d.partitions, [{ topic: TOPIC, partition: 1 }]);
    assert.equal(unknown.transactionalId, 'no-such-txn');
    assert.equal(unknown.error?.code, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  });

  test('listTransactions lists the id; state, producer id and duration filters apply', async () => {
    assert.deepEqual(await admin.listTransactions(), [{ transactionalId: TXN_ID, producerId: pid, state: 'Ongoing' }]);
    assert.deepEqual((await admin.listTransactions({ states: ['Ongoing'] })).map((t) => t.transactionalId), [TXN_ID]);
    assert.deepEqual(await admin.listTransactions({ states: ['CompleteCommit', 'Empty'] }), []);
    assert.deepEqual((await admin.listTransactions({ producerIds: [pid] })).map((t) => t.transactionalId), [TXN_ID]);
    assert.deepEqual(await admin.listTransactions({ producerIds: [pid + 1000n] }), []);
    // KIP-994: open for at least a day — this one is not.
    assert.deepEqual(await admin.listTransactions({ durationFilterMs: 86_400_000 }), []);
    assert.deepEqual((await admin.listTransactions({ durationFilterMs: 0 })).map((t) => t.transactionalId), [TXN_ID]);
  });

  test('describeProducers of a partition never written answers an empty list, no error', async () => {
    const [created] = await admin.createTopics([{ name: "never-written", partitions: 1 }]);
    assert.equal(created.error, null);
    const [p] = await admin.describeProducers([{ topic: "never-written", partition: 0 }]);
    assert.equal(p.error, null);
    assert.deepEqual(p.producers, []);
  });

  test('describeProducers shows the transactional producer on its partition only', async () => {
    const res = await admin.describeProducers([{ topic: TOPIC, partition: 1 }, { topic: TOPIC, partition: 0 }, { topic: 'no-such-topic', partition: 0 }]);
    assert.deepEqual(res.map((r) => `${r.topic}-${r.partition}`), ['no-such-topic-0', `${TOPIC}-0`, `${TOPIC}-1`]);
    const [missing, p0, p1] = res;
    assert.equal(missing.error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.ok(!(await admin.listTopics()).some((t) => t.name === 'no-such-topic'), 'describing does not auto-create');
    assert.equal(p0.error, null);
    assert.deepEqual(p0.producers, []);
    assert.equal(p1.error, null);
    assert.equal(p1.producers.length, 1, 'the non-idempotent batch leaves no producer state');
    const s = p1.producers[0];
    assert.equal(s.producerId, pid);
    assert.equal(s.producerEpoch, epoch);
    assert.equal(s.lastSequence, 1);
    assert.equal(s.currentTxnStartOffset, txnStart);
    assert.ok(s.lastTimestamp > 0);
  });

  test('after EndTxn(commit) the transaction is complete and no longer open on the partition', async () => {
    assert.equal(await raw.endTxn(TXN_ID, pid, epoch, true), 0);
    const [d] = await admin.describeTransactions([TXN_ID]);
    assert.equal(d.error, null);
    assert.ok(d.state === 'CompleteCommit' || d.state === 'PrepareCommit', d.state);
    assert.deepEqual(await admin.listTransactions({ states: ['Ongoing'] }), []);
    let [p1] = await admin.describeProducers([{ topic: TOPIC, partition: 1 }]);
    for (let i = 0; i < 50 && p1.producers[0]?.currentTxnStartOffset !== -1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      [p1] = await admin.describeProducers([{ topic: TOPIC, partition: 1 }]);
    }
    assert.equal(p1.producers[0].producerId, pid);
    assert.equal(p1.producers[0].currentTxnStartOffset, -1, 'the commit marker closed the transaction');
  });

  test('describeQuorum: the broker leads a quorum of itself', async () => {
    const nodeId = b.broker.cluster.nodeId;
    const q = await admin.describeQuorum();
    assert.equal(q.leaderId, nodeId);
    assert.ok(q.leaderEpoch >= 1);
    assert.ok(q.highWatermark > 0);
    assert.deepEqual(q.voters.map((v) => v.replicaId), [nodeId]);
    assert.ok(q.voters[0].logEndOffset >= q.highWatermark);
    assert.deepEqual(q.observers, []);
  });

  test('describeConsumerGroups: a KIP-848 group with its member; unknown and classic groups are GROUP_ID_NOT_FOUND', async () => {
    // FindCoordinator first: it creates __consumer_offsets; until then the broker coordinates nothing.
    await admin.client.retry(() => admin.client.coordinator(CoordinatorType.Group, 'kip848-group'));
    const join = () => raw.conn.send(68, 0, {
      groupId: 'kip848-group', memberId: '', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: [TOPIC], serverAssignor: null, topicPartitions: [],
    });
    let hb = await join();
    for (let i = 0; i < 50 && (hb.errorCode === ErrorCode.NOT_COORDINATOR || hb.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS); i++) {
      await new Promise((r) => setTimeout(r, 100));
      hb = await join();
    }
    assert.equal(hb.errorCode, 0, hb.errorMessage ?? '');
    await admin.commitOffsets('classic-group', [{ topic: TOPIC, partition: 0, offset: 0 }]);
    const [g, unknown, classic] = await admin.describeConsumerGroups(['kip848-group', 'no-such-group', 'classic-group']);
    assert.equal(g.error, null);
    assert.equal(g.groupId, 'kip848-group');
    assert.ok(g.groupEpoch >= 1);
    assert.equal(g.members.length, 1);
    assert.equal(g.members[0].memberId, hb.memberId);
    assert.deepEqual(g.members[0].subscribedTopicNames, [TOPIC]);
    assert.deepEqual(g.members[0].targetAssignment.map((t) => [t.topic, t.partitions]), [[TOPIC, [0, 1]]]);
    assert.equal(unknown.groupId, 'no-such-group');
    assert.equal(unknown.error?.code, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(classic.error?.code, ErrorCode.GROUP_ID_NOT_FOUND);
  });
});
