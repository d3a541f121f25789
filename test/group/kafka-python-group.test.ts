// Consumer groups with kafka-python 2.0.2, whose protocol versions are the old ones (JoinGroup v2,
// SyncGroup/Heartbeat v1, OffsetCommit v2, OffsetFetch v1): three members on six partitions,
// every record consumed once with commits, a SIGKILLed member's partitions moving within the
// session timeout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { MemberProcess, eventually } from './member-process.ts';
import { GroupTestCluster, coverage } from './cluster.ts';

const MEMBER = fileURLToPath(new URL('./py/kp_member.py', import.meta.url));
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

function member(group: string, topic: string): MemberProcess {
  const m = new MemberProcess('/usr/bin/python3', [MEMBER, JSON.stringify({ bootstrap: c.broker.bootstrap, group, topics: [topic] })]);
  members.push(m);
  return m;
}

function values(ms: readonly MemberProcess[]): string[] {
  return ms.flatMap((m) => m.records().map((r) => r.value!));
}

function assertExactlyOnce(got: string[], expected: string[], what: string): void {
  const counts = new Map<string, number>();
  for (const v of got) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.deepEqual([...counts].filter(([, n]) => n > 1).map(([v]) => v), [], `${what}: consumed more than once`);
  assert.deepEqual(expected.filter((v) => !counts.has(v)), [], `${what}: never consumed`);
}

test('kafka-python: 3 members on 6 partitions, exactly once with commits, a crashed member\'s partitions move', async () => {
  const topic = c.unique('kp-six');
  const group = c.unique('kp-group');
  await c.createTopic(topic, 6);
  const ms = [member(group, topic), member(group, topic), member(group, topic)];
  const settled = (xs: MemberProcess[]) => {
    const cov = coverage(xs.map((m) => m.owned), 6);
    return cov.disjoint && cov.complete && xs.every((m) => m.owned.length > 0);
  };
  await eventually(async () => settled(ms) && (await c.describe(group)).state === 'Stable', 40_000, () => `three members: ${JSON.stringify(ms.map((m) => m.owned))}\n${ms.map((m) => m.stderr.slice(-500)).join('\n')}`);
  assert.deepEqual(ms.map((m) => m.owned.length), [2, 2, 2]);

  const batch1 = await c.produce(topic, 6, 10, 'p1');
  await eventually(() => values(ms).length >= batch1.length, 30_000, 'batch 1 consumed');
  assertExactlyOnce(values(ms), batch1, 'batch 1');
  await eventually(async () => [...(await c.committed(group, topic)).values()].every((o) => o === 10), 15_000, 'batch 1 committed');

  const killedAt = Date.now();
  await ms[1].kill();
  const survivors = [ms[0], ms[2]];
  await eventually(() => settled(survivors), SESSION_MS + 15_000, () => `survivors: ${JSON.stringify(survivors.map((m) => m.owned))}`);
  assert.ok(Date.now() - killedAt < SESSION_MS + 8000, `moved after ${Date.now() - killedAt} ms`);
  const batch2 = await c.produce(topic, 6, 10, 'p2');
  await eventually(() => values(survivors).filter((v) => v.startsWith('p2')).length >= batch2.length, 30_000, 'batch 2 consumed');
  assertExactlyOnce(values(ms), [...batch1, ...batch2], 'after the crash');
});
