// Exactly-once consume-transform-produce with confluent-kafka-python (librdkafka 2.0.2): each
// transaction writes the transformed records AND commits the input offsets
// (send_offsets_to_transaction → AddOffsetsToTxn + TxnOffsetCommit). A processor that crashes inside
// a transaction leaves neither its outputs nor its offsets visible; the next one (same transactional
// id) fences and aborts it, resumes from the committed offsets, and in the end every input appears
// in the output exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { createTopic, PyClient, readBack } from './harness.ts';

let b: TestBroker;
let kafka: Kafka;

before(async () => {
  b = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'transaction.state.log.num.partitions': '4', 'offsets.topic.num.partitions': '4' }, { quiet: true });
  kafka = new Kafka({ brokers: [b.bootstrap], clientId: 'eos-tests', logLevel: logLevel.NOTHING });
});
after(async () => {
  await b?.close();
});

async function committed(group: string, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return new Map(res[0].partitions.map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

test('consume-transform-produce: outputs and committed input offsets appear together or not at all, across a crash', async () => {
  const input = 'eos-in';
  const output = 'eos-out';
  const partitions = 3;
  const perPartition = 70;
  await createTopic(b.host, b.port, input, partitions);
  await createTopic(b.host, b.port, output, partitions);
  const producer = kafka.producer();
  await producer.connect();
  const inputs: string[][] = [];
  for (let p = 0; p < partitions; p++) {
    inputs.push(Array.from({ length: perPartition }, (_, i) => `in-${p}-${i}`));
    await producer.send({ topic: input, acks: -1, messages: inputs[p].map((value) => ({ value, partition: p })) });
  }
  await producer.disconnect();
  const req = { bootstrap: b.bootstrap, input, output, group: 'eos-group', transactional_id: 'eos-app', prefix: 'eos', batch: 7, session_timeout_ms: 6000 };

  const first = new PyClient('eos', { ...req, crash_after: 3 });
  await first.waitFor('crashing', 60_000);
  assert.equal(await first.exited, 3);
  assert.equal(first.of('txn').length, 3, 'three transactions committed before the crash');

  // While the crashed transaction is still open: the committed offsets and the visible outputs agree.
  const offsets = await committed('eos-group', input);
  const visible = (await readBack(b.bootstrap, output, partitions)).map((r) => r.value).sort();
  const expected = inputs.flatMap((vals, p) => vals.slice(0, Math.max(0, offsets.get(p) ?? 0)).map((v) => `${v}:out`)).sort();
  assert.deepEqual(visible, expected, `outputs match the committed offsets ${JSON.stringify([...offsets])}`);
  const committedWrites = first.events.filter((e) => e.event === 'write' && e.txn !== 'eos-t3').map((e) => e.value!).sort();
  assert.deepEqual(visible, committedWrites, 'exactly the three committed transactions are visible');
  const crashed = first.events.filter((e) => e.event === 'write' && e.txn === 'eos-t3').map((e) => e.value!);
  assert.ok(crashed.length > 0);
  assert.ok(crashed.every((v) => !visible.includes(v)), 'nothing of the crashed transaction');

  const second = new PyClient('eos', { ...req, idle_s: 3 });
  await second.finish(90_000);

  const out = (await readBack(b.bootstrap, output, partitions)).map((r) => r.value);
  const all = inputs.flat().map((v) => `${v}:out`).sort();
  const counts = new Map<string, number>();
  for (const v of out) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.deepEqual([...counts].filter(([, n]) => n > 1), [], 'no output twice');
  assert.deepEqual([...out].sort(), all, 'every input transformed exactly once');
  assert.deepEqual([...(await committed('eos-group', input))].sort(), inputs.map((_, p) => [p, perPartition]), 'every input offset committed');
  const uncommitted = await readBack(b.bootstrap, output, partitions, 'read_uncommitted');
  assert.ok(uncommitted.length >= all.length + crashed.length, 'the aborted outputs are in the log, invisible to read_committed');
});

test('kafkajs: sendOffsets inside a transaction — committed together with the outputs, or dropped together on abort', async () => {
  const input = 'eos-js-in';
  const output = 'eos-js-out';
  await createTopic(b.host, b.port, input, 1);
  await createTopic(b.host, b.port, output, 1);
  const producer = kafka.producer({ transactionalId: 'eos-js', maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  const step = async (from: number, to: number, commit: boolean) => {
    const tx = await producer.transaction();
    await tx.send({ topic: output, messages: Array.from({ length: to - from }, (_, i) => ({ value: `js-${from + i}:out`, partition: 0 })) });
    await tx.sendOffsets({ consumerGroupId: 'eos-js-group', topics: [{ topic: input, partitions: [{ partition: 0, offset: String(to) }] }] });
    if (commit) await tx.commit();
    else await tx.abort();
  };
  await step(0, 5, true);
  assert.deepEqual([...(await committed('eos-js-group', input))], [[0, 5]]);
  await step(5, 9, false);
  assert.deepEqual([...(await committed('eos-js-group', input))], [[0, 5]], 'the aborted offsets never show');
  await step(5, 12, true);
  assert.deepEqual([...(await committed('eos-js-group', input))], [[0, 12]]);
  const out = (await readBack(b.bootstrap, output, 1)).map((r) => r.value);
  assert.deepEqual(out, Array.from({ length: 12 }, (_, i) => `js-${i}:out`), 'the aborted step left no output and no offset');
  await producer.disconnect();
});
