// confluent-kafka-python 1.7.0 (librdkafka 2.0.2) against Brook, driven by py/confluent_client.py.
//
// What this client cannot do, so is not tested here: delete records (AdminClient.delete_records
// arrived in confluent-kafka 2.x); a consumer without group.id (the constructor requires one — the
// consumer here only assign()s explicit offsets with auto-commit off, so it never needs the group
// coordinator, although librdkafka may still look it up).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { CODECS, assertSameRecords, fromWire, payloadSet, recentBase, runPython, toWire, uniqueTopic, waitFor, type TestRecord, type WireRecord } from './util.ts';

const SCRIPT = 'confluent_client.py';

let b: TestBroker;
before(async () => {
  b = await startTestBroker();
});
after(async () => {
  await b?.close();
});

interface Report { error: string | null; partition: number; offset: number }

async function produce(topic: string, records: TestRecord[], codec: string, config: Record<string, unknown> = {}): Promise<Report[]> {
  const res = await runPython<{ reports: Array<Report | null>; unflushed: number }>(SCRIPT, 'produce', {
    bootstrap: b.bootstrap, topic, partition: 0, codec, records: records.map(toWire), config,
  });
  assert.equal(res.unflushed, 0, 'every message must be delivered or failed within the flush timeout');
  for (const [i, r] of res.reports.entries()) {
    assert.ok(r, `no delivery report for message ${i}`);
    assert.equal(r.error, null, `message ${i}: ${r.error}`);
  }
  return res.reports as Report[];
}

async function consume(topic: string, offset: number, count: number) {
  const res = await runPython<{ records: Array<WireRecord & { timestampType: number }>; errors: string[] }>(SCRIPT, 'consume', {
    bootstrap: b.bootstrap, topic, partition: 0, offset, count, timeout: 20,
  });
  assert.deepEqual(res.errors, [], 'the consumer reported errors');
  return res.records;
}

async function admin<T = any>(command: string, req: Record<string, unknown>): Promise<T> {
  return runPython<T>(SCRIPT, command, { bootstrap: b.bootstrap, ...req });
}

for (const codec of CODECS) {
  test(`confluent-kafka produces with ${codec} and consumes back byte-exact (keys, headers, timestamps, tombstone)`, async () => {
    const topic = uniqueTopic(`ck-${codec}`);
    assert.equal((await admin('create_topic', { name: topic, partitions: 1 })).error, null);
    const records = payloadSet({ seed: 21, baseTimestamp: recentBase(), count: 12, nullValues: true });
    const reports = await produce(topic, records, codec);
    assert.deepEqual(reports.map((r) => r.offset), records.map((_, i) => i), 'delivery reports carry contiguous offsets');
    const got = await consume(topic, 0, records.length);
    for (const r of got) assert.equal(r.timestampType, 1, 'TIMESTAMP_CREATE_TIME');
    assertSameRecords(got.map(fromWire), records, { firstOffset: 0, what: `confluent ${codec}` });
  });
}

test('confluent-kafka idempotent producer (InitProducerId, sequence numbers) delivers once, in order', async () => {
  const topic = uniqueTopic('ck-idem');
  assert.equal((await admin('create_topic', { name: topic, partitions: 1 })).error, null);
  const records = payloadSet({ seed: 22, baseTimestamp: recentBase(), count: 20 });
  await produce(topic, records, 'zstd', { 'enable.idempotence': true, 'batch.num.messages': 5 });
  assertSameRecords((await consume(topic, 0, records.length)).map(fromWire), records, { firstOffset: 0, what: 'idempotent' });
});

test('confluent-kafka admin: create with partitions and configs, describe, alter, add partitions, delete', async () => {
  const topic = uniqueTopic('ck-admin');
  const created = await admin('create_topic', { name: topic, partitions: 3, config: { 'retention.ms': '86400000', 'cleanup.policy': 'compact' } });
  assert.equal(created.error, null);
  const again = await admin('create_topic', { name: topic, partitions: 3 });
  assert.match(again.error ?? '', /TOPIC_ALREADY_EXISTS/);

  let d = await admin('describe', { name: topic });
  assert.equal(d.topicError, null);
  assert.equal(d.brokers.length, 1);
  assert.equal(d.brokers[0].port, b.port);
  assert.deepEqual(d.partitions.map((p: any) => p.id), [0, 1, 2]);
  for (const p of d.partitions) {
    assert.equal(p.error, null);
    assert.equal(p.leader, d.brokers[0].id);
    assert.deepEqual(p.replicas, [d.brokers[0].id]);
    assert.deepEqual(p.isrs, [d.brokers[0].id]);
  }
  assert.equal(d.configsError, null);
  assert.equal(d.configs['retention.ms'].value, '86400000');
  assert.equal(d.configs['retention.ms'].isDefault, false);
  assert.equal(d.configs['retention.ms'].source, 'DYNAMIC_TOPIC_CONFIG');
  assert.equal(d.configs['cleanup.policy'].value, 'compact');
  assert.ok(d.configs['segment.bytes'], 'unset configs are described with their defaults');
  assert.equal(d.configs['segment.bytes'].isDefault, true);

  assert.equal((await admin('alter', { name: topic, config: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } })).error, null);
  d = await admin('describe', { name: topic });
  assert.equal(d.configs['retention.ms'].value, '3600000');
  assert.equal(d.configs['cleanup.policy'].value, 'compact');

  const bad = await admin('alter', { name: topic, config: { 'retention.ms': 'not-a-number' } });
  assert.match(bad.error ?? '', /INVALID_CONFIG|INVALID_REQUEST/, 'an invalid value is refused');

  assert.equal((await admin('add_partitions', { name: topic, total: 4 })).error, null);
  d = await admin('describe', { name: topic });
  assert.deepEqual(d.partitions.map((p: any) => p.id), [0, 1, 2, 3]);

  assert.equal((await admin('delete_topic', { name: topic })).error, null);
  await waitFor('the topic to disappear from metadata', async () => ((await admin('list_topics', {})).topics.includes(topic) ? undefined : true));
  const gone = await admin('delete_topic', { name: topic });
  assert.match(gone.error ?? '', /UNKNOWN_TOPIC_OR_PART/);
});

test('confluent-kafka lists offsets: watermarks and offsets_for_times', async () => {
  const topic = uniqueTopic('ck-offsets');
  assert.equal((await admin('create_topic', { name: topic, partitions: 1 })).error, null);
  const base = recentBase();
  const records = payloadSet({ seed: 23, baseTimestamp: base, count: 10 });
  await produce(topic, records.slice(0, 6), 'lz4');
  await produce(topic, records.slice(6), 'none');
  const res = await admin('offsets', { topic, partition: 0, timestamps: [base - 1, base + 2000, base + 2500, base + 6000, base + 60_000] });
  assert.equal(res.low, 0);
  assert.equal(res.high, 10);
  assert.deepEqual(res.byTime.map((x: any) => x.error), [null, null, null, null, null]);
  assert.deepEqual(res.byTime.map((x: any) => x.offset), [0, 2, 3, 6, -1], 'first offset whose timestamp >= the target; -1 past the end');
  assertSameRecords((await consume(topic, 6, 4)).map(fromWire), records.slice(6), { firstOffset: 6, what: 'from offset 6' });
});

test('confluent-kafka: a batch above the topic max.message.bytes is refused with MSG_SIZE_TOO_LARGE', async () => {
  const topic = uniqueTopic('ck-big');
  assert.equal((await admin('create_topic', { name: topic, partitions: 1, config: { 'max.message.bytes': '2000' } })).error, null);
  const big: TestRecord = { key: Buffer.from('k'), value: Buffer.alloc(5000, 7), headers: [], timestamp: recentBase() };
  const res = await runPython<{ reports: Report[] }>(SCRIPT, 'produce', { bootstrap: b.bootstrap, topic, partition: 0, codec: 'none', records: [toWire(big)], config: { 'message.send.max.retries': 0 } });
  assert.match(res.reports[0].error ?? '', /MSG_SIZE_TOO_LARGE/, `got ${JSON.stringify(res.reports[0])}`);
  const small = payloadSet({ seed: 24, baseTimestamp: recentBase(), count: 4 }).slice(0, 3).map((r) => ({ ...r, value: Buffer.from('small') }));
  await produce(topic, small, 'none');
  assertSameRecords((await consume(topic, 0, 3)).map(fromWire), small, { firstOffset: 0, what: 'after the refused batch' });
});

test('confluent-kafka: a keyless record on a compacted topic is refused with INVALID_RECORD', async () => {
  const topic = uniqueTopic('ck-compact');
  assert.equal((await admin('create_topic', { name: topic, partitions: 1, config: { 'cleanup.policy': 'compact' } })).error, null);
  const keyless: TestRecord = { key: null, value: Buffer.from('v'), headers: [], timestamp: recentBase() };
  const res = await runPython<{ reports: Report[] }>(SCRIPT, 'produce', { bootstrap: b.bootstrap, topic, partition: 0, codec: 'none', records: [toWire(keyless)], config: { 'message.send.max.retries': 0 } });
  assert.match(res.reports[0].error ?? '', /INVALID_RECORD/, `got ${JSON.stringify(res.reports[0])}`);
});
