// Brook's producer and consumer against an in-process broker over TCP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { Client } from '../../src/client/client.ts';
import { Producer, type CompressionName } from '../../src/client/producer.ts';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.ts';
import { Admin } from '../../src/client/admin.ts';
import { partitionForKey } from '../../src/client/partitioner.ts';
import { BrokerUnreachableError, UnknownPartitionError, UnknownTopicError } from '../../src/client/errors.ts';

async function drain(c: Consumer, n: number, timeoutMs = 10_000): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < deadline) out.push(...(await c.poll({ timeoutMs: 200 })));
  return out;
}

/** Polls (collecting records) until `done()` holds or 10 s pass. */
async function pollUntil(c: Consumer, done: () => boolean): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + 10_000;
  while (!done() && Date.now() < deadline) out.push(...(await c.poll({ timeoutMs: 100 })));
  return out;
}

describe('producer and consumer against Brook', () => {
  let b: TestBroker;
  let client: Client;
  let admin: Admin;

  before(async () => {
    b = await startTestBroker({ 'num.partitions': '3' }, { quiet: true });
    client = new Client({ brokers: b.bootstrap, allowAutoTopicCreation: false });
    admin = new Admin(client);
    await client.connect();
  });
  after(async () => {
    client?.close();
    await b?.close();
  });

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as CompressionName[]) {
    test(`${codec}: every record comes back with its key, value, headers and offset`, async () => {
      const topic = `codec-${codec}`;
      await admin.createTopics([{ name: topic, partitions: 1 }]);
      const producer = new Producer(client, { compression: codec, lingerMs: 20 });
      const sent = await Promise.all(Array.from({ length: 200 }, (_, i) =>
        producer.send({ topic, key: i % 5 === 0 ? null : `k${i}`, value: i === 7 ? null : `value-${i}`, headers: { n: String(i) } })));
      assert.deepEqual(sent.map((m) => m.offset), Array.from({ length: 200 }, (_, i) => i), 'offsets are contiguous, in send order');
      const consumer = new Consumer(client);
      consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      const got = await drain(consumer, 200);
      await consumer.close();
      assert.equal(got.length, 200);
      for (const [i, r] of got.entries()) {
        assert.equal(r.offset, i);
        assert.equal(r.key?.toString() ?? null, i % 5 === 0 ? null : `k${i}`);
        assert.equal(r.value?.toString() ?? null, i === 7 ? null : `value-${i}`);
        assert.deepEqual(r.headers.map((h) => [h.key, h.value?.toString()]), [['n', String(i)]]);
        assert.equal(r.timestamp, sent[i].timestamp);
      }
    });
  }

  test('keyed records land where Kafka\'s default partitioner puts them', async () => {
    await admin.createTopics([{ name: 'keyed', partitions: 5 }]);
    const producer = new Producer(client);
    const keys = Array.from({ length: 50 }, (_, i) => `user-${i}`);
    const sent = await Promise.all(keys.map((k) => producer.send({ topic: 'keyed', key: k, value: 'x' })));
    for (const [i, m] of sent.entries()) assert.equal(m.partition, partitionForKey(Buffer.from(keys[i]), 5), keys[i]);
  });

  test('keyless records stick to one partition per batch', async () => {
    await admin.createTopics([{ name: 'sticky', partitions: 4 }]);
    const producer = new Producer(client, { lingerMs: 1000, batchSize: 1_000_000 });
    const sent = await Promise.all(Array.from({ length: 20 }, () => producer.send({ topic: 'sticky', value: 'v' })));
    assert.equal(new Set(sent.map((m) => m.partition)).size, 1);
  });

  test('acks=0 and acks=1 deliver too (acks=0 reports no offset)', async () => {
    await admin.createTopics([{ name: 'acks', partitions: 1 }]);
    const p0 = new Producer(client, { acks: 0 });
    const m0 = await p0.send({ topic: 'acks', value: 'zero' });
    assert.equal(m0.offset, -1);
    await p0.flush();
    const p1 = new Producer(client, { acks: 1 });
    const m1 = await p1.send({ topic: 'acks', value: 'one' });
    assert.equal(m1.offset, 1);
    const consumer = new Consumer(client);
    consumer.assign([{ topic: 'acks', partition: 0, offset: 0 }]);
    assert.deepEqual((await drain(consumer, 2)).map((r) => r.value!.toString()), ['zero', 'one']);
    await consumer.close();
  });

  test('idempotence follows what the broker advertises', async () => {
    const notes: string[] = [];
    const p = new Producer(client, { onNote: (m) => notes.push(m) });
    await p.send({ topic: 'acks', value: 'x' });
    const advertised = (await client.any()).supports(22);
    assert.equal(p.isIdempotent, advertised);
    assert.equal(notes.length, advertised ? 0 : 1);
    const plain = new Producer(client, { idempotent: false });
    await plain.send({ topic: 'acks', value: 'y' });
    assert.equal(plain.isIdempotent, false);
  });

  test('backpressure: a small buffer.memory makes senders wait, and everything still arrives in order', async () => {
    await admin.createTopics([{ name: 'pressure', partitions: 1 }]);
    const p = new Producer(client, { bufferMemory: 4096, batchSize: 1024, lingerMs: 0 });
    let waited = 0;
    const deliveries: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      if (!p.hasCapacity()) {
        waited++;
        await p.waitForCapacity();
      }
      assert.ok(p.bufferedBytes < 4096 + 1024, 'the buffer stays near its bound');
      deliveries.push(p.send({ topic: 'pressure', value: `record-${String(i).padStart(4, '0')}-${'x'.repeat(50)}` }));
    }
    await Promise.all(deliveries);
    assert.ok(waited > 0, 'the producer pushed back at least once');
    const consumer = new Consumer(client);
    consumer.assign([{ topic: 'pressure', partition: 0, offset: 'earliest' }]);
    const got = await drain(consumer, 300);
    await consumer.close();
    assert.deepEqual(got.map((r) => r.value!.toString().slice(7, 11)), Array.from({ length: 300 }, (_, i) => String(i).padStart(4, '0')));
  });

  test('offset specs: earliest, latest, absolute, N before the end, by time; seek drops what was fetched', async () => {
    await admin.createTopics([{ name: 'offsets', partitions: 1 }]);
    const p = new Producer(client);
    const base = 1_700_000_000_000;
    for (let i = 0; i < 10; i++) await p.send({ topic: 'offsets', value: `v${i}`, timestamp: base + i * 1000 });
    const c = new Consumer(client);
    const first = async (spec: Parameters<Consumer['seek']>[2]) => {
      c.seek('offsets', 0, spec);
      return (await drain(c, 1))[0]?.offset;
    };
    c.assign([{ topic: 'offsets', partition: 0, offset: 'earliest' }]);
    assert.equal((await drain(c, 10)).length, 10);
    assert.equal(c.atEnd('offsets', 0), true);
    assert.equal(c.endOffset('offsets', 0), 10);
    assert.equal(await first(4), 4);
    assert.equal(await first({ fromEnd: 3 }), 7);
    assert.equal(await first({ timestamp: base + 5500 }), 6);
    assert.equal(await first({ fromEnd: 100 }), 0, 'clamped to the log start');
    c.seek('offsets', 0, 'latest');
    assert.deepEqual(await pollUntil(c, () => c.position('offsets', 0) !== null), []);
    assert.equal(c.position('offsets', 0), 10);
    await p.send({ topic: 'offsets', value: 'new' });
    assert.deepEqual((await drain(c, 1)).map((r) => r.value!.toString()), ['new']);
    c.seek('offsets', 0, { timestamp: Date.now() + 3_600_000 });
    await pollUntil(c, () => c.position('offsets', 0) !== null);
    assert.equal(c.position('offsets', 0), 11, 'a time after every record starts at the end');
    await c.close();
  });

  test('out of range positions reset by autoOffsetReset', async () => {
    const c = new Consumer(client, { autoOffsetReset: 'earliest' });
    c.assign([{ topic: 'offsets', partition: 0, offset: 999 }]);
    const got = await drain(c, 11);
    assert.equal(got[0].offset, 0);
    await c.close();
  });

  test('unknown topics and partitions are named errors', async () => {
    await assert.rejects(client.topic('no-such-topic', { autoCreate: false }), (e) => e instanceof UnknownTopicError && e.topic === 'no-such-topic');
    const p = new Producer(client);
    await assert.rejects(p.send({ topic: 'offsets', partition: 3, value: 'x' }), (e) => e instanceof UnknownPartitionError && e.partitionCount === 1);
    await assert.rejects(p.send({ topic: 'no-such-topic-either', value: 'x' }), UnknownTopicError);
  });

  test('an unreachable bootstrap list is BrokerUnreachableError naming the addresses', async () => {
    const c = new Client({ brokers: '127.0.0.1:1,127.0.0.1:2', connectTimeoutMs: 1000 });
    await assert.rejects(c.connect(), (e) => e instanceof BrokerUnreachableError && /127\.0\.0\.1:1, 127\.0\.0\.1:2/.test(e.message));
    c.close();
  });

  test('a second bootstrap address is used when the first is down', async () => {
    const c = new Client({ brokers: ['127.0.0.1:1', b.bootstrap] });
    await c.connect();
    assert.equal(c.metadata.brokers.size, 1);
    c.close();
  });
});
