// @platformatic/kafka, the one installed client that speaks KIP-848 (groupProtocol: 'consumer'):
// ConsumerGroupHeartbeat with the coordinator computing the assignment. Three members on six
// partitions end up disjoint and complete, every record is consumed once with commits, and when a
// member leaves the others take its partitions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer } from '@platformatic/kafka';
import { GroupTestCluster, coverage } from './cluster.ts';
import { eventually } from './member-process.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { createConsumerGroupDescribeRequest } from '../../src/protocol/generated/consumer-group-describe-request.ts';

const c = new GroupTestCluster();
const consumers: Consumer[] = [];

before(async () => {
  await c.start();
});
after(async () => {
  await Promise.all(consumers.map((x) => x.close(true).catch(() => {})));
  await c.stop();
});

interface Member {
  consumer: Consumer;
  leave(): Promise<void>;
  values: string[];
  owned(topic: string): number[];
}

async function member(group: string, topic: string): Promise<Member> {
  const consumer = new Consumer({
    clientId: 'pl-kip848', bootstrapBrokers: [c.broker.bootstrap], groupId: group, groupProtocol: 'consumer',
    maxWaitTime: 200, timeout: 10_000, retries: 5, retryDelay: 200,
  });
  consumers.push(consumer);
  const values: string[] = [];
  const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
  void (async () => {
    try {
      for await (const m of stream) {
        values.push(m.value!.toString());
        await m.commit();
      }
    } catch {
      // the stream ends with the consumer
    }
  })();
  return {
    consumer,
    leave: async () => {
      await stream.close();
      await consumer.close();
    },
    values,
    owned: (t) => ((consumer.assignments ?? []) as { topic: string; partitions: number[] }[]).filter((a) => a.topic === t).flatMap((a) => a.partitions).sort((x, y) => x - y),
  };
}

async function describe(group: string) {
  const conn = await KafkaConnection.connect(c.broker.host, c.broker.port);
  try {
    return (await conn.send(69, 0, createConsumerGroupDescribeRequest({ groupIds: [group] }))).groups[0];
  } finally {
    conn.close();
  }
}

function assertExactlyOnce(got: string[], expected: string[], what: string): void {
  const counts = new Map<string, number>();
  for (const v of got) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.deepEqual([...counts].filter(([, n]) => n > 1).map(([v]) => v), [], `${what}: consumed more than once`);
  assert.deepEqual(expected.filter((v) => !counts.has(v)), [], `${what}: never consumed`);
}

test('KIP-848 with @platformatic/kafka: server-side assignment, exactly once with commits, a member leaving', async () => {
  const topic = c.unique('pl-848');
  const group = c.unique('pl-848-group');
  await c.createTopic(topic, 6);
  const ms = [await member(group, topic), await member(group, topic), await member(group, topic)];
  await eventually(async () => {
    const cov = coverage(ms.map((m) => m.owned(topic)), 6);
    if (!cov.disjoint || !cov.complete) return false;
    const d = await describe(group);
    return d.groupState === 'Stable' && d.members.length === 3;
  }, 40_000, () => `three members settled: ${JSON.stringify(ms.map((m) => m.owned(topic)))}`);
  assert.deepEqual(ms.map((m) => m.owned(topic).length), [2, 2, 2]);
  const d = await describe(group);
  assert.equal(d.assignorName, 'uniform');
  assert.equal(d.groupEpoch, d.assignmentEpoch);

  const batch1 = await c.produce(topic, 6, 10, 'q1');
  const values = () => ms.flatMap((m) => m.values);
  await eventually(() => values().length >= batch1.length, 30_000, () => `batch 1 consumed (${values().length})`);
  assertExactlyOnce(values(), batch1, 'batch 1');
  await eventually(async () => [...(await c.committed(group, topic)).values()].every((o) => o === 10), 15_000, 'batch 1 committed');

  await ms[2].leave();
  const rest = ms.slice(0, 2);
  await eventually(() => {
    const cov = coverage(rest.map((m) => m.owned(topic)), 6);
    return cov.disjoint && cov.complete;
  }, 30_000, () => `the others took over: ${JSON.stringify(rest.map((m) => m.owned(topic)))}`);
  const batch2 = await c.produce(topic, 6, 10, 'q2');
  await eventually(() => values().filter((v) => v.startsWith('q2')).length >= batch2.length, 30_000, 'batch 2 consumed');
  assertExactlyOnce(values(), [...batch1, ...batch2], 'after the leave');
  assert.equal((await describe(group)).members.length, 2);
});
