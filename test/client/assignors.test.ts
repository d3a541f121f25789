// The leader's assignors and the consumer protocol bytes they travel in.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cooperativeStickyAssignor, rangeAssignor, rebalanceProtocolOf, type MemberSubscription } from '../../src/client/group/assignors.ts';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, type Assignment } from '../../src/client/group/consumer-protocol.ts';
import { Writer } from '../../src/protocol/writer.ts';

const member = (memberId: string, topics: string[], owned: Record<string, number[]> = {}, generationId = 1): MemberSubscription => ({
  memberId, topics, userData: null, ownedPartitions: new Map(Object.entries(owned)), generationId, rackId: null,
});
const plain = (a: Map<string, Assignment>): Record<string, Record<string, number[]>> =>
  Object.fromEntries([...a].map(([m, as]) => [m, Object.fromEntries([...as].filter(([, ps]) => ps.length > 0))]));
const counts = (a: Map<string, Assignment>): number[] => [...a.values()].map((as) => [...as.values()].reduce((n, ps) => n + ps.length, 0));

describe('range assignor', () => {
  test('contiguous ranges per topic, the first members taking the extra partitions', () => {
    const out = rangeAssignor.assign([member('c2', ['t']), member('c1', ['t']), member('c3', ['t'])], new Map([['t', 7]]));
    assert.deepEqual(plain(out), { c2: { t: [3, 4] }, c1: { t: [0, 1, 2] }, c3: { t: [5, 6] } });
  });

  test('each topic is split among its own subscribers', () => {
    const out = rangeAssignor.assign([member('a', ['x', 'y']), member('b', ['y'])], new Map([['x', 2], ['y', 3]]));
    assert.deepEqual(plain(out), { a: { x: [0, 1], y: [0, 1] }, b: { y: [2] } });
  });

  test('more members than partitions leaves some empty', () => {
    const out = rangeAssignor.assign([member('a', ['t']), member('b', ['t']), member('c', ['t'])], new Map([['t', 2]]));
    assert.deepEqual(plain(out), { a: { t: [0] }, b: { t: [1] }, c: {} });
  });
});

describe('cooperative-sticky assignor (KIP-429)', () => {
  const all = (a: Map<string, Assignment>): string[] => [...a.values()].flatMap((as) => [...as].flatMap(([t, ps]) => ps.map((p) => `${t}-${p}`))).sort();

  test('a first assignment is balanced and covers every partition once', () => {
    const out = cooperativeStickyAssignor.assign([member('a', ['t']), member('b', ['t']), member('c', ['t'])], new Map([['t', 8]]));
    assert.deepEqual(counts(out).sort(), [2, 3, 3]);
    assert.deepEqual(all(out), Array.from({ length: 8 }, (_, i) => `t-${i}`).sort());
  });

  test('a joining member gets nothing that is still owned: the owners give up partitions first', () => {
    const owned = { a: { t: [0, 1, 2] }, b: { t: [3, 4, 5] } };
    const first = cooperativeStickyAssignor.assign([member('a', ['t'], owned.a), member('b', ['t'], owned.b), member('c', ['t'])], new Map([['t', 6]]));
    // Owners keep what they keep; the two partitions moving to c are withheld this generation.
    assert.deepEqual(counts(first), [2, 2, 0]);
    const kept = plain(first);
    for (const p of kept.a.t) assert.ok(owned.a.t.includes(p), 'a keeps only its own partitions');
    for (const p of kept.b.t) assert.ok(owned.b.t.includes(p), 'b keeps only its own partitions');
    // Second round, after a and b revoked: c gets the released ones and nothing else moves.
    const second = cooperativeStickyAssignor.assign(
      [member('a', ['t'], kept.a, 2), member('b', ['t'], kept.b, 2), member('c', ['t'], {}, 2)], new Map([['t', 6]]));
    assert.deepEqual(counts(second), [2, 2, 2]);
    assert.deepEqual(plain(second).a, kept.a);
    assert.deepEqual(plain(second).b, kept.b);
    assert.deepEqual(all(second), ['t-0', 't-1', 't-2', 't-3', 't-4', 't-5']);
  });

  test('a member leaving: its partitions go straight to the others (nobody owns them)', () => {
    const out = cooperativeStickyAssignor.assign(
      [member('a', ['t'], { t: [0, 1] }), member('b', ['t'], { t: [2, 3] })], new Map([['t', 6]]));
    assert.deepEqual(counts(out), [3, 3]);
    assert.deepEqual(plain(out).a.t.filter((p) => p < 2), [0, 1]);
    assert.deepEqual(plain(out).b.t.filter((p) => p >= 2 && p < 4), [2, 3]);
  });

  test('different subscriptions: partitions only go to subscribers, balanced where possible', () => {
    const out = cooperativeStickyAssignor.assign([member('a', ['x', 'y']), member('b', ['y'])], new Map([['x', 2], ['y', 2]]));
    const p = plain(out);
    assert.deepEqual(p.a.x, [0, 1]);
    assert.equal(p.b.x, undefined);
    assert.deepEqual(p.b.y, [0, 1], 'y goes to b, which can take nothing else');
    assert.deepEqual(counts(out), [2, 2]);
  });

  test('conflicting claims: the higher generation keeps the partition; stale and unknown claims are dropped', () => {
    const out = cooperativeStickyAssignor.assign([
      member('a', ['t'], { t: [0, 1] }, 5),
      member('b', ['t'], { t: [1, 9], u: [0] }, 3),
    ], new Map([['t', 4]]));
    const p = plain(out);
    assert.ok(p.a.t.includes(0) && p.a.t.includes(1));
    assert.equal((p.b.t ?? []).includes(1), false);
    assert.deepEqual(all(out), ['t-0', 't-1', 't-2', 't-3']);
  });

  test('rebalance protocol: cooperative only when every assignor is', () => {
    assert.equal(rebalanceProtocolOf([cooperativeStickyAssignor]), 'cooperative');
    assert.equal(rebalanceProtocolOf([rangeAssignor, cooperativeStickyAssignor]), 'eager');
  });
});

describe('consumer protocol bytes', () => {
  test('subscriptions round-trip at v3 and read back at v0', () => {
    const s = { topics: ['b', 'a'], userData: Buffer.from('u'), ownedPartitions: new Map([['a', [2, 0]]]), generationId: 7, rackId: 'r1' };
    const back = decodeSubscription(encodeSubscription(s));
    assert.deepEqual(back.topics, ['a', 'b']);
    assert.deepEqual(back.userData, Buffer.from('u'));
    assert.deepEqual([...back.ownedPartitions], [['a', [0, 2]]]);
    assert.equal(back.generationId, 7);
    assert.equal(back.rackId, 'r1');
    const v0 = decodeSubscription(encodeSubscription(s, 0));
    assert.deepEqual(v0.topics, ['a', 'b']);
    assert.equal(v0.ownedPartitions.size, 0);
    assert.equal(v0.generationId, -1);
  });

  test('a newer version than known is read with the newest layout (fields are only appended)', () => {
    const w = new Writer();
    w.writeInt16(9);
    w.writeInt32(1);
    w.writeString('t');
    w.writeNullableBytes(null);
    w.writeInt32(0);
    w.writeInt32(4);
    w.writeNullableString(null);
    w.writeInt32(123); // a field from the future
    assert.deepEqual(decodeSubscription(w.toBuffer()).topics, ['t']);
  });

  test('assignments round-trip; an empty buffer is an empty assignment', () => {
    const a: Assignment = new Map([['t', [3, 1]], ['u', [0]], ['empty', []]]);
    assert.deepEqual([...decodeAssignment(encodeAssignment(a))], [['t', [1, 3]], ['u', [0]]]);
    assert.equal(decodeAssignment(Buffer.alloc(0)).size, 0);
  });
});
