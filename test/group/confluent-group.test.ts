// Consumer groups with confluent-kafka-python 1.7.0 (librdkafka 2.0.2), each member its own
// process: assignment, exactly-once consumption with commits, a crashed member's partitions moving
// within the session timeout, cooperative-sticky rebalancing, static membership, and committed
// offsets surviving a broker restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { MemberProcess, eventually } from './member-process.ts';
import { GroupTestCluster, coverage } from './cluster.ts';

const MEMBER = fileURLToPath(new URL('./py/member.py', import.meta.url));
const SESSION_MS = 6000;

const c = new GroupTestCluster();
const members: MemberProcess[] = [];

before(async () => {
  await c.start();
});
after(async () => {
  await Promise.all(members.map((m) => m.kill()));
  await c.stop();
});

function member(group: string, topic: string, config: Record<string, unknown> = {}): MemberProcess {
  const m = new MemberProcess('/usr/bin/python3', [MEMBER, JSON.stringify({
    bootstrap: c.broker.bootstrap, group, topics: [topic], config: { 'session.timeout.ms': SESSION_MS, ...config },
  })]);
  members.push(m);
  return m;
}

async function settled(ms: readonly MemberProcess[], n: number, what: string, timeoutMs = 30_000): Promise<void> {
  await eventually(() => {
    const cov = coverage(ms.map((m) => m.owned), n);
    return cov.disjoint && cov.complete && ms.every((m) => m.owned.length > 0);
  }, timeoutMs, () => `${what}: ${JSON.stringify(ms.map((m) => m.owned))}`);
}

function consumedValues(ms: readonly MemberProcess[]): string[] {
  return ms.flatMap((m) => m.records().map((r) => r.value!));
}

function assertExactlyOnce(got: string[], expected: string[], what: string): void {
  const counts = new Map<string, number>();
  for (const v of got) counts.set(v, (counts.get(v) ?? 0) + 1);
  const dups = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
  assert.deepEqual(dups, [], `${what}: consumed more than once`);
  const missing = expected.filter((v) => !counts.has(v));
  assert.deepEqual(missing, [], `${what}: never consumed`);
}

test('3 members on 6 partitions: disjoint assignments covering all; each record consumed once; a killed member\'s partitions move within the session timeout; a restarted member resumes from the commits', async () => {
  const topic = c.unique('ck-six');
  const group = c.unique('ck-group');
  await c.createTopic(topic, 6);
  const ms = [member(group, topic), member(group, topic), member(group, topic)];
  await settled(ms, 6, 'three members');
  for (const m of ms) assert.equal(m.owned.length, 2, 'range over 6 partitions and 3 members: 2 each');
  const described = await c.describe(group);
  assert.equal(described.state, 'Stable');
  assert.equal(described.members.length, 3);
  assert.deepEqual(described.members.flatMap((m) => m.partitions[topic] ?? []).sort(), [0, 1, 2, 3, 4, 5]);

  const batch1 = await c.produce(topic, 6, 10, 'b1');
  await eventually(() => consumedValues(ms).length >= batch1.length, 30_000, 'batch 1 consumed');
  assertExactlyOnce(consumedValues(ms), batch1, 'batch 1');
  await eventually(async () => [...(await c.committed(group, topic)).values()].every((o) => o === 10), 10_000, 'batch 1 committed');

  // A crash: no LeaveGroup. The survivors must own everything within the session timeout.
  const killedAt = Date.now();
  await ms[2].kill();
  const survivors = ms.slice(0, 2);
  await settled(survivors, 6, 'after the crash', SESSION_MS + 10_000);
  const moved = Date.now() - killedAt;
  assert.ok(moved < SESSION_MS + 5000, `partitions moved after ${moved} ms`);

  const batch2 = await c.produce(topic, 6, 10, 'b2');
  await eventually(() => consumedValues(survivors).filter((v) => v.startsWith('b2')).length >= batch2.length, 30_000, 'batch 2 consumed');
  assertExactlyOnce(consumedValues(ms), [...batch1, ...batch2], 'batches 1–2 after the crash');

  // A new member takes partitions over from where the others committed.
  const fresh = member(group, topic);
  await settled([...survivors, fresh], 6, 'with the restarted member');
  const batch3 = await c.produce(topic, 6, 10, 'b3');
  const all = [...ms, fresh];
  await eventually(() => consumedValues(all).filter((v) => v.startsWith('b3')).length >= batch3.length, 30_000, 'batch 3 consumed');
  assertExactlyOnce(consumedValues(all), [...batch1, ...batch2, ...batch3], 'all batches');
  for (const r of fresh.records()) assert.ok(r.offset! >= 20, `the restarted member re-read offset ${r.offset} of partition ${r.partition}`);
  await Promise.all([...survivors, fresh].map((m) => m.close()));
  const after = await c.describe(group);
  assert.equal(after.state, 'Empty', 'members that close leave the group');
});

test('cooperative-sticky: a joining member takes partitions without the others revoking everything', async () => {
  const topic = c.unique('ck-coop');
  const group = c.unique('ck-coop-group');
  await c.createTopic(topic, 6);
  const cfg = { 'partition.assignment.strategy': 'cooperative-sticky' };
  const a = member(group, topic, cfg);
  const b = member(group, topic, cfg);
  await settled([a, b], 6, 'two cooperative members');
  await eventually(() => a.owned.length === 3 && b.owned.length === 3, 20_000, 'a 3/3 split');
  const before = { a: [...a.owned], b: [...b.owned], ea: a.events.length, eb: b.events.length };
  const c3 = member(group, topic, cfg);
  await settled([a, b, c3], 6, 'three cooperative members');
  await eventually(() => a.owned.length === 2 && b.owned.length === 2 && c3.owned.length === 2, 20_000, 'a 2/2/2 split');
  for (const [m, from, kept] of [[a, before.ea, before.a], [b, before.eb, before.b]] as const) {
    const revokes = m.events.slice(from).filter((e) => e.event === 'revoke' || e.event === 'lost');
    assert.ok(revokes.length > 0, 'the member gave a partition up');
    assert.ok(revokes.every((e) => e.protocol === 'COOPERATIVE' && e.partitions!.length < kept.length), `incremental revocations only: ${JSON.stringify(revokes)}`);
    assert.ok(m.owned.every((p) => kept.includes(p)), 'a member keeps partitions it had (sticky), gaining none');
  }
});

test('a static member restarting within the session timeout gets its partitions back with no rebalance', async () => {
  const topic = c.unique('ck-static');
  const group = c.unique('ck-static-group');
  await c.createTopic(topic, 4);
  const a = member(group, topic, { 'group.instance.id': 'static-a', 'session.timeout.ms': 10_000 });
  const b = member(group, topic, { 'group.instance.id': 'static-b', 'session.timeout.ms': 10_000 });
  await settled([a, b], 4, 'two static members');
  await eventually(() => a.owned.length === 2 && b.owned.length === 2, 20_000, 'a 2/2 split');
  const ownedB = [...b.owned];
  const eventsA = a.events.length;
  await b.close(); // a static member leaves no LeaveGroup behind
  const b2 = member(group, topic, { 'group.instance.id': 'static-b', 'session.timeout.ms': 10_000 });
  await eventually(() => b2.owned.length > 0, 20_000, 'the restarted static member is assigned');
  assert.deepEqual(b2.owned, ownedB);
  await new Promise((r) => setTimeout(r, 1500));
  const rebalanceEvents = a.events.slice(eventsA).filter((e) => e.event === 'assign' || e.event === 'revoke');
  assert.deepEqual(rebalanceEvents, [], 'the other member saw no rebalance');
});
