// AddPartitionsToTxn v4–5 (KIP-890 part 1) over TCP on one broker, as a partition leader sends it:
// batched by transactional id; verifyOnly answers per partition whether it is in the producer's
// ongoing transaction and writes nothing; without verifyOnly the partitions are added (as v3).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { createTopic } from './harness.ts';
import { Raw, batchOf } from './raw.ts';

let b: TestBroker;
let raw: Raw;

before(async () => {
  b = await startTestBroker({ 'transaction.state.log.num.partitions': '2' }, { quiet: true });
  raw = await Raw.connect(b.host, b.port);
  await createTopic(b.host, b.port, 'v4t', 3);
});
after(async () => {
  raw?.close();
  await b?.close();
});

type Txn = { transactionalId: string; producerId: bigint; producerEpoch: number; verifyOnly: boolean; topics: { name: string; partitions: number[] }[] };

async function v4(transactions: Txn[], version = 4) {
  const r = await raw.conn.send(24, version, { transactions, v3AndBelowTransactionalId: '', v3AndBelowProducerId: 0n, v3AndBelowProducerEpoch: 0, v3AndBelowTopics: [] });
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.deepEqual(r.resultsByTopicV3AndBelow, []);
  return Object.fromEntries(r.resultsByTransaction.map((t) => [t.transactionalId, t.topicResults.flatMap((x) => x.resultsByPartition.map((p) => `${x.name}-${p.partitionIndex}:${p.partitionErrorCode}`))]));
}

test('verifyOnly answers per partition and adds nothing; without it v4 adds; batched by transactional id', async () => {
  const a = await raw.initProducerId('v4-a');
  const c = await raw.initProducerId('v4-c');
  assert.equal(a.errorCode, ErrorCode.NONE);
  const verify = (id: string, pid: bigint, epoch: number, partitions: number[], extra: Txn['topics'] = []): Txn => ({ transactionalId: id, producerId: pid, producerEpoch: epoch, verifyOnly: true, topics: [{ name: 'v4t', partitions }, ...extra] });
  assert.deepEqual(await v4([verify('v4-a', a.producerId, a.producerEpoch, [0, 1])]), { 'v4-a': ['v4t-0:48', 'v4t-1:48'] }, 'no ongoing transaction: INVALID_TXN_STATE');
  assert.deepEqual(await v4([verify('v4-a', a.producerId, a.producerEpoch, [0])]), { 'v4-a': ['v4t-0:48'] }, 'verifyOnly added nothing');

  const add = await v4([{ transactionalId: 'v4-a', producerId: a.producerId, producerEpoch: a.producerEpoch, verifyOnly: false, topics: [{ name: 'v4t', partitions: [0] }] }]);
  assert.deepEqual(add, { 'v4-a': ['v4t-0:0'] });
  assert.equal(await raw.addOffsets('v4-a', a.producerId, a.producerEpoch, 'v4-group'), ErrorCode.NONE);
  assert.deepEqual(await raw.addPartitions('v4-c', c.producerId, c.producerEpoch, 'v4t', [2]), [ErrorCode.NONE]);

  const both = await v4([
    verify('v4-a', a.producerId, a.producerEpoch, [0, 1]),
    verify('v4-c', c.producerId, c.producerEpoch, [1, 2]),
    verify('v4-none', 123n, 0, [0]),
  ], 5);
  assert.deepEqual(both, { 'v4-a': ['v4t-0:0', 'v4t-1:48'], 'v4-c': ['v4t-1:48', 'v4t-2:0'], 'v4-none': ['v4t-0:49'] });
  assert.deepEqual(await v4([verify('v4-a', a.producerId, a.producerEpoch + 1, [0])]), { 'v4-a': ['v4t-0:47'] }, 'another epoch: INVALID_PRODUCER_EPOCH');
  // TxnOffsetCommit's verification names the group's __consumer_offsets partition.
  const offsets = await raw.conn.send(10, 3, { key: 'v4-group', keyType: 0, coordinatorKeys: [] });
  assert.equal(offsets.errorCode, ErrorCode.NONE);
  const groupPartitions = b.broker.image.topics.get('__consumer_offsets')!.partitions.size;
  const p = b.broker.groups.partitionFor('v4-group');
  assert.ok(p < groupPartitions);
  assert.deepEqual(await v4([{ ...verify('v4-a', a.producerId, a.producerEpoch, []), topics: [{ name: '__consumer_offsets', partitions: [p] }] }]), { 'v4-a': [`__consumer_offsets-${p}:0`] });

  const unknown = await v4([{ transactionalId: 'v4-c', producerId: c.producerId, producerEpoch: c.producerEpoch, verifyOnly: false, topics: [{ name: 'no-such', partitions: [0] }, { name: 'v4t', partitions: [0] }] }]);
  assert.deepEqual(unknown, { 'v4-c': ['no-such-0:3', 'v4t-0:55'] }, 'adding: unknown partitions refused, the rest not attempted');
});

test('the produce path on one node verifies with the local coordinator, without any inter-broker request', async () => {
  const a = await raw.initProducerId('v4-local');
  assert.deepEqual(await raw.addPartitions('v4-local', a.producerId, a.producerEpoch, 'v4t', [1]), [ErrorCode.NONE]);
  const ok = await raw.produce('v4t', 1, batchOf(['x'], { producerId: a.producerId, epoch: a.producerEpoch, seq: 0, transactional: true }), 'v4-local');
  assert.equal(ok.errorCode, ErrorCode.NONE);
  const refused = await raw.produce('v4t', 0, batchOf(['y'], { producerId: a.producerId, epoch: a.producerEpoch, seq: 0, transactional: true }), 'v4-local');
  assert.equal(refused.errorCode, ErrorCode.INVALID_TXN_STATE);
  assert.equal(b.broker.interBroker.has(b.broker.settings.nodeId), false);
  assert.equal(b.broker.txn.verification.size, 0, 'nothing cached for a local coordinator');
});
