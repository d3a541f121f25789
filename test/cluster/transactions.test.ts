// Transactions across three `brook serve` processes: the transactional id's coordinator (leader
// of its __transaction_state partition) is one broker, the data partitions are led by all three,
// and the group's coordinator is another. Checked with raw requests (exact codes) and with
// confluent-kafka-python (librdkafka 2.0.2): the first transactional batch in a partition led
// elsewhere is verified with the coordinator (KIP-890, AddPartitionsToTxn v4 verifyOnly), the
// coordinator sends WriteTxnMarkers to every other leader, TxnOffsetCommit on the group's
// coordinator is verified the same way; read_committed readers see exactly the committed records
// and offsets, nothing of an aborted transaction.
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { createFindCoordinatorRequest } from '../../src/protocol/generated/find-coordinator-request.ts';
import { batchOf, Raw } from '../txn/raw.ts';
import { readBack, runPy } from '../txn/harness.ts';
import { createTopic, eventually, metadata, request, startCluster, type TestCluster } from './cluster-helper.ts';

let cluster: TestCluster;
const raws = new Map<number, Raw>();

before(async () => {
  cluster = await startCluster({
    set: {
      'controller.quorum.election.timeout.ms': '500',
      'broker.heartbeat.interval.ms': '300',
      'transaction.state.log.num.partitions': '3',
      'offsets.topic.num.partitions': '3',
      'group.initial.rebalance.delay.ms': '0',
      'num.partitions': '1',
    },
  });
});

after(async () => {
  for (const r of raws.values()) r.close();
  await cluster?.destroy();
});

function ctest(name: string, fn: (t: TestContext) => Promise<void>): void {
  test(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      throw new Error(`${(e as Error)?.message ?? e}\n${cluster.outputs(25)}`, { cause: e });
    }
  });
}

async function raw(node: number): Promise<Raw> {
  let r = raws.get(node);
  if (r === undefined || r.conn.closed) {
    r = await Raw.connect('127.0.0.1', cluster.member(node).port);
    raws.set(node, r);
  }
  return r;
}

async function coordinatorOf(key: string, keyType: 0 | 1): Promise<number> {
  return eventually(`the coordinator of ${key}`, 15_000, async () => {
    const r = await request(cluster.members[0].port, (c) => c.send(10, 3, createFindCoordinatorRequest({ key, keyType })));
    return r.errorCode === ErrorCode.NONE ? r.nodeId : undefined;
  });
}

/** A key (`prefix-<i>`) whose coordinator is `node`. */
async function keyOn(prefix: string, keyType: 0 | 1, node: number): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const key = `${prefix}-${i}`;
    if ((await coordinatorOf(key, keyType)) === node) return key;
  }
  throw new Error(`no ${prefix}-<i> with its coordinator on node ${node}`);
}

/** Creates the topic and waits until every partition has a leader; returns partition → leader. */
async function topicLeaders(name: string, partitions: number): Promise<Map<number, number>> {
  const res = await createTopic(cluster.members[0].port, name, partitions);
  assert.equal(res.topics[0].errorCode, ErrorCode.NONE, res.topics[0].errorMessage ?? '');
  return eventually(`leaders of ${name}`, 15_000, async () => {
    const md = await metadata(cluster.members[0].port, [name]);
    const t = md.topics.find((x) => x.name === name);
    if (t === undefined || t.partitions.length !== partitions || t.partitions.some((p) => p.leaderId < 0)) return undefined;
    return new Map(t.partitions.map((p) => [p.partitionIndex, p.leaderId]));
  });
}

/** Produce v9 at a leader, retried while its log is still being created (a new topic's image arrives first). */
async function produceAt(node: number, topic: string, partition: number, records: Buffer, transactionalId: string | null = null) {
  return eventually(`produce to ${topic}-${partition} at ${node}`, 10_000, async () => {
    const r = await (await raw(node)).produce(topic, partition, records, transactionalId);
    return r.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER || r.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? undefined : r;
  });
}

/** What a read_committed fetch of the partition from 0 shows: values, LSO, HW, aborted transactions. */
async function committedView(node: number, topic: string, partition: number) {
  const f = await (await raw(node)).fetch(topic, partition, 0, 1);
  assert.equal(f.errorCode, ErrorCode.NONE);
  const aborted = f.aborted ?? [];
  const visible = f.batches.filter((b) => !b.control && b.baseOffset < f.lastStableOffset
    && !aborted.some((a) => a.producerId === b.producerId && b.baseOffset >= a.firstOffset));
  return { values: visible.flatMap((b) => b.values), lso: f.lastStableOffset, hw: f.highWatermark, aborted, markers: f.batches.filter((b) => b.control).length };
}

async function committedOffsets(node: number, group: string, topic: string, partitions: number[]): Promise<number[]> {
  const r = await (await raw(node)).conn.send(9, 7, { groupId: group, topics: [{ name: topic, partitionIndexes: partitions }], groups: [], requireStable: true });
  assert.equal(r.errorCode, ErrorCode.NONE);
  return partitions.map((p) => Number(r.topics[0].partitions.find((x) => x.partitionIndex === p)!.committedOffset));
}

function txnOffsetCommit(node: number, transactionalId: string, group: string, producerId: bigint, epoch: number, topic: string, offset: number) {
  return raw(node).then((r) => r.conn.send(28, 3, {
    transactionalId, groupId: group, producerId, producerEpoch: epoch, generationId: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null }] }],
  }));
}

ctest('the inter-broker APIs are advertised on the broker listener: WriteTxnMarkers 0–1, AddPartitionsToTxn 0–5', async () => {
  const r = await request(cluster.members[0].port, (c) => c.send(18, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' }));
  const ranges = new Map(r.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
  assert.deepEqual(ranges.get(27), [0, 1]);
  assert.deepEqual(ranges.get(24), [0, 5]);
});

ctest('raw requests: a transaction over partitions led by all three brokers, offsets on a third; commit, then abort', async () => {
  const leaders = await topicLeaders('xt', 6);
  assert.deepEqual(new Set(leaders.values()), new Set([1, 2, 3]), 'every broker leads a partition');
  const coordinator = 1;
  const txnId = await keyOn('raw-txn', 1, coordinator);
  const groupNode = 3;
  const group = await keyOn('raw-group', 0, groupNode);
  const c = await raw(coordinator);
  const init = await eventually('InitProducerId', 15_000, async () => {
    const r = await c.initProducerId(txnId);
    return r.errorCode === ErrorCode.NONE ? r : undefined;
  });
  const pid = init.producerId;
  const epoch = init.producerEpoch;
  const parts = [...leaders.keys()];

  // Transaction 1: committed.
  assert.deepEqual(await c.addPartitions(txnId, pid, epoch, 'xt', parts), parts.map(() => ErrorCode.NONE));
  for (const p of parts) {
    const r = await produceAt(leaders.get(p)!, 'xt', p, batchOf([`c-${p}`], { producerId: pid, epoch, seq: 0, transactional: true }), txnId);
    assert.equal(r.errorCode, ErrorCode.NONE, `first transactional batch in xt-${p} (leader ${leaders.get(p)})`);
    assert.equal(r.baseOffset, 0);
  }
  // A partition led elsewhere that is not in the transaction: the coordinator says so.
  const outside = await topicLeaders('xt-outside', 3);
  const [op, onode] = [...outside].find(([, node]) => node !== coordinator)!;
  const refused = await produceAt(onode, 'xt-outside', op, batchOf(['x'], { producerId: pid, epoch, seq: 0, transactional: true }), txnId);
  assert.equal(refused.errorCode, ErrorCode.INVALID_TXN_STATE);
  // A wrong epoch is refused by the coordinator's answer too.
  const stale = await produceAt(onode, 'xt-outside', op, batchOf(['y'], { producerId: pid, epoch: epoch + 5, seq: 0, transactional: true }), txnId);
  assert.equal(stale.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);

  assert.equal(await c.addOffsets(txnId, pid, epoch, group), ErrorCode.NONE);
  const toc = await txnOffsetCommit(groupNode, txnId, group, pid, epoch, 'xt', 42);
  assert.equal(toc.topics[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.equal(await c.endTxn(txnId, pid, epoch, true), ErrorCode.NONE);

  for (const p of parts) {
    const v = await eventually(`the COMMIT marker in xt-${p}`, 10_000, async () => {
      const view = await committedView(leaders.get(p)!, 'xt', p);
      return view.markers === 1 ? view : undefined;
    });
    assert.deepEqual(v.values, [`c-${p}`]);
    assert.equal(v.lso, 2);
    assert.equal(v.hw, 2);
    assert.deepEqual(v.aborted, []);
  }
  assert.deepEqual(await committedOffsets(groupNode, group, 'xt', [0]), [42]);

  // Transaction 2: aborted — invisible everywhere, offsets unchanged.
  assert.deepEqual(await c.addPartitions(txnId, pid, epoch, 'xt', parts), parts.map(() => ErrorCode.NONE));
  for (const p of parts) {
    const r = await produceAt(leaders.get(p)!, 'xt', p, batchOf([`a-${p}`], { producerId: pid, epoch, seq: 1, transactional: true }), txnId);
    assert.equal(r.errorCode, ErrorCode.NONE, `second transaction's batch in xt-${p}`);
  }
  assert.equal(await c.addOffsets(txnId, pid, epoch, group), ErrorCode.NONE);
  assert.equal((await txnOffsetCommit(groupNode, txnId, group, pid, epoch, 'xt', 99)).topics[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.equal(await c.endTxn(txnId, pid, epoch, false), ErrorCode.NONE);
  for (const p of parts) {
    const v = await eventually(`the ABORT marker in xt-${p}`, 10_000, async () => {
      const view = await committedView(leaders.get(p)!, 'xt', p);
      return view.markers === 2 ? view : undefined;
    });
    assert.deepEqual(v.values, [`c-${p}`], `xt-${p}: only the committed record`);
    assert.equal(v.lso, 4);
    assert.deepEqual(v.aborted, [{ producerId: pid, firstOffset: 2 }]);
  }
  assert.deepEqual(await committedOffsets(groupNode, group, 'xt', [0]), [42]);

  // A batch of the ended transaction arriving late is not verified: no hanging transaction.
  const remote = parts.find((p) => leaders.get(p) !== coordinator)!;
  const late = await produceAt(leaders.get(remote)!, 'xt', remote, batchOf(['late'], { producerId: pid, epoch, seq: 2, transactional: true }), txnId);
  assert.equal(late.errorCode, ErrorCode.INVALID_TXN_STATE);
  assert.equal((await committedView(leaders.get(remote)!, 'xt', remote)).lso, 4);
});

ctest('WriteTxnMarkers to a broker that does not lead the partition: NOT_LEADER_OR_FOLLOWER; unknown partition: UNKNOWN_TOPIC_OR_PARTITION', async () => {
  const leaders = await topicLeaders('xt-markers', 3);
  const [p, leader] = [...leaders][0];
  const other = [1, 2, 3].find((n) => n !== leader)!;
  const r = await (await raw(other)).conn.send(27, 1, {
    markers: [{ producerId: 12345n, producerEpoch: 0, transactionResult: true, coordinatorEpoch: 0, topics: [{ name: 'xt-markers', partitionIndexes: [p] }, { name: 'no-such-topic', partitionIndexes: [0] }] }],
  });
  assert.deepEqual(r.markers[0].topics.map((t) => t.partitions.map((x) => x.errorCode)), [[ErrorCode.NOT_LEADER_OR_FOLLOWER], [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
});

ctest('librdkafka: committed and aborted transactions over three leaders; read_committed sees exactly the committed records', async () => {
  const leaders = await topicLeaders('py-txn', 6);
  assert.deepEqual(new Set(leaders.values()), new Set([1, 2, 3]));
  const txnId = await keyOn('py-txn-id', 1, 2);
  const events = await runPy('txn', { bootstrap: cluster.bootstrap, transactional_id: txnId, topic: 'py-txn', partitions: 6, txns: 4, per_txn: 12, abort_every: 2, prefix: 'py' }, 40_000);
  const outcome = new Map(events.filter((e) => e.event === 'txn').map((e) => [e.txn!, e.outcome!]));
  assert.deepEqual([...outcome.values()], ['committed', 'aborted', 'committed', 'aborted']);
  const committed = events.filter((e) => e.event === 'write' && outcome.get(e.txn!) === 'committed').map((e) => e.value!).sort();
  const seen = (await readBack(cluster.bootstrap, 'py-txn', 6)).map((r) => r.value).sort();
  assert.deepEqual(seen, committed);
  const all = (await readBack(cluster.bootstrap, 'py-txn', 6, 'read_uncommitted')).length;
  assert.equal(all, 48, 'the aborted records are in the logs, invisible to read_committed');
});

ctest('librdkafka: send_offsets_to_transaction to a group whose coordinator is on another broker than the transaction\'s', async () => {
  const input = await topicLeaders('eos-in', 3);
  await topicLeaders('eos-out', 3);
  const txnCoordinator = 3;
  const txnId = await keyOn('eos-app', 1, txnCoordinator);
  const groupNode = 1;
  const group = await keyOn('eos-group', 0, groupNode);
  const perPartition = 10;
  for (const [p, leader] of input) {
    const r = await produceAt(leader, 'eos-in', p, batchOf(Array.from({ length: perPartition }, (_, i) => `in-${p}-${i}`)));
    assert.equal(r.errorCode, ErrorCode.NONE);
  }
  const events = await runPy('eos', {
    bootstrap: cluster.bootstrap, input: 'eos-in', output: 'eos-out', group, transactional_id: txnId, prefix: 'eos', batch: 7, idle_s: 3, session_timeout_ms: 6000,
  }, 40_000);
  assert.ok((events.find((e) => e.event === 'done')?.txns as number) > 0);
  const out = (await readBack(cluster.bootstrap, 'eos-out', 3)).map((r) => r.value).sort();
  const expected = [...input.keys()].flatMap((p) => Array.from({ length: perPartition }, (_, i) => `in-${p}-${i}:out`)).sort();
  assert.deepEqual(out, expected, 'every input transformed exactly once');
  assert.deepEqual(await committedOffsets(groupNode, group, 'eos-in', [0, 1, 2]), [perPartition, perPartition, perPartition]);
});

// Last: it kills a node.
ctest('while the coordinator cannot be reached, a first transactional batch elsewhere gets the retriable NOT_ENOUGH_REPLICAS and is not appended', async () => {
  const leaders = await topicLeaders('xt-down', 3);
  const coordinator = 2;
  const txnId = await keyOn('down-txn', 1, coordinator);
  const c = await raw(coordinator);
  const init = await eventually('InitProducerId', 15_000, async () => {
    const r = await c.initProducerId(txnId);
    return r.errorCode === ErrorCode.NONE ? r : undefined;
  });
  assert.deepEqual(await c.addPartitions(txnId, init.producerId, init.producerEpoch, 'xt-down', [...leaders.keys()]), [...leaders.keys()].map(() => ErrorCode.NONE));
  const [p, leader] = [...leaders].find(([, node]) => node !== coordinator)!;
  await cluster.kill(coordinator);
  const r = await produceAt(leader, 'xt-down', p, batchOf(['v'], { producerId: init.producerId, epoch: init.producerEpoch, seq: 0, transactional: true }), txnId);
  assert.equal(r.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
  const f = await (await raw(leader)).fetch('xt-down', p, 0, 0);
  assert.equal(f.highWatermark, 0, 'nothing appended');
});
