// Idempotent producers against lost Produce responses (the fault proxy drops some and cuts the
// connection, so the client retries batches the broker already wrote): librdkafka (confluent-kafka-
// python) and kafkajs must end with every acknowledged value exactly once, in send order per
// partition — Redpanda's Jepsen bug #3039 was a retry rejected instead of answered with its offset.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { check, summary, type Write } from './checker.ts';
import { createTopic, producedWrites, readBack, runPy, startProxiedBroker, type ProxiedBroker } from './harness.ts';

let pb: ProxiedBroker;

before(async () => {
  pb = await startProxiedBroker({}, { seed: 20240611, dropRate: 0 });
});
after(async () => {
  await pb?.close();
});

test('librdkafka idempotent producer, Produce responses dropped: 0 duplicates, 0 lost, order kept', async () => {
  const topic = 'idem-librdkafka';
  const partitions = 3;
  const count = 3000;
  await createTopic(pb.broker.host, pb.broker.port, topic, partitions);
  pb.proxy.dropRate = 0.08;
  const dropsBefore = pb.proxy.stats.dropped;
  const events = await runPy('produce', {
    bootstrap: pb.bootstrap, topic, partitions, count, prefix: 'rk',
    // Small batches make many requests to lose; librdkafka's reconnect backoff otherwise doubles per cut.
    config: { 'max.in.flight.requests.per.connection': 5, 'batch.num.messages': 10, 'linger.ms': 1, 'reconnect.backoff.ms': 10, 'reconnect.backoff.max.ms': 200 },
  }, 100_000);
  pb.proxy.dropRate = 0;
  const drops = pb.proxy.stats.dropped - dropsBefore;
  assert.ok(drops >= 5, `the proxy dropped only ${drops} responses`);
  const writes = producedWrites(events, 'rk', count, partitions);
  assert.equal(writes.filter((w) => w.status === 'ok').length, count, `every value acknowledged: ${JSON.stringify(events.filter((e) => e.event === 'fail').slice(0, 3))}`);
  const r = check({ writes, reads: await readBack(pb.bootstrap, topic, partitions) });
  assert.ok(r.ok, summary(r));
  // The log holds nothing but the values: no retry was appended a second time.
  let end = 0;
  for (let p = 0; p < partitions; p++) end += pb.broker.broker.logs.get(topic, p)!.logEndOffset;
  assert.equal(end, count);
});

test('kafkajs idempotent producer, Produce responses dropped: 0 duplicates, 0 lost, order kept', async () => {
  const topic = 'idem-kafkajs';
  const partitions = 2;
  await createTopic(pb.broker.host, pb.broker.port, topic, partitions);
  const kafka = new Kafka({ brokers: [pb.bootstrap], clientId: 'idem', logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 500 } });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  pb.proxy.dropRate = 0.15;
  const dropsBefore = pb.proxy.stats.dropped;
  const writes: Write[] = [];
  let seq = 0;
  for (let round = 0; round < 60; round++) {
    for (let p = 0; p < partitions; p++) {
      const values = Array.from({ length: 10 }, (_, i) => `js-${round}-${p}-${i}`);
      let status: 'ok' | 'info' = 'ok';
      try {
        await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value, partition: p })) });
      } catch {
        status = 'info';
      }
      for (const value of values) writes.push({ value, status, producer: 'js', partition: p, seq: seq++ });
    }
  }
  pb.proxy.dropRate = 0;
  await producer.disconnect();
  const drops = pb.proxy.stats.dropped - dropsBefore;
  assert.ok(drops >= 5, `the proxy dropped only ${drops} responses`);
  assert.ok(writes.filter((w) => w.status === 'ok').length >= writes.length * 0.9, 'most sends acknowledged');
  const r = check({ writes, reads: await readBack(pb.bootstrap, topic, partitions) });
  assert.ok(r.ok, summary(r));
  assert.equal(r.duplicates.length, 0);
});
