// kafka-python 2.0.2 against Brook, driven by py/kafka_python_client.py.
//
// What this client cannot do here, so is not tested: snappy, lz4 and zstd (they need the python
// modules python-snappy, lz4 and zstandard, which the Debian package does not pull in — the first
// test checks that this is still so, and the codec loop covers none and gzip only); delete records
// (no DeleteRecords in 2.0.2). It consumes without a group (group_id=None, assign + seek).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { assertSameRecords, fromWire, payloadSet, recentBase, runPython, toWire, uniqueTopic, waitFor, type TestRecord, type WireRecord } from './util.ts';

const SCRIPT = 'kafka_python_client.py';

let b: TestBroker;
before(async () => {
  b = await startTestBroker();
});
after(async () => {
  await b?.close();
});

function py<T = any>(command: string, req: Record<string, unknown>): Promise<T> {
  return runPython<T>(SCRIPT, command, { bootstrap: b.bootstrap, ...req });
}

async function produce(topic: string, records: TestRecord[], codec: string): Promise<number[]> {
  const res = await py<{ reports: Array<{ error: string | null; offset: number }> }>('produce', { topic, partition: 0, codec, records: records.map(toWire), acks: -1 });
  for (const [i, r] of res.reports.entries()) assert.equal(r.error, null, `message ${i}: ${r.error}`);
  return res.reports.map((r) => r.offset);
}

async function consume(topic: string, offset: number, count: number) {
  return (await py<{ records: Array<WireRecord & { timestampType: number }> }>('consume', { topic, partition: 0, offset, count, timeout: 20 })).records;
}

async function createTopic(name: string, partitions: number, config: Record<string, string> = {}) {
  const res = await py('create_topic', { name, partitions, config });
  const errors = res.response.topic_errors.map((t: any) => [t.topic, t.error_code]);
  assert.deepEqual(errors, [[name, 0]], `CreateTopics v${res.version}: ${JSON.stringify(res.response)}`);
}

test('kafka-python infers a broker version with record headers (>= 0.11) and has only gzip', async () => {
  const { apiVersion } = await py<{ apiVersion: number[] }>('versions', {});
  // Version inference walks the ApiVersions ranges (see COMPAT.md trap 4); headers need >= 0.11.
  assert.ok(apiVersion[0] > 0 || apiVersion[1] >= 11, `inferred broker version ${apiVersion.join('.')} is too old for headers`);
  assert.deepEqual(await py('codecs', {}), { gzip: true, snappy: false, lz4: false, zstd: false });
});

for (const codec of ['none', 'gzip']) {
  test(`kafka-python produces with ${codec} and consumes back byte-exact (keys, headers, timestamps, tombstone)`, async () => {
    const topic = uniqueTopic(`kp-${codec}`);
    await createTopic(topic, 1);
    const records = payloadSet({ seed: 31, baseTimestamp: recentBase(), count: 12, nullValues: true });
    assert.deepEqual(await produce(topic, records, codec), records.map((_, i) => i));
    const got = await consume(topic, 0, records.length);
    for (const r of got) assert.equal(r.timestampType, 0, 'CreateTime (kafka-python reports 0)');
    assertSameRecords(got.map(fromWire), records, { firstOffset: 0, what: `kafka-python ${codec}` });
  });
}

test('kafka-python admin: create with partitions and configs, describe, alter, add partitions, delete', async () => {
  const topic = uniqueTopic('kp-admin');
  await createTopic(topic, 2, { 'retention.ms': '86400000', 'segment.bytes': '10485760' });

  let d = await py('describe', { name: topic });
  assert.equal(d.topics.length, 1);
  assert.equal(d.topics[0].error_code, 0);
  assert.deepEqual(d.topics[0].partitions.map((p: any) => p.partition).sort(), [0, 1]);
  for (const p of d.topics[0].partitions) {
    assert.equal(p.error_code, 0);
    assert.deepEqual(p.replicas, [p.leader]);
    assert.deepEqual(p.isr, [p.leader]);
  }
  const configsOf = (desc: any) => {
    assert.equal(desc.configs.length, 1);
    const res = desc.configs[0].resources;
    assert.equal(res.length, 1);
    assert.equal(res[0].error_code, 0, `DescribeConfigs v${desc.configsVersion}: ${res[0].error_message}`);
    return new Map<string, any>(res[0].config_entries.map((e: any) => [e.config_names, e]));
  };
  let configs = configsOf(d);
  assert.equal(configs.get('retention.ms')?.config_value, '86400000');
  assert.equal(configs.get('segment.bytes')?.config_value, '10485760');
  assert.ok(configs.has('cleanup.policy'), 'defaults are described too');

  const altered = await py('alter', { name: topic, config: { 'retention.ms': '7200000', 'segment.bytes': '10485760' } });
  assert.deepEqual(altered.response.resources.map((r: any) => [r.resource_name, r.error_code]), [[topic, 0]], JSON.stringify(altered.response));
  d = await py('describe', { name: topic });
  configs = configsOf(d);
  assert.equal(configs.get('retention.ms')?.config_value, '7200000');

  const grown = await py('add_partitions', { name: topic, total: 3 });
  assert.deepEqual(grown.response.topic_errors.map((t: any) => [t.topic, t.error_code]), [[topic, 0]]);
  d = await py('describe', { name: topic });
  assert.deepEqual(d.topics[0].partitions.map((p: any) => p.partition).sort(), [0, 1, 2]);

  const deleted = await py('delete_topic', { name: topic });
  assert.deepEqual(deleted.response.topic_error_codes.map((t: any) => [t.topic, t.error_code]), [[topic, 0]]);
  await waitFor('the topic to disappear', async () => ((await py('list_topics', {})).topics.includes(topic) ? undefined : true));
});

test('kafka-python lists offsets: beginning, end and offsets_for_times', async () => {
  const topic = uniqueTopic('kp-offsets');
  await createTopic(topic, 1);
  const base = recentBase();
  const records = payloadSet({ seed: 32, baseTimestamp: base, count: 8 });
  await produce(topic, records.slice(0, 4), 'gzip');
  await produce(topic, records.slice(4), 'none');
  const res = await py('offsets', { topic, partition: 0, timestamps: [base - 1, base + 1000, base + 4500, base + 60_000] });
  assert.equal(res.low, 0);
  assert.equal(res.high, 8);
  assert.deepEqual(res.byTime, [
    { offset: 0, timestamp: base },
    { offset: 1, timestamp: base + 1000 },
    { offset: 5, timestamp: base + 5000 },
    null,
  ], 'offsets_for_times gives the first record at or after the target and its timestamp; none past the end');
  assertSameRecords((await consume(topic, 3, 5)).map(fromWire), records.slice(3), { firstOffset: 3, what: 'from offset 3' });
});
