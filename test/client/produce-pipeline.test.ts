// Several batches per partition in flight (max.in.flight.requests.per.connection) through a proxy
// that slows, swallows and drops Produce traffic: the pipeline fills to its limit and no further,
// and with idempotence (KIP-98) every value lands exactly once and in send order when an answer is
// lost mid-pipeline, when a request never reaches the broker (the batches behind it come back
// OUT_OF_ORDER_SEQUENCE_NUMBER), and when a batch fails for good (a new producer id for the rest).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../src/client/client.ts';
import { Producer, type ProducerOptions, type RecordMetadata } from '../../src/client/producer.ts';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.ts';
import { Admin } from '../../src/client/admin.ts';
import { KafkaError } from '../../src/client/errors.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { startBehindProxy, type ProduceProxyOptions, type ProxiedTestBroker } from './produce-proxy.ts';

const started: ProxiedTestBroker[] = [];
after(async () => {
  for (const b of started) await b.close();
});

async function setUp(proxy: ProduceProxyOptions, topicConfigs: Record<string, string> = {}): Promise<{ pb: ProxiedTestBroker; client: Client; topic: string }> {
  const pb = await startBehindProxy(proxy);
  started.push(pb);
  const client = new Client({ brokers: pb.bootstrap, allowAutoTopicCreation: false, requestTimeoutMs: 2000, retry: { backoffMs: 10, backoffMaxMs: 50 } });
  const topic = 'pipe';
  try {
    await new Admin(client).createTopics([{ name: topic, partitions: 1, configs: topicConfigs }]);
  } catch (e) {
    client.close();
    throw e;
  }
  return { pb, client, topic };
}

/** Everything in partition 0 of `topic`, from the start. */
async function readAll(client: Client, topic: string, n: number): Promise<ConsumerRecord[]> {
  const consumer = new Consumer(client);
  consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + 15_000;
  while (out.length < n && Date.now() < deadline) out.push(...(await consumer.poll({ timeoutMs: 200 })));
  // One more poll: nothing beyond the n expected (a duplicate would show here).
  out.push(...(await consumer.poll({ timeoutMs: 200 })));
  await consumer.close();
  return out;
}

const value = (i: number): string => `v-${String(i).padStart(5, '0')}-${'x'.repeat(80)}`;

/** Sends `count` values in order (each its own send, as an application would). */
function sendAll(p: Producer, topic: string, count: number, skip?: (i: number) => string | null): Promise<PromiseSettledResult<RecordMetadata>[]> {
  const sends: Promise<RecordMetadata>[] = [];
  for (let i = 0; i < count; i++) sends.push(p.send({ topic, value: skip?.(i) ?? value(i) }));
  return Promise.allSettled(sends);
}

/** Small batches, so a few hundred records make dozens of requests. */
const SMALL_BATCHES: ProducerOptions = { batchSize: 1200, lingerMs: 0 };

describe('several batches per partition in flight', () => {
  test('the pipeline fills to max.in.flight.requests.per.connection and no further; order is kept', async () => {
    const { pb, client, topic } = await setUp({ delayMs: 40 });
    try {
      const p = new Producer(client, SMALL_BATCHES);
      const results = await sendAll(p, topic, 400);
      assert.ok(results.every((r) => r.status === 'fulfilled'));
      const offsets = results.map((r) => (r as PromiseFulfilledResult<RecordMetadata>).value.offset);
      assert.deepEqual(offsets, Array.from({ length: 400 }, (_, i) => i), 'offsets follow send order');
      assert.ok(pb.proxy.stats.requests >= 20, `only ${pb.proxy.stats.requests} Produce requests`);
      assert.equal(pb.proxy.stats.maxOutstanding, 5, 'five Produce requests were unanswered at once, never more');

      pb.proxy.stats.maxOutstanding = 0;
      const one = new Producer(client, { ...SMALL_BATCHES, maxInFlight: 1 });
      const again = await sendAll(one, topic, 100);
      assert.ok(again.every((r) => r.status === 'fulfilled'));
      assert.equal(pb.proxy.stats.maxOutstanding, 1, 'maxInFlight: 1 keeps one request on the wire');

      const got = await readAll(client, topic, 500);
      assert.deepEqual(got.map((r) => r.value!.toString()), [...Array.from({ length: 400 }, (_, i) => value(i)), ...Array.from({ length: 100 }, (_, i) => value(i))]);
    } finally {
      client.close();
    }
  });

  test('idempotence and more than 5 in flight do not mix', () => {
    const client = new Client({ brokers: '127.0.0.1:1' });
    assert.throws(() => new Producer(client, { idempotent: true, maxInFlight: 6 }), RangeError);
    assert.throws(() => new Producer(client, { maxInFlight: 0 }), RangeError);
    client.close();
  });
});

describe('idempotent pipeline under faults: every value once, in send order', () => {
  test('answers lost mid-pipeline (connection cut): retried batches are answered from the broker\'s memory', async () => {
    const { pb, client, topic } = await setUp({ delayMs: 20, dropAnswers: [3, 11] });
    try {
      const p = new Producer(client, SMALL_BATCHES);
      const results = await sendAll(p, topic, 600);
      assert.equal(p.isIdempotent, true);
      assert.equal(pb.proxy.stats.dropped, 2);
      assert.ok(results.every((r) => r.status === 'fulfilled'), 'every send acknowledged');
      const offsets = results.map((r) => (r as PromiseFulfilledResult<RecordMetadata>).value.offset);
      assert.deepEqual(offsets, Array.from({ length: 600 }, (_, i) => i), 'acknowledged offsets follow send order');
      const got = await readAll(client, topic, 600);
      assert.deepEqual(got.map((r) => r.value!.toString()), Array.from({ length: 600 }, (_, i) => value(i)), 'exactly once, in order');
      assert.equal(pb.broker.broker.logs.get(topic, 0)!.logEndOffset, 600, 'no batch was written twice');
    } finally {
      client.close();
    }
  });

  test('a request that never reaches the broker: the batches behind it are refused out of sequence and resent after it', async () => {
    const { pb, client, topic } = await setUp({ delayMs: 20, swallowRequests: [4] });
    try {
      const notes: string[] = [];
      const p = new Producer(client, { ...SMALL_BATCHES, timeoutMs: 300, onNote: (m) => notes.push(m) });
      const results = await sendAll(p, topic, 400);
      assert.equal(pb.proxy.stats.swallowed, 1);
      assert.ok(results.every((r) => r.status === 'fulfilled'), 'every send acknowledged');
      assert.deepEqual(notes, [], 'OUT_OF_ORDER_SEQUENCE_NUMBER behind a retried batch keeps the producer id');
      const got = await readAll(client, topic, 400);
      assert.deepEqual(got.map((r) => r.value!.toString()), Array.from({ length: 400 }, (_, i) => value(i)), 'exactly once, in order');
    } finally {
      client.close();
    }
  });

  test('a batch failing for good mid-pipeline fails only its records; the rest follow under a new producer id', async () => {
    const { pb, client, topic } = await setUp({ delayMs: 20 }, { 'max.message.bytes': '3000' });
    try {
      const notes: string[] = [];
      const p = new Producer(client, { ...SMALL_BATCHES, onNote: (m) => notes.push(m) });
      const big = 'B'.repeat(5000);
      // Record 150 is too large for the topic: its batch (it alone) is refused with MESSAGE_TOO_LARGE.
      const results = await sendAll(p, topic, 400, (i) => (i === 150 ? big : null));
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
      assert.deepEqual(failed, [150]);
      const reason = (results[150] as PromiseRejectedResult).reason;
      assert.ok(reason instanceof KafkaError && reason.code === ErrorCode.MESSAGE_TOO_LARGE, String(reason));
      assert.equal(notes.filter((n) => n.includes('requesting a new one')).length, 1, `one new producer id: ${JSON.stringify(notes)}`);
      assert.ok(pb.proxy.stats.maxOutstanding > 1);
      const expected = Array.from({ length: 400 }, (_, i) => value(i)).filter((_, i) => i !== 150);
      const got = await readAll(client, topic, 399);
      assert.deepEqual(got.map((r) => r.value!.toString()), expected, 'everything else exactly once, in order');
    } finally {
      client.close();
    }
  });
});

describe('without idempotence', () => {
  test('a lost answer mid-pipeline may duplicate records (acks=1 retries), but never reorders them', async () => {
    const { pb, client, topic } = await setUp({ delayMs: 20, dropAnswers: [3] });
    try {
      const p = new Producer(client, { ...SMALL_BATCHES, acks: 1 });
      const results = await sendAll(p, topic, 400);
      assert.equal(p.isIdempotent, false);
      assert.equal(pb.proxy.stats.dropped, 1);
      assert.ok(results.every((r) => r.status === 'fulfilled'), 'every send acknowledged');
      const end = pb.broker.broker.logs.get(topic, 0)!.logEndOffset;
      assert.ok(end > 400, 'the batches whose answers were lost were written again');
      const got = (await readAll(client, topic, end)).map((r) => r.value!.toString());
      assert.equal(got.length, end);
      const firstSeen = got.filter((v, i) => got.indexOf(v) === i);
      assert.deepEqual(firstSeen, Array.from({ length: 400 }, (_, i) => value(i)), 'in send order, counting each value where it first appears');
    } finally {
      client.close();
    }
  });
});

describe('produce(record, callback)', () => {
  test('settles each record through its callback, in order with send()', async () => {
    const { client, topic } = await setUp({});
    try {
      const p = new Producer(client, SMALL_BATCHES);
      const seen: [number, number][] = [];
      const done = new Promise<void>((resolve, reject) => {
        for (let i = 0; i < 50; i++) {
          p.produce({ topic, value: value(i) }, (error, meta) => {
            if (error !== null) return reject(error);
            seen.push([i, meta!.offset]);
            if (seen.length === 50) resolve();
          });
        }
      });
      const viaSend = p.send({ topic, value: 'last' });
      await done;
      assert.deepEqual(seen.map(([, o]) => o), Array.from({ length: 50 }, (_, i) => i));
      assert.equal((await viaSend).offset, 50);
      const failed = await new Promise<Error | null>((resolve) => p.produce({ topic, value: 'x', partition: 7 }, (e) => resolve(e)));
      assert.ok(failed instanceof KafkaError && failed.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    } finally {
      client.close();
    }
  });
});
