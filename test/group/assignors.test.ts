// The KIP-848 server-side assignors: balance, stickiness, subscriptions honoured, determinism.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rangeAssignor, uniformAssignor, type AssignorMember, type AssignorTopic } from '../../src/group/assignors.ts';

const topics = (spec: Record<string, number>): Map<string, AssignorTopic> => new Map(Object.entries(spec).map(([id, n]) => [id, { id, numPartitions: n }]));
const member = (memberId: string, subscribed: string[], current: Record<string, number[]> = {}): AssignorMember =>
  ({ memberId, topics: subscribed, current: new Map(Object.entries(current)) });
const plain = (a: Map<string, Map<string, number[]>>) => Object.fromEntries([...a].map(([m, x]) => [m, Object.fromEntries(x)]));
const count = (x: Map<string, number[]>) => [...x.values()].reduce((n, ps) => n + ps.length, 0);

function assertPartitioned(out: Map<string, Map<string, number[]>>, t: Map<string, AssignorTopic>, subscribed: (topic: string) => number): void {
  for (const [topic, { numPartitions }] of t) {
    const owners = new Map<number, string[]>();
    for (const [m, a] of out) for (const p of a.get(topic) ?? []) owners.set(p, [...(owners.get(p) ?? []), m]);
    if (subscribed(topic) === 0) {
      assert.equal(owners.size, 0);
      continue;
    }
    for (let p = 0; p < numPartitions; p++) assert.equal(owners.get(p)?.length, 1, `${topic}-${p} has exactly one owner`);
  }
}

test('range: contiguous ranges per topic, the first members one more', () => {
  const t = topics({ a: 7, b: 2 });
  const out = rangeAssignor([member('m2', ['a', 'b']), member('m1', ['a', 'b']), member('m3', ['a'])], t);
  assert.deepEqual(plain(out), {
    m1: { a: [0, 1, 2], b: [0] },
    m2: { a: [3, 4], b: [1] },
    m3: { a: [5, 6] },
  });
});

test('uniform: every partition once, counts within one of each other', () => {
  const t = topics({ a: 10, b: 3 });
  const ms = ['x', 'y', 'z', 'w'].map((id) => member(id, ['a', 'b']));
  const out = uniformAssignor(ms, t);
  assertPartitioned(out, t, () => 4);
  const counts = [...out.values()].map(count);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, JSON.stringify(counts));
});

test('uniform: sticky — a new member takes only what balance requires', () => {
  const t = topics({ a: 6 });
  const first = uniformAssignor([member('x', ['a']), member('y', ['a'])], t);
  const again = uniformAssignor([
    member('x', ['a'], Object.fromEntries(first.get('x')!)),
    member('y', ['a'], Object.fromEntries(first.get('y')!)),
    member('z', ['a']),
  ], t);
  assertPartitioned(again, t, () => 3);
  for (const m of ['x', 'y']) {
    assert.equal(count(again.get(m)!), 2);
    assert.ok(again.get(m)!.get('a')!.every((p) => first.get(m)!.get('a')!.includes(p)), `${m} kept its own partitions`);
  }
});

test('uniform: members get only topics they subscribe to; unsubscribed topics stay unassigned', () => {
  const t = topics({ a: 4, b: 4, c: 2 });
  const out = uniformAssignor([member('x', ['a']), member('y', ['a', 'b']), member('z', ['b'])], t);
  assertPartitioned(out, t, (topic) => (topic === 'c' ? 0 : 2));
  assert.equal(out.get('x')!.get('b'), undefined);
  assert.equal(out.get('z')!.get('a'), undefined);
  assert.equal(count(out.get('x')!) + count(out.get('y')!) + count(out.get('z')!), 8);
});

test('assignors are deterministic whatever the member order', () => {
  const t = topics({ a: 5, b: 5 });
  const ms = [member('m1', ['a', 'b']), member('m2', ['a']), member('m3', ['a', 'b'])];
  for (const assign of [uniformAssignor, rangeAssignor]) {
    assert.deepEqual(plain(assign(ms, t)), plain(assign([...ms].reverse(), t)));
  }
});
