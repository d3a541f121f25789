// kafkajs 2.2.4 against Brook over TCP.
//
// What kafkajs cannot do, so is not tested here: consume without a consumer group (its only
// consumer subscribes through FindCoordinator/JoinGroup/SyncGroup/Heartbeat/OffsetCommit), so the
// byte-exact check of each codec reads back with kcat's group-less consumer, and one test consumes
// through a group. snappy, lz4 and zstd need codec plugins (kafkajs-snappy, kafkajs-lz4,
// @kafkajs/zstd are not installed): the codecs below are small adapters over packages this repo
// already has (snappy, lz4-napi, node:zlib's zstd), with snappy read in both raw and xerial framing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import kafkajs from 'kafkajs';
import type { Admin, IHeaders, KafkaMessage, Message } from 'kafkajs';
import snappy from 'snappy';
import * as lz4 from 'lz4-napi';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { CODECS, assertSameRecords, kcatConsume, payloadSet, recentBase, sleep, uniqueTopic, waitFor, type ConsumedRecord, type TestRecord } from './util.ts';

const { Kafka, CompressionTypes, CompressionCodecs, ConfigResourceTypes, logLevel } = kafkajs;

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

function snappyDecode(buf: Buffer): Buffer {
  if (!buf.subarray(0, 8).equals(XERIAL_MAGIC)) return snappy.uncompressSync(buf) as Buffer;
  // xerial framing: 8-byte magic, two int32 versions, then [int32 length][raw snappy block]...
  const parts: Buffer[] = [];
  for (let at = 16; at < buf.length;) {
    const n = buf.readInt32BE(at);
    parts.push(snappy.uncompressSync(buf.subarray(at + 4, at + 4 + n)) as Buffer);
    at += 4 + n;
  }
  return Buffer.concat(parts);
}

const codecs = CompressionCodecs as Record<number, () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }>;
codecs[CompressionTypes.Snappy] = () => ({
  compress: async (e) => snappy.compressSync(e.buffer),
  decompress: async (b) => snappyDecode(b),
});
codecs[CompressionTypes.LZ4] = () => ({
  compress: async (e) => lz4.compressFrameSync(e.buffer),
  decompress: async (b) => lz4.decompressFrameSync(b),
});
codecs[CompressionTypes.ZSTD] = () => ({
  compress: async (e) => zstdCompressSync(e.buffer),
  decompress: async (b) => zstdDecompressSync(b),
});

const CODEC_TYPES: Record<string, number> = {
  none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD,
};

let b: TestBroker;
let logs: string[] = [];
let kafka: InstanceType<typeof Kafka>;
let admin: Admin;

before(async () => {
  // No 3 s wait for more members before the first rebalance of a group (Kafka's test setting too).
  b = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  kafka = new Kafka({
    clientId: 'compat-kafkajs',
    brokers: [b.bootstrap],
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 3, initialRetryTime: 100 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, label, log }) => {
      logs.push(`${label} [${namespace}] ${log.message} ${JSON.stringify({ ...log, message: undefined, timestamp: undefined, logger: undefined })}`);
    },
  });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await admin?.disconnect();
  await b?.close();
});

/** Appends the client's own warnings to an assertion failure. */
async function withLogs<T>(fn: () => Promise<T>): Promise<T> {
  logs = [];
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Error) e.message += `\n--- kafkajs log ---\n${logs.slice(-30).join('\n')}`;
    throw e;
  }
}

function toMessage(r: TestRecord): Message {
  const headers: IHeaders = {};
  for (const [k, v] of r.headers) {
    const prev = headers[k];
    headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev as Buffer, v];
  }
  return { key: r.key, value: r.value, headers, timestamp: String(r.timestamp), partition: 0 };
}

function fromMessage(m: KafkaMessage): ConsumedRecord {
  const headers: Array<[string, Buffer | null]> = [];
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) headers.push([k, one === null || one === undefined ? null : Buffer.isBuffer(one) ? one : Buffer.from(one)]);
  }
  return { offset: Number(m.offset), timestamp: Number(m.timestamp), key: m.key, value: m.value, headers };
}

async function createTopic(name: string, numPartitions: number, configEntries: Array<{ name: string; value: string }> = []): Promise<void> {
  const created = await admin.createTopics({ topics: [{ topic: name, numPartitions, replicationFactor: 1, configEntries }], waitForLeaders: true, timeout: 10_000 });
  assert.equal(created, true, `createTopics(${name}) returned ${created}`);
}

for (const codec of CODECS) {
  test(`kafkajs produces with ${codec}; kcat reads back byte-exact (keys, null keys, headers, timestamps)`, () => withLogs(async () => {
    const topic = uniqueTopic(`kafkajs-${codec}`);
    await createTopic(topic, 1);
    const records = payloadSet({ seed: 11, baseTimestamp: recentBase(), count: 12, nullValues: true });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const meta = await producer.send({ topic, acks: -1, compression: CODEC_TYPES[codec], messages: records.map(toMessage) });
      assert.equal(meta.length, 1);
      assert.equal(meta[0].errorCode, 0);
      assert.equal(meta[0].baseOffset, '0');
    } finally {
      await producer.disconnect();
    }
    const got = await kcatConsume(b.bootstrap, topic, 0, 'beginning', records.length);
    assertSameRecords(got, records, { firstOffset: 0, what: `kafkajs ${codec}` });
  }));
}

test('kafkajs admin: create with partitions and configs, describe, alter, add partitions, delete', () => withLogs(async () => {
  const topic = uniqueTopic('kafkajs-admin');
  await createTopic(topic, 3, [{ name: 'retention.ms', value: '86400000' }, { name: 'max.message.bytes', value: '2000000' }]);
  assert.ok((await admin.listTopics()).includes(topic));

  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  assert.equal(md.topics.length, 1);
  assert.deepEqual(md.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1, 2]);
  for (const p of md.topics[0].partitions) {
    assert.equal(p.partitionErrorCode, 0);
    assert.equal(p.replicas.length, 1);
    assert.deepEqual(p.isr, p.replicas);
    assert.equal(p.leader, p.replicas[0]);
  }

  const describe = async () => {
    const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    assert.equal(res.resources.length, 1);
    assert.equal(res.resources[0].errorCode, 0);
    return new Map(res.resources[0].configEntries.map((e) => [e.configName, e]));
  };
  let configs = await describe();
  assert.equal(configs.get('retention.ms')?.configValue, '86400000');
  assert.equal(configs.get('retention.ms')?.isDefault, false);
  assert.equal(configs.get('max.message.bytes')?.configValue, '2000000');
  assert.ok(configs.has('cleanup.policy') && configs.has('segment.bytes'), `defaults are described too: ${[...configs.keys()].join(',')}`);
  assert.equal(configs.get('cleanup.policy')?.configValue, 'delete');

  // AlterConfigs (not incremental) replaces the topic's whole set: max.message.bytes goes back to
  // its default because it is not in the request.
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] });
  configs = await describe();
  assert.equal(configs.get('retention.ms')?.configValue, '3600000');
  assert.notEqual(configs.get('max.message.bytes')?.configValue, '2000000', 'AlterConfigs must reset unlisted topic configs');

  await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
  const md2 = await admin.fetchTopicMetadata({ topics: [topic] });
  assert.deepEqual(md2.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1, 2, 3, 4]);

  await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  await waitFor('the topic to disappear', async () => ((await admin.listTopics()).includes(topic) ? undefined : true));
}));

test('kafkajs admin: list offsets earliest/latest/by timestamp, delete records', () => withLogs(async () => {
  const topic = uniqueTopic('kafkajs-offsets');
  await createTopic(topic, 1);
  const base = recentBase();
  const records = payloadSet({ seed: 12, baseTimestamp: base, count: 10 });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: records.slice(0, 5).map(toMessage) });
    await producer.send({ topic, acks: -1, messages: records.slice(5).map(toMessage) });
  } finally {
    await producer.disconnect();
  }
  assert.deepEqual(await admin.fetchTopicOffsets(topic), [{ partition: 0, offset: '10', high: '10', low: '0' }]);
  const byTime = async (ts: number) => (await admin.fetchTopicOffsetsByTimestamp(topic, ts))[0].offset;
  assert.equal(await byTime(base - 1), '0');
  assert.equal(await byTime(base + 3000), '3', 'exact timestamp');
  assert.equal(await byTime(base + 3500), '4', 'first offset with a later timestamp');
  assert.equal(await byTime(base + 4500), '5', 'first record of the second batch');
  assert.equal(await byTime(base + 60_000), '10', 'no record that late: kafkajs maps -1 to the high watermark');

  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] });
  assert.deepEqual(await admin.fetchTopicOffsets(topic), [{ partition: 0, offset: '10', high: '10', low: '4' }]);
  assert.equal(await byTime(base - 1), '4', 'by timestamp never answers below the log start offset');
  const rest = await kcatConsume(b.bootstrap, topic, 0, 'beginning', 6);
  assertSameRecords(rest, records.slice(4), { firstOffset: 4, what: 'after delete records' });
}));

test('kafkajs consumer group reads back byte-exact (needs FindCoordinator/JoinGroup/SyncGroup/Heartbeat/OffsetCommit)', () => withLogs(async () => {
  const topic = uniqueTopic('kafkajs-group');
  await createTopic(topic, 1);
  const records = payloadSet({ seed: 13, baseTimestamp: recentBase(), count: 10, nullValues: true });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: records.map(toMessage) });
  await producer.disconnect();

  const groupId = uniqueTopic('kafkajs-g');
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 200, retry: { retries: 2 } });
  const got: ConsumedRecord[] = [];
  let crashed: Error | undefined;
  // A crash kafkajs restarts from (a retriable error such as COORDINATOR_LOAD_IN_PROGRESS) is not
  // fatal; one it gives up on is.
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) crashed = e.payload.error;
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: true, eachMessage: async ({ message }) => { got.push(fromMessage(message)); } });
    const deadline = Date.now() + 30_000;
    while (got.length < records.length && crashed === undefined && Date.now() < deadline) await sleep(100);
    if (crashed) throw new Error(`kafkajs consumer crashed: ${crashed.message}`, { cause: crashed });
    assert.ok(got.length >= records.length, `only ${got.length} of ${records.length} records arrived through the group in 30 s`);
  } finally {
    await consumer.disconnect();
  }
  assertSameRecords(got, records, { firstOffset: 0, what: 'kafkajs group consumer' });
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  assert.deepEqual(committed[0].partitions.map((p) => [p.partition, p.offset]), [[0, String(records.length)]], 'the group committed the end offset');
}));
