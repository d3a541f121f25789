// Transactions end to end on one broker: visibility of committed, aborted and open transactions to
// read_committed and read_uncommitted consumers (librdkafka and kafkajs), the LSO in Fetch and
// ListOffsets, the aborted-transaction list, zombie fencing by epoch, the error codes clients act on,
// the admin APIs (DescribeTransactions, ListTransactions, DescribeProducers), and a producer killed
// mid-transaction being aborted after transaction.timeout.ms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { check, summary, type Write } from './checker.ts';
import { createTopic, eventually, PyClient, readBack, runPy } from './harness.ts';
import { Raw, batchOf } from './raw.ts';

let b: TestBroker;
let raw: Raw;
let kafka: Kafka;

before(async () => {
  b = await startTestBroker({
    'transaction.state.log.num.partitions': '4',
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200',
    'transaction.max.timeout.ms': '120000',
  }, { quiet: true });
  raw = await Raw.connect(b.host, b.port);
  kafka = new Kafka({ brokers: [b.bootstrap], clientId: 'txn-tests', logLevel: logLevel.NOTHING });
});
after(async () => {
  raw?.close();
  await b?.close();
});

async function kafkajsRead(topic: string, readUncommitted: boolean, expected: number): Promise<string[]> {
  const c = kafka.consumer({ groupId: `read-${topic}-${readUncommitted}-${Date.now()}`, readUncommitted, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const got: string[] = [];
  await c.run({ eachMessage: async ({ message }) => { got.push(message.value!.toString()); } });
  await eventually(() => got.length >= expected, 20_000, `kafkajs read ${expected} of ${topic}`).catch(() => {});
  await new Promise((r) => setTimeout(r, 500));
  await c.disconnect();
  return got.sort();
}

test('committed, aborted and open transactions: read_committed sees exactly the committed ones, read_uncommitted everything; the LSO stops at the open one', async () => {
  const topic = 'vis';
  await createTopic(b.host, b.port, topic, 2);
  const producer = kafka.producer({ transactionalId: 'vis-1', maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  const writes: Write[] = [];
  const txns = new Map<string, 'committed' | 'aborted' | 'unknown'>();
  for (let t = 0; t < 6; t++) {
    const id = `T${t}`;
    const tx = await producer.transaction();
    const values = [0, 1, 2, 3].map((i) => `${id}-${i}`);
    await tx.send({ topic, messages: values.map((value, i) => ({ value, partition: i % 2 })) });
    for (const value of values) writes.push({ value, status: 'ok', txn: id });
    if (t % 3 === 1) {
      await tx.abort();
      txns.set(id, 'aborted');
    } else {
      await tx.commit();
      txns.set(id, 'committed');
    }
  }
  // Non-transactional writes between them are always visible.
  const plain = kafka.producer();
  await plain.connect();
  await plain.send({ topic, acks: -1, messages: [{ value: 'plain-0', partition: 0 }] });
  writes.push({ value: 'plain-0', status: 'ok' });
  // One transaction left open.
  const open = await producer.transaction();
  await open.send({ topic, messages: [{ value: 'open-0', partition: 0 }, { value: 'open-1', partition: 1 }] });
  writes.push({ value: 'open-0', status: 'info', txn: 'open' }, { value: 'open-1', status: 'info', txn: 'open' });
  await plain.send({ topic, acks: -1, messages: [{ value: 'plain-after-open', partition: 0 }] });
  writes.push({ value: 'plain-after-open', status: 'ok' });

  const log0 = b.broker.logs.get(topic, 0)!;
  const openStart = b.broker.txn.producers.peek(log0)!.ongoing.values().next().value!;
  assert.equal(await raw.latest(topic, 0, 1), openStart, 'ListOffsets read_committed: the LSO is the open transaction\'s first offset');
  assert.equal(await raw.latest(topic, 0, 0), log0.highWatermark);
  const f = await raw.fetch(topic, 0, 0, 1);
  assert.equal(f.lastStableOffset, openStart);
  assert.ok(f.batches.every((x) => x.baseOffset < openStart), 'read_committed Fetch stops below the LSO');
  assert.ok(f.aborted !== null && f.aborted.length === 2, `two aborted transactions listed: ${JSON.stringify(f.aborted, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  assert.ok(f.batches.some((x) => x.control), 'markers are served as control batches');
  assert.equal((await raw.fetch(topic, 0, 0, 0)).aborted, null, 'read_uncommitted gets no aborted list');

  // librdkafka, read_committed: the committed ones and the plain write before the open transaction.
  const committedRead = await readBack(b.bootstrap, topic, 2);
  const r = check({ writes, txns, reads: committedRead });
  assert.deepEqual(r.lost, ['plain-after-open'], 'past the LSO: not yet readable');
  assert.ok(r.duplicates.length + r.abortedReads.length + r.partialTransactions.length + r.unexpected.length === 0, summary(r));
  assert.ok(!committedRead.some((x) => x.value.startsWith('open')), 'nothing of the open transaction');
  const everything = await readBack(b.bootstrap, topic, 2, 'read_uncommitted');
  assert.equal(everything.filter((x) => x.value.startsWith('T1-') || x.value.startsWith('T4-')).length, 8, 'read_uncommitted sees aborted data');
  assert.ok(everything.some((x) => x.value === 'open-1'));

  await open.commit();
  txns.set('open', 'committed');
  const after = check({ writes, txns, reads: await readBack(b.bootstrap, topic, 2) });
  assert.ok(after.ok, summary(after));
  assert.equal(await raw.latest(topic, 0, 1), log0.highWatermark, 'no open transaction: LSO = HW');

  // kafkajs' consumer drops aborted records with the same list.
  const expectedCommitted = writes.filter((w) => (w.txn === undefined ? true : txns.get(w.txn) === 'committed')).map((w) => w.value).sort();
  assert.deepEqual(await kafkajsRead(topic, false, expectedCommitted.length), expectedCommitted);
  assert.equal((await kafkajsRead(topic, true, writes.length)).length, writes.length);
  await plain.disconnect();
  await producer.disconnect();
});

test('a second producer with the same transactional id fences the first: its open transaction is aborted and its commit fails', async () => {
  const topic = 'fence';
  await createTopic(b.host, b.port, topic, 1);
  const zombie = kafka.producer({ transactionalId: 'fence-1', maxInFlightRequests: 1, idempotent: true, retry: { retries: 1 } });
  await zombie.connect();
  const ztx = await zombie.transaction();
  await ztx.send({ topic, messages: [{ value: 'zombie-0' }] });
  const fresh = kafka.producer({ transactionalId: 'fence-1', maxInFlightRequests: 1, idempotent: true });
  await fresh.connect();
  // kafkajs sends InitProducerId for its transactional id when the first transaction begins.
  const tx = await fresh.transaction();
  const d = await raw.conn.send(65, 0, { transactionalIds: ['fence-1'] });
  assert.equal(d.transactionStates[0].transactionState, 'Empty');
  assert.equal(d.transactionStates[0].producerEpoch, 2, 'epoch 0 fenced by the abort (1), then bumped for the new producer (2)');
  await assert.rejects(ztx.commit(), 'the zombie cannot commit');
  await tx.send({ topic, messages: [{ value: 'fresh-0' }] });
  await tx.commit();
  const reads = await readBack(b.bootstrap, topic, 1);
  assert.deepEqual(reads.map((x) => x.value), ['fresh-0']);
  // The zombie's raw writes at its old epoch are refused.
  const pid = d.transactionStates[0].producerId;
  assert.equal((await raw.produce(topic, 0, batchOf(['late'], { producerId: pid, epoch: 0, seq: 1, transactional: true }), 'fence-1')).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  assert.equal(await raw.endTxn('fence-1', pid, 0, true, 3), ErrorCode.PRODUCER_FENCED);
  assert.equal(await raw.endTxn('fence-1', pid, 0, true, 1), ErrorCode.INVALID_PRODUCER_EPOCH, 'EndTxn v0–1 predate PRODUCER_FENCED');
  await zombie.disconnect().catch(() => {});
  await fresh.disconnect();
});

test('error codes: timeouts over transaction.max.timeout.ms, unknown producer ids, partitions outside the transaction', async () => {
  const topic = 'codes';
  await createTopic(b.host, b.port, topic, 2);
  assert.equal((await raw.initProducerId('codes-1', { timeoutMs: 120_001 })).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
  assert.equal((await raw.initProducerId('codes-1', { timeoutMs: 0 })).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
  const init = await raw.initProducerId('codes-1', { timeoutMs: 60_000 });
  assert.equal(init.errorCode, 0);
  assert.equal(init.producerEpoch, 0);
  const pid = init.producerId;
  // COMPAT trap 14: AddOffsetsToTxn with a bad producer id.
  assert.equal(await raw.addOffsets('codes-1', pid + 1000n, 0, 'g'), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.equal(await raw.addOffsets('nobody', pid, 0, 'g'), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.deepEqual(await raw.addPartitions('codes-1', pid, 0, 'no-such-topic', [0]), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  assert.deepEqual(await raw.addPartitions('codes-1', pid, 1, topic, [0]), [ErrorCode.PRODUCER_FENCED]);
  assert.deepEqual(await raw.addPartitions('codes-1', pid, 1, topic, [0], 1), [ErrorCode.INVALID_PRODUCER_EPOCH]);
  assert.deepEqual(await raw.addPartitions('codes-1', pid, 0, topic, [0]), [ErrorCode.NONE]);
  const ok = await raw.produce(topic, 0, batchOf(['in'], { producerId: pid, epoch: 0, seq: 0, transactional: true }), 'codes-1');
  assert.equal(ok.errorCode, 0);
  const outside = await raw.produce(topic, 1, batchOf(['out'], { producerId: pid, epoch: 0, seq: 0, transactional: true }), 'codes-1');
  assert.equal(outside.errorCode, ErrorCode.INVALID_TXN_STATE, 'partition 1 was never added');
  assert.equal(b.broker.logs.get(topic, 1)!.logEndOffset, 0);
  // KIP-360: re-initialising with the current id/epoch aborts the open transaction first.
  assert.equal((await raw.initProducerId('codes-1', { producerId: pid, epoch: 0 })).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
  await eventually(async () => (await raw.initProducerId('codes-1', { producerId: pid, epoch: 1 })).errorCode === 0, 5_000, 're-init after the abort');
  assert.equal(await raw.latest(topic, 0, 1), b.broker.logs.get(topic, 0)!.highWatermark);
  const r = await raw.fetch(topic, 0, 0, 1);
  assert.deepEqual(r.aborted, [{ producerId: pid, firstOffset: 0 }]);
  assert.equal((await raw.initProducerId('codes-1', { producerId: pid + 5n, epoch: 2 })).errorCode, ErrorCode.PRODUCER_FENCED);
  assert.equal((await raw.initProducerId('codes-1', { producerId: pid + 5n, epoch: 2, version: 3 })).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  // Idempotent producers get fresh ids, never repeated.
  const a = await raw.initProducerId(null);
  const c = await raw.initProducerId(null);
  assert.notEqual(a.producerId, c.producerId);
  assert.equal(a.producerEpoch, 0);
});

test('admin APIs: DescribeTransactions, ListTransactions and DescribeProducers show an open transaction', async () => {
  const topic = 'admin';
  await createTopic(b.host, b.port, topic, 1);
  const init = await raw.initProducerId('admin-1');
  const pid = init.producerId;
  await raw.addPartitions('admin-1', pid, 0, topic, [0]);
  await raw.produce(topic, 0, batchOf(['a', 'b', 'c'], { producerId: pid, epoch: 0, seq: 0, transactional: true }), 'admin-1');
  const d = (await raw.conn.send(65, 0, { transactionalIds: ['admin-1', 'unknown-id'] })).transactionStates;
  assert.equal(d[0].errorCode, 0);
  assert.equal(d[0].transactionState, 'Ongoing');
  assert.equal(d[0].transactionTimeoutMs, 60_000);
  assert.deepEqual(d[0].topics, [{ topic, partitions: [0] }]);
  assert.ok(d[0].transactionStartTimeMs > 0n);
  assert.equal(d[1].errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  const l = await raw.conn.send(66, 1, { stateFilters: ['Ongoing', 'Bogus'], producerIdFilters: [], durationFilter: -1n });
  assert.ok(l.transactionStates.some((t) => t.transactionalId === 'admin-1' && t.producerId === pid));
  assert.deepEqual(l.unknownStateFilters, ['Bogus']);
  const byPid = await raw.conn.send(66, 0, { stateFilters: [], producerIdFilters: [pid], durationFilter: -1n });
  assert.deepEqual(byPid.transactionStates.map((t) => t.transactionalId), ['admin-1']);
  const p = await raw.conn.send(61, 0, { topics: [{ name: topic, partitionIndexes: [0] }] });
  const mine = p.topics[0].partitions[0].activeProducers.find((x) => x.producerId === pid)!;
  assert.equal(mine.lastSequence, 2);
  assert.equal(mine.currentTxnStartOffset, 0n);
  assert.equal(await raw.endTxn('admin-1', pid, 0, true), 0);
  const after = (await raw.conn.send(65, 0, { transactionalIds: ['admin-1'] })).transactionStates[0];
  assert.equal(after.transactionState, 'CompleteCommit');
  const p2 = await raw.conn.send(61, 0, { topics: [{ name: topic, partitionIndexes: [0] }] });
  assert.equal(p2.topics[0].partitions[0].activeProducers.find((x) => x.producerId === pid)!.currentTxnStartOffset, -1n);
});

test('a producer killed mid-transaction is aborted once transaction.timeout.ms passes, and the same id then works again', async () => {
  const topic = 'killed';
  await createTopic(b.host, b.port, topic, 2);
  const doomed = new PyClient('txn', { bootstrap: b.bootstrap, topic, partitions: 2, transactional_id: 'killed-1', txns: 3, per_txn: 4, hang_in: 1, prefix: 'k', transaction_timeout_ms: 2000 });
  await doomed.waitFor('hanging', 30_000);
  await doomed.kill();
  const log = b.broker.logs.get(topic, 0)!;
  assert.ok(b.broker.txn.lastStableOffset(log) < log.highWatermark, 'the open transaction holds the LSO');
  await eventually(() => b.broker.txn.lastStableOffset(log) === log.highWatermark && b.broker.txn.lastStableOffset(b.broker.logs.get(topic, 1)!) === b.broker.logs.get(topic, 1)!.highWatermark, 15_000, 'the timed-out transaction is aborted');
  // The markers are written before the coordinator records CompleteAbort: wait for that record.
  let d = (await raw.conn.send(65, 0, { transactionalIds: ['killed-1'] })).transactionStates[0];
  await eventually(async () => {
    d = (await raw.conn.send(65, 0, { transactionalIds: ['killed-1'] })).transactionStates[0];
    return d.transactionState === 'CompleteAbort';
  }, 15_000, 'the coordinator completes the abort');
  assert.equal(d.transactionState, 'CompleteAbort');
  assert.equal(d.producerEpoch, 1, 'the abort bumped the epoch: the killed producer is fenced');
  const writes: Write[] = doomed.of('write').map((e) => ({ value: e.value!, status: 'ok', txn: e.txn }));
  const txns = new Map<string, 'committed' | 'aborted' | 'unknown'>([['k-t0', 'committed'], ['k-t1', 'aborted']]);
  // The same transactional id starts over: the new producer's transactions commit.
  const next = await runPy('txn', { bootstrap: b.bootstrap, topic, partitions: 2, transactional_id: 'killed-1', txns: 2, per_txn: 3, prefix: 'n' });
  for (const e of next.filter((x) => x.event === 'write')) writes.push({ value: e.value!, status: 'ok', txn: e.txn });
  for (const e of next.filter((x) => x.event === 'txn')) txns.set(e.txn!, e.outcome!);
  const r = check({ writes, txns, reads: await readBack(b.bootstrap, topic, 2) });
  assert.ok(r.ok, summary(r));
  assert.equal(r.counts.acknowledged, 4 + 6);
});
