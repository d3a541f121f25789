// @platformatic/kafka 2.x against Brook over TCP.
//
// This client negotiates the newest versions both sides know (ApiVersions v3 first, then flexible
// Metadata, Fetch, ListOffsets...; COMPAT.md). It has every codec built in and an admin API with
// delete records. Its streaming consumer always joins a group, so the byte-exact checks read with
// Consumer.fetch (one Fetch request to the partition leader, no group), and one test consumes
// through a group.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, ConfigResourceTypes, Consumer, IncrementalAlterConfigOperationTypes, Producer, type ProducerOptions } from '@platformatic/kafka';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { CODECS, assertSameRecords, payloadSet, recentBase, sleep, uniqueTopic, type Codec, type ConsumedRecord, type TestRecord } from './util.ts';

// The Fetch response types are not exported by the package's entry point.
type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;
type FetchResponsePartition = FetchResponse['responses'][number]['partitions'][number];

let b: TestBroker;
let admin: Admin;

const base = () => ({ clientId: 'compat-platformatic', bootstrapBrokers: [b.bootstrap], timeout: 10_000, retries: 2, retryDelay: 200 });

before(async () => {
  // No 3 s wait for more members before the first rebalance of a group (Kafka's test setting too).
  b = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  admin = new Admin(base());
});
after(async () => {
  await admin?.close();
  await b?.close();
});

async function createTopic(name: string, partitions: number, configs: Array<{ name: string; value: string }> = []): Promise<void> {
  const created = await admin.createTopics({ topics: [name], partitions, replicas: 1, configs });
  assert.equal(created.length, 1);
  assert.equal(created[0].name, name);
  assert.equal(created[0].partitions, partitions);
}

async function produce(topic: string, records: TestRecord[], compression: Codec, opts: Partial<ProducerOptions<Buffer, Buffer, Buffer, Buffer>> = {}): Promise<void> {
  const producer = new Producer({ ...base(), acks: -1, ...opts });
  try {
    const res = await producer.send({
      compression,
      messages: records.map((r) => ({
        topic,
        partition: 0,
        key: r.key ?? undefined,
        value: r.value ?? undefined,
        // Distinct Buffer objects keep duplicate header keys apart in the Map, in order.
        headers: new Map(r.headers.map(([k, v]) => [Buffer.from(k), v] as [Buffer, Buffer])),
        timestamp: BigInt(r.timestamp),
      })),
    });
    assert.ok(res.offsets && res.offsets.length >= 1, `no offsets in ${JSON.stringify(res, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  } finally {
    await producer.close();
  }
}

/** Reads `count` records of partition 0 from `offset` with plain Fetch requests, no group. */
async function fetchRecords(topic: string, offset: number, count: number): Promise<ConsumedRecord[]> {
  const consumer = new Consumer({ ...base(), groupId: 'compat-fetch-only', maxWaitTime: 200 });
  try {
    consumer.topics.track(topic);
    const md = await consumer.metadata({ topics: [topic], forceUpdate: true });
    const t = md.topics.get(topic);
    assert.ok(t, `metadata has no ${topic}`);
    const out: ConsumedRecord[] = [];
    let next = BigInt(offset);
    const deadline = Date.now() + 20_000;
    while (out.length < count && Date.now() < deadline) {
      const res: FetchResponse = await consumer.fetch({
        node: t.partitions[0].leader,
        topics: [{ topicId: t.id, partitions: [{ partition: 0, fetchOffset: next, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
      });
      const p: FetchResponsePartition = res.responses[0].partitions[0];
      assert.equal(p.errorCode, 0);
      for (const batch of p.records ?? []) {
        if (batch.attributes & 0x20) continue; // control batch
        for (const r of batch.records) {
          const o = batch.firstOffset + BigInt(r.offsetDelta);
          if (o < next) continue;
          out.push({
            offset: Number(o),
            timestamp: Number(batch.firstTimestamp + r.timestampDelta),
            key: r.key,
            value: r.value,
            headers: r.headers.map(([k, v]): [string, Buffer | null] => [k?.toString('utf8') ?? '<null key>', v]),
          });
        }
        next = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
      }
      if (!p.records?.length) await sleep(50);
    }
    return out;
  } finally {
    await consumer.close();
  }
}

for (const codec of CODECS) {
  test(`platformatic produces with ${codec} and fetches back byte-exact (keys, headers, timestamps, tombstone)`, async () => {
    const topic = uniqueTopic(`pl-${codec}`);
    await createTopic(topic, 1);
    const records = payloadSet({ seed: 41, baseTimestamp: recentBase(), count: 12, nullValues: true });
    await produce(topic, records, codec);
    assertSameRecords(await fetchRecords(topic, 0, records.length), records, { firstOffset: 0, what: `platformatic ${codec}` });
  });
}

test('platformatic idempotent producer (InitProducerId, sequences) appends once', async () => {
  const topic = uniqueTopic('pl-idem');
  await createTopic(topic, 1);
  const records = payloadSet({ seed: 42, baseTimestamp: recentBase(), count: 10 });
  await produce(topic, records, 'zstd', { idempotent: true });
  assertSameRecords(await fetchRecords(topic, 0, records.length), records, { firstOffset: 0, what: 'idempotent' });
});

test('platformatic admin: create with configs, describe, incremental and legacy alter, add partitions, delete', async () => {
  const topic = uniqueTopic('pl-admin');
  await createTopic(topic, 2, [{ name: 'retention.ms', value: '86400000' }, { name: 'max.message.bytes', value: '2000000' }]);
  const md = await admin.metadata({ topics: [topic] });
  const t = md.topics.get(topic);
  assert.ok(t);
  assert.equal(t.partitionsCount, 2);
  for (const p of t.partitions) {
    assert.ok(md.brokers.has(p.leader), `leader ${p.leader} is a listed broker`);
    assert.deepEqual(p.replicas, [p.leader]);
    assert.deepEqual(p.isr, [p.leader]);
  }
  assert.match(t.id, /^[0-9a-f-]{36}$|^[A-Za-z0-9_-]{22}$|^pl-admin/, 'a topic id (or the name when Metadata < v10)');

  const describe = async () => {
    const res = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic }] });
    assert.equal(res.length, 1);
    return new Map(res[0].configs.map((c) => [c.name, c]));
  };
  let configs = await describe();
  assert.equal(configs.get('retention.ms')?.value, '86400000');
  assert.equal(configs.get('retention.ms')?.configSource, 1, 'DYNAMIC_TOPIC_CONFIG');
  assert.equal(configs.get('max.message.bytes')?.value, '2000000');
  assert.equal(configs.get('cleanup.policy')?.value, 'delete');
  assert.equal(configs.get('cleanup.policy')?.configSource, 5, 'DEFAULT_CONFIG');

  await admin.incrementalAlterConfigs({
    resources: [{
      resourceType: ConfigResourceTypes.TOPIC,
      resourceName: topic,
      configs: [
        { name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '7200000' },
        { name: 'max.message.bytes', configOperation: IncrementalAlterConfigOperationTypes.DELETE },
      ],
    }],
  });
  configs = await describe();
  assert.equal(configs.get('retention.ms')?.value, '7200000');
  assert.equal(configs.get('max.message.bytes')?.configSource, 5, 'a deleted override falls back to the default');

  await admin.alterConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs: [{ name: 'segment.ms', value: '600000' }] }] });
  configs = await describe();
  assert.equal(configs.get('segment.ms')?.value, '600000');
  assert.equal(configs.get('retention.ms')?.configSource, 5, 'legacy AlterConfigs replaces the whole set');

  await admin.createPartitions({ topics: [{ name: topic, count: 4 }] });
  assert.equal((await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)?.partitionsCount, 4);

  await admin.deleteTopics({ topics: [topic] });
  assert.ok(!(await admin.listTopics()).includes(topic), 'deleted topic is no longer listed');
});

test('platformatic admin: list offsets earliest/latest/by timestamp, delete records', async () => {
  const topic = uniqueTopic('pl-offsets');
  await createTopic(topic, 1);
  const ts0 = recentBase();
  const records = payloadSet({ seed: 43, baseTimestamp: ts0, count: 10 });
  await produce(topic, records.slice(0, 5), 'snappy');
  await produce(topic, records.slice(5), 'none');
  const list = async (timestamp: bigint) => {
    const res = await admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }] });
    return res[0].partitions[0];
  };
  assert.equal((await list(-2n)).offset, 0n, 'earliest');
  assert.equal((await list(-1n)).offset, 10n, 'latest');
  const at = await list(BigInt(ts0 + 2000));
  assert.equal(at.offset, 2n, 'exact timestamp');
  assert.equal(at.timestamp, BigInt(ts0 + 2000));
  assert.equal((await list(BigInt(ts0 + 5500))).offset, 6n, 'between records');
  assert.equal((await list(BigInt(ts0 + 60_000))).offset, -1n, 'past the end');
  assert.equal((await list(-3n)).offset, 9n, 'max timestamp (KIP-734) is the last record, if Brook advertises ListOffsets v7');

  const deleted = await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 7n }] }] });
  assert.equal(deleted[0].partitions[0].lowWatermark, 7n);
  assert.equal((await list(-2n)).offset, 7n, 'earliest moves to the new log start');
  assertSameRecords(await fetchRecords(topic, 7, 3), records.slice(7), { firstOffset: 7, what: 'after delete records' });
});

test('platformatic consumer group reads back byte-exact (needs FindCoordinator/JoinGroup/SyncGroup/Heartbeat)', async () => {
  const topic = uniqueTopic('pl-group');
  await createTopic(topic, 1);
  const records = payloadSet({ seed: 44, baseTimestamp: recentBase(), count: 10, nullValues: true });
  await produce(topic, records, 'lz4');
  const consumer = new Consumer({ ...base(), groupId: uniqueTopic('pl-g'), maxWaitTime: 200, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  const got: ConsumedRecord[] = [];
  // Nothing here may wait forever: the whole exchange is bounded by one timer that closes the client.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    consumer.close(true).catch(() => {});
  }, 30_000);
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    for await (const m of stream) {
      got.push({ offset: Number(m.offset), timestamp: Number(m.timestamp), key: m.key ?? null, value: m.value ?? null, headers: m.headerEntries.map(([k, v]) => [k.toString(), v]) });
      if (got.length >= records.length) break;
    }
    await stream.close();
  } finally {
    clearTimeout(timer);
    await consumer.close(true).catch(() => {});
  }
  assert.ok(!timedOut, `timed out after 30 s with ${got.length} of ${records.length} records`);
  assertSameRecords(got, records, { firstOffset: 0, what: 'platformatic group consumer' });
});
