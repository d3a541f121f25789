// Consumer groups with kafkajs 2.2.4: three members on six partitions, exactly-once consumption
// with commits, a crashed member (its own process, SIGKILLed) losing its partitions within the
// session timeout, and a restarted member resuming from the committed offsets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Consumer } from 'kafkajs';
import { MemberProcess, eventually } from './member-process.ts';
import { GroupTestCluster, coverage } from './cluster.ts';

const MEMBER = fileURLToPath(new URL('./js/kafkajs-member.ts', import.meta.url));
const SESSION_MS = 6000;

const c = new GroupTestCluster();
const procs: MemberProcess[] = [];
const consumers: Consumer[] = [];

before(async () => {
  await c.start();
});
after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await Promise.all(consumers.map((x) => x.disconnect().catch(() => {})));
  await c.stop();
});

/** An in-process kafkajs member recording what it owns and consumes. */
async function inProcess(group: string, topic: string) {
  const state = { owned: [] as number[], values: [] as string[], offsets: [] as [number, number][] };
  const consumer = c.kafka.consumer({ groupId: group, sessionTimeout: SESSION_MS, heartbeatInterval: 500 });
  consumers.push(consumer);
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    state.owned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      state.values.push(message.value!.toString());
      state.offsets.push([partition, Number(message.offset)]);
    },
  });
  return { consumer, state };
}

function assertExactlyOnce(got: string[], expected: string[], what: string): void {
  const counts = new Map<string, number>();
  for (const v of got) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.deepEqual([...counts].filter(([, n]) => n > 1).map(([v]) => v), [], `${what}: consumed more than once`);
  assert.deepEqual(expected.filter((v) => !counts.has(v)), [], `${what}: never consumed`);
}

test('kafkajs: 3 members on 6 partitions, exactly once, a crashed member\'s partitions move within the session timeout', async () => {
  const topic = c.unique('kjs-six');
  const group = c.unique('kjs-group');
  await c.createTopic(topic, 6);
  const a = await inProcess(group, topic);
  const b = await inProcess(group, topic);
  const crashing = new MemberProcess(process.execPath, [MEMBER, JSON.stringify({ bootstrap: c.broker.bootstrap, group, topics: [topic], sessionTimeout: SESSION_MS })]);
  procs.push(crashing);
  const owned = () => [a.state.owned, b.state.owned, crashing.owned];
  await eventually(async () => {
    const cov = coverage(owned(), 6);
    if (!cov.disjoint || !cov.complete || owned().some((o) => o.length !== 2)) return false;
    const d = await c.describe(group);
    return d.state === 'Stable' && d.members.length === 3;
  }, 30_000, () => `three members settled: ${JSON.stringify(owned())}`);
  const d = await c.describe(group);
  assert.deepEqual(d.members.flatMap((m) => m.partitions[topic]).sort(), [0, 1, 2, 3, 4, 5], 'the stored assignment matches');

  const batch1 = await c.produce(topic, 6, 10, 'k1');
  const values = () => [...a.state.values, ...b.state.values, ...crashing.records().map((r) => r.value!)];
  await eventually(() => values().length >= batch1.length, 30_000, 'batch 1 consumed');
  assertExactlyOnce(values(), batch1, 'batch 1');
  await eventually(async () => [...(await c.committed(group, topic)).values()].every((o) => o === 10), 15_000, 'batch 1 committed');

  const killedAt = Date.now();
  await crashing.kill();
  await eventually(() => {
    const cov = coverage([a.state.owned, b.state.owned], 6);
    return cov.disjoint && cov.complete;
  }, SESSION_MS + 15_000, () => `survivors own everything: ${JSON.stringify([a.state.owned, b.state.owned])}`);
  const moved = Date.now() - killedAt;
  assert.ok(moved < SESSION_MS + 8000, `partitions moved after ${moved} ms`);
  const batch2 = await c.produce(topic, 6, 10, 'k2');
  await eventually(() => values().filter((v) => v.startsWith('k2')).length >= batch2.length, 30_000, 'batch 2 consumed');
  assertExactlyOnce(values(), [...batch1, ...batch2], 'after the crash');
});

test('kafkajs: a member that restarts resumes from the committed offsets; lag is high watermark minus commit', async () => {
  const topic = c.unique('kjs-resume');
  const group = c.unique('kjs-resume-group');
  await c.createTopic(topic, 2);
  const first = await c.produce(topic, 2, 5, 'r1');
  const m1 = await inProcess(group, topic);
  await eventually(() => m1.state.values.length >= first.length, 30_000, 'first records consumed');
  await eventually(async () => [...(await c.committed(group, topic)).values()].every((o) => o === 5), 15_000, 'committed');
  await m1.consumer.disconnect();
  assert.equal((await c.describe(group)).state, 'Empty');
  const second = await c.produce(topic, 2, 5, 'r2');
  // Lag = high watermark (ListOffsets) − committed offset (OffsetFetch), as the CLI computes it.
  const committed = await c.committed(group, topic);
  const ends = await c.admin.fetchTopicOffsets(topic);
  assert.deepEqual(ends.map((e) => [e.partition, Number(e.high) - committed.get(e.partition)!]).sort(), [[0, 5], [1, 5]]);
  const m2 = await inProcess(group, topic);
  await eventually(() => m2.state.values.length >= second.length, 30_000, 'second records consumed');
  assert.deepEqual([...m2.state.values].sort(), [...second].sort(), 'only what came after the commits');
  assert.ok(m2.state.offsets.every(([, o]) => o >= 5));
});
