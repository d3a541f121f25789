// kcat 1.7.1 on librdkafka 2.0.2 against Brook over TCP.
//
// What kcat cannot do, so is not tested here: per-message headers (-H applies to every message of a
// run), explicit timestamps (librdkafka stamps CreateTime when the message is queued), topic
// creation, config describe/alter, topic deletion, delete records. Topics are created with Brook's
// own client; one test relies on auto-creation through Metadata instead. Consuming uses kcat's
// group-less consumer (assign + explicit offsets). Null values are not produced (-Z would turn the
// empty value into NULL, and the set needs an empty value).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import {
  CODECS, KCAT, assertSameRecords, createTopic, kcatConsume, payloadSet, runOk, runProcess, sleep, uniqueTopic,
  type TestRecord,
} from './util.ts';

// Delimiters kept out of the payload: \x1e between messages, \x1f between key and value.
const MSG_DELIM = 0x1e;
const KEY_DELIM = 0x1f;
const RUN_HEADERS: Array<[string, Buffer]> = [['h1', Buffer.from('v1')], ['dup', Buffer.from('a')], ['dup', Buffer.from('b')], ['empty', Buffer.alloc(0)]];

/** The record set kcat can send: no null values, delimiters avoided, headers only per run. */
function kcatSet(seed: number, count: number, headers: Array<[string, Buffer]> = []): TestRecord[] {
  return payloadSet({ seed, baseTimestamp: 0, count, avoidBytes: [MSG_DELIM, KEY_DELIM] }).map((r) => ({ ...r, headers }));
}

let b: TestBroker;
before(async () => {
  // No 3 s wait for more members before the first rebalance of a group (Kafka's test setting too).
  b = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
});
after(async () => {
  await b?.close();
});

function common(): string[] {
  return ['-b', b.bootstrap, '-m', '10', '-X', 'socket.timeout.ms=10000'];
}

/** Produces records through kcat's stdin with per-message keys (records with a null key have no key delimiter). */
async function kcatProduce(topic: string, records: TestRecord[], extra: string[] = []): Promise<void> {
  const parts: Buffer[] = [];
  for (const r of records) {
    assert.ok(r.value !== null);
    if (r.key !== null) parts.push(r.key, Buffer.from([KEY_DELIM]));
    parts.push(r.value, Buffer.from([MSG_DELIM]));
  }
  await runOk(KCAT, [
    ...common(), '-P', '-t', topic, '-p', '0', '-D', '\\x1e', '-K', '\\x1f',
    '-X', 'message.timeout.ms=15000', ...extra,
  ], { input: Buffer.concat(parts), timeoutMs: 30_000 });
}

async function queryOffset(topic: string, partition: number, ts: number): Promise<number> {
  const res = await runOk(KCAT, [...common(), '-Q', '-t', `${topic}:${partition}:${ts}`], { timeoutMs: 20_000 });
  const m = /\[(\d+)\]\s+offset\s+(-?\d+)/.exec(res.stdout.toString());
  assert.ok(m, `unexpected kcat -Q output: ${res.stdout.toString()} ${res.stderr}`);
  assert.equal(Number(m[1]), partition);
  return Number(m[2]);
}

interface KcatMetadata {
  brokers: Array<{ id: number; name: string }>;
  topics: Array<{ topic: string; error?: string; partitions: Array<{ partition: number; leader: number; replicas: Array<{ id: number }>; isrs: Array<{ id: number }> }> }>;
}

async function kcatMetadata(topic?: string): Promise<KcatMetadata> {
  const res = await runOk(KCAT, [...common(), '-L', '-J', ...(topic ? ['-t', topic] : [])], { timeoutMs: 20_000 });
  return JSON.parse(res.stdout.toString()) as KcatMetadata;
}

test('kcat -L lists the broker and a created topic with its partitions and leaders', async () => {
  const topic = uniqueTopic('kcat-meta');
  await createTopic(b.host, b.port, topic, 3);
  const md = await kcatMetadata();
  assert.equal(md.brokers.length, 1, JSON.stringify(md.brokers));
  assert.equal(md.brokers[0].name, `127.0.0.1:${b.port}`);
  const t = md.topics.find((x) => x.topic === topic);
  assert.ok(t, `topic ${topic} missing from ${md.topics.map((x) => x.topic).join(',')}`);
  assert.deepEqual(t.partitions.map((p) => p.partition).sort(), [0, 1, 2]);
  for (const p of t.partitions) {
    assert.equal(p.leader, md.brokers[0].id);
    assert.deepEqual(p.replicas.map((r) => r.id), [md.brokers[0].id]);
    assert.deepEqual(p.isrs.map((r) => r.id), [md.brokers[0].id]);
  }
});

for (const codec of CODECS) {
  test(`kcat produces with ${codec} and consumes back byte-exact (keys, null keys, headers, offsets)`, async () => {
    const topic = uniqueTopic(`kcat-${codec}`);
    await createTopic(b.host, b.port, topic, 1);
    const records = kcatSet(7, 12, RUN_HEADERS);
    const t0 = Date.now();
    await kcatProduce(topic, records, ['-z', codec, ...RUN_HEADERS.flatMap(([k, v]) => ['-H', `${k}=${v.toString()}`])]);
    const t1 = Date.now();
    const got = await kcatConsume(b.bootstrap, topic, 0, 'beginning', records.length);
    assertSameRecords(got, records, { firstOffset: 0, checkTimestamps: false, what: `kcat ${codec}` });
    for (const r of got) assert.ok(r.timestamp >= t0 - 1000 && r.timestamp <= t1 + 1000, `CreateTime ${r.timestamp} outside the produce window ${t0}..${t1}`);
  });
}

test('kcat -Q lists offsets earliest, latest and by timestamp; -o s@ts starts there', async () => {
  const topic = uniqueTopic('kcat-times');
  await createTopic(b.host, b.port, topic, 1);
  const first = kcatSet(1, 5);
  const second = kcatSet(2, 4);
  await kcatProduce(topic, first);
  await sleep(20);
  const mid = Date.now();
  await sleep(20);
  await kcatProduce(topic, second);
  assert.equal(await queryOffset(topic, 0, -2), 0, 'earliest');
  assert.equal(await queryOffset(topic, 0, -1), first.length + second.length, 'latest');
  assert.equal(await queryOffset(topic, 0, mid), first.length, 'first offset with timestamp >= mid');
  assert.equal(await queryOffset(topic, 0, 0), 0, 'timestamp 0 finds the first record');
  assert.equal(await queryOffset(topic, 0, Date.now() + 3_600_000), -1, 'a timestamp after every record finds no offset (-1)');
  const fromMid = await kcatConsume(b.bootstrap, topic, 0, `s@${mid}`, second.length);
  assertSameRecords(fromMid, second, { firstOffset: first.length, checkTimestamps: false, what: 'from timestamp' });
});

test('kcat consumes from an absolute and a relative offset', async () => {
  const topic = uniqueTopic('kcat-offsets');
  await createTopic(b.host, b.port, topic, 1);
  const records = kcatSet(3, 8);
  await kcatProduce(topic, records, ['-z', 'lz4']);
  assertSameRecords(await kcatConsume(b.bootstrap, topic, 0, '3', 5), records.slice(3), { firstOffset: 3, checkTimestamps: false, what: 'from offset 3' });
  assertSameRecords(await kcatConsume(b.bootstrap, topic, 0, '-2', 2), records.slice(6), { firstOffset: 6, checkTimestamps: false, what: 'last two' });
});

test('kcat -p writes to the chosen partition only', async () => {
  const topic = uniqueTopic('kcat-parts');
  await createTopic(b.host, b.port, topic, 3);
  await runOk(KCAT, [...common(), '-P', '-t', topic, '-p', '2', '-k', 'pk'], { input: 'one\ntwo\nthree\n', timeoutMs: 30_000 });
  const got = await kcatConsume(b.bootstrap, topic, 2, 'beginning', 3);
  assert.deepEqual(got.map((r) => [r.offset, r.key?.toString(), r.value?.toString()]), [[0, 'pk', 'one'], [1, 'pk', 'two'], [2, 'pk', 'three']]);
  for (const p of [0, 1]) assert.equal(await queryOffset(topic, p, -1), 0, `partition ${p} stays empty`);
});

test('kcat produces a whole binary file as one message, and to an auto-created topic', async () => {
  // auto.create.topics.enable defaults to true; librdkafka's producer asks Metadata v4 with
  // allow_auto_topic_creation=true and waits for the topic to appear.
  const topic = uniqueTopic('kcat-auto');
  const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'kcat-file-'));
  try {
    const body = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.alloc(200_000, 0x41)]);
    await writeFile(join(dir, 'blob'), body);
    const res = await runProcess(KCAT, [...common(), '-P', '-t', topic, '-k', 'file', '-z', 'zstd', join(dir, 'blob')], { timeoutMs: 30_000 });
    assert.equal(res.code, 0, `kcat -P to a new topic failed: ${res.stderr}`);
    const md = await kcatMetadata(topic);
    const t = md.topics.find((x) => x.topic === topic);
    assert.ok(t && !t.error, `auto-created topic missing: ${JSON.stringify(md.topics)}`);
    assert.ok(t.partitions.length >= 1);
    const part = t.partitions.length === 1 ? 0 : await findNonEmpty(topic, t.partitions.length);
    const got = await kcatConsume(b.bootstrap, topic, part, 'beginning', 1);
    assert.equal(got.length, 1);
    assert.equal(got[0].key?.toString(), 'file');
    assert.ok(got[0].value?.equals(body), 'file body differs');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function findNonEmpty(topic: string, partitions: number): Promise<number> {
  for (let p = 0; p < partitions; p++) if ((await queryOffset(topic, p, -1)) > 0) return p;
  throw new Error(`no partition of ${topic} holds data`);
}

test('kcat -G consumes through a consumer group and commits: the next run of the group reads nothing', async () => {
  // librdkafka only enables groups when JoinGroup/SyncGroup/Heartbeat/LeaveGroup/FindCoordinator
  // ranges include v0 (COMPAT.md trap 1); it then uses JoinGroup v5, OffsetCommit/OffsetFetch v7.
  const topic = uniqueTopic('kcat-group');
  await createTopic(b.host, b.port, topic, 2);
  const records = kcatSet(5, 6);
  await kcatProduce(topic, records);
  const group = uniqueTopic('kcat-g');
  const consumeGroup = async () => {
    const res = await runOk(KCAT, [...common(), '-G', group, '-X', 'auto.offset.reset=earliest', '-e', '-J', topic], { timeoutMs: 30_000 });
    return res.stdout.toString('latin1').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { partition: number; offset: number; payload: string });
  };
  const first = await consumeGroup();
  assert.deepEqual(first.map((m) => [m.partition, m.offset]), records.map((_, i) => [0, i]));
  assert.deepEqual(first.map((m) => Buffer.from(m.payload, 'latin1').toString('hex')), records.map((r) => r.value!.toString('hex')));
  assert.deepEqual(await consumeGroup(), [], 'the committed offsets are where the second run starts');
});
