// SyncGroup, Heartbeat, LeaveGroup and session expiry with a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { Harness } from './harness.ts';

test("the leader's SyncGroup writes the generation and answers every waiting member with its assignment", () => {
  const h = new Harness();
  const a = h.joinNew();
  const b = h.joinNew();
  const ra = h.join({ memberId: a.memberId });
  const gen = ra.response!.generationId;
  const follower = h.sync({ memberId: b.memberId, generationId: gen });
  assert.equal(follower.response, undefined, 'a follower waits for the leader');
  const before = h.log.length;
  const leader = h.sync({ memberId: a.memberId, generationId: gen, assignments: [
    { memberId: a.memberId, assignment: Buffer.from('A') },
    { memberId: b.memberId, assignment: Buffer.from('B') },
  ] });
  assert.deepEqual(leader.response!.assignment, Buffer.from('A'));
  assert.deepEqual(follower.response!.assignment, Buffer.from('B'));
  assert.equal(follower.response!.protocolName, 'range');
  assert.equal(h.state(), 'Stable');
  const written = h.log.slice(before);
  assert.equal(written.length, 1);
  assert.equal(written[0].type, 'group-metadata');
  const v = written[0].type === 'group-metadata' ? written[0].value! : null;
  assert.equal(v!.generation, gen);
  assert.equal(v!.leader, a.memberId);
  assert.equal(v!.protocol, 'range');
  assert.deepEqual(v!.members.map((m) => [m.memberId, m.assignment.toString()]).sort(), [[a.memberId, 'A'], [b.memberId, 'B']].sort());
  // A late SyncGroup in the Stable group gets the stored assignment.
  assert.deepEqual(h.sync({ memberId: b.memberId, generationId: gen }).response!.assignment, Buffer.from('B'));
});

test('members the leader leaves out of the assignment get an empty one', () => {
  const h = new Harness();
  const a = h.joinNew();
  const b = h.joinNew();
  const gen = h.join({ memberId: a.memberId }).response!.generationId;
  h.sync({ memberId: a.memberId, generationId: gen, assignments: [{ memberId: a.memberId, assignment: Buffer.from('A') }, { memberId: 'stranger', assignment: Buffer.from('X') }] });
  assert.equal(h.sync({ memberId: b.memberId, generationId: gen }).response!.assignment.length, 0);
});

test('SyncGroup errors: unknown member, illegal generation, rebalance in progress, inconsistent protocol (v5)', () => {
  const h = new Harness();
  const { ids, generation } = h.stableGroup(2);
  assert.equal(h.sync({ groupId: 'nope', memberId: ids[0], generationId: generation }).response!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(h.sync({ memberId: 'ghost', generationId: generation }).response!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(h.sync({ memberId: ids[0], generationId: generation + 1 }).response!.errorCode, ErrorCode.ILLEGAL_GENERATION);
  assert.equal(h.sync({ memberId: ids[0], generationId: generation, protocolType: 'consumer', protocolName: 'roundrobin' }, 5).response!.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(h.sync({ memberId: ids[0], generationId: generation, protocolType: 'consumer', protocolName: 'range' }, 5).response!.errorCode, ErrorCode.NONE);
  h.joinNew();
  assert.equal(h.sync({ memberId: ids[1], generationId: generation }).response!.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
});

test('a rebalance starting during CompletingRebalance answers waiting SyncGroups with REBALANCE_IN_PROGRESS', () => {
  const h = new Harness();
  const a = h.joinNew();
  const b = h.joinNew();
  const gen = h.join({ memberId: a.memberId }).response!.generationId;
  const waiting = h.sync({ memberId: b.memberId, generationId: gen });
  h.joinNew();
  assert.equal(waiting.response!.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(h.state(), 'PreparingRebalance');
});

test('Heartbeat: NONE when Stable or CompletingRebalance, REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID', () => {
  const h = new Harness();
  assert.equal(h.heartbeat({ memberId: 'x', generationId: 1 }), ErrorCode.UNKNOWN_MEMBER_ID, 'no group');
  const a = h.joinNew();
  const gen = a.join.response!.generationId;
  assert.equal(h.state(), 'CompletingRebalance');
  assert.equal(h.heartbeat({ memberId: a.memberId, generationId: gen }), ErrorCode.NONE);
  h.sync({ memberId: a.memberId, generationId: gen, assignments: [] });
  assert.equal(h.heartbeat({ memberId: a.memberId, generationId: gen }), ErrorCode.NONE);
  assert.equal(h.heartbeat({ memberId: a.memberId, generationId: gen - 1 }), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(h.heartbeat({ memberId: 'ghost', generationId: gen }), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(h.heartbeat({ groupId: '', memberId: a.memberId, generationId: gen }), ErrorCode.INVALID_GROUP_ID);
  h.joinNew();
  assert.equal(h.heartbeat({ memberId: a.memberId, generationId: gen }), ErrorCode.REBALANCE_IN_PROGRESS);
});

test('a member that stops heartbeating is removed after its session timeout; the rest rebalance without it', () => {
  const h = new Harness();
  const { ids, generation } = h.stableGroup(2, { sessionTimeoutMs: 10_000 });
  const [a, b] = ids;
  for (let t = 0; t < 3; t++) {
    h.advance(3000);
    assert.equal(h.heartbeat({ memberId: a, generationId: generation }), ErrorCode.NONE);
  }
  h.advance(3000);
  // b sent nothing for 12 s: gone; a is told to rejoin.
  assert.equal(h.heartbeat({ memberId: b, generationId: generation }), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(h.heartbeat({ memberId: a, generationId: generation }), ErrorCode.REBALANCE_IN_PROGRESS);
  const r = h.join({ memberId: a, sessionTimeoutMs: 10_000 });
  assert.equal(r.response!.generationId, generation + 1);
  assert.deepEqual(r.response!.members.map((m) => m.memberId), [a]);
  assert.ok(h.lines.some((l) => l.includes(`${b} session expired`)));
});

test('a leader that never sends SyncGroup is dropped after the rebalance timeout', () => {
  const h = new Harness();
  const a = h.joinNew({ rebalanceTimeoutMs: 20_000 });
  const b = h.joinNew({ rebalanceTimeoutMs: 20_000 });
  const gen = h.join({ memberId: a.memberId, rebalanceTimeoutMs: 20_000 }).response!.generationId;
  const waiting = h.sync({ memberId: b.memberId, generationId: gen });
  for (let t = 0; t < 5; t++) {
    h.advance(4000);
    h.heartbeat({ memberId: a.memberId, generationId: gen });
    h.heartbeat({ memberId: b.memberId, generationId: gen });
  }
  assert.equal(waiting.response!.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(h.shard.classicGroup('g')!.members.has(a.memberId), false);
  const r = h.join({ memberId: b.memberId, rebalanceTimeoutMs: 20_000 });
  assert.equal(r.response!.leader, b.memberId);
});

test('LeaveGroup v0–v2: one member, its error as the response error; the group rebalances', () => {
  const h = new Harness();
  const { ids, generation } = h.stableGroup(2);
  const res = h.leave({ memberId: ids[1] }, 1);
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.deepEqual(res.members, []);
  assert.equal(h.state(), 'PreparingRebalance');
  assert.equal(h.leave({ memberId: 'ghost' }, 0).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(h.leave({ groupId: 'nope', memberId: 'x' }, 2).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const r = h.join({ memberId: ids[0] });
  assert.equal(r.response!.generationId, generation + 1);
});

test('the last member leaving empties the group, bumps the generation and writes it', () => {
  const h = new Harness();
  const { ids, generation } = h.stableGroup(1);
  const before = h.log.length;
  h.leave({ memberId: ids[0] }, 0);
  assert.equal(h.state(), 'Empty');
  const rec = h.log.at(-1)!;
  assert.equal(h.log.length, before + 1);
  assert.ok(rec.type === 'group-metadata' && rec.value !== null);
  assert.equal(rec.type === 'group-metadata' ? rec.value!.generation : -1, generation + 1);
  assert.equal(rec.type === 'group-metadata' ? rec.value!.members.length : -1, 0);
  assert.equal(rec.type === 'group-metadata' ? rec.value!.protocolType : '', 'consumer', 'kept for offset retention');
});

test('LeaveGroup v3+: a batch, by member id or by group.instance.id, each member answered', () => {
  const h = new Harness();
  const s = h.joinNew({ groupInstanceId: 'i1' });
  assert.equal(s.memberId.startsWith('i1-'), true);
  const res = h.leave({ members: [
    { memberId: '', groupInstanceId: 'i1', reason: 'scaling down' },
    { memberId: 'ghost', groupInstanceId: null, reason: null },
    { memberId: '', groupInstanceId: 'nobody', reason: null },
  ] }, 4);
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.deepEqual(res.members.map((m) => [m.memberId, m.groupInstanceId, m.errorCode]), [
    ['', 'i1', ErrorCode.NONE],
    ['ghost', null, ErrorCode.UNKNOWN_MEMBER_ID],
    ['', 'nobody', ErrorCode.UNKNOWN_MEMBER_ID],
  ]);
  assert.equal(h.state(), 'Empty');
});

test('LeaveGroup with a stale member id for a static instance is FENCED_INSTANCE_ID', () => {
  const h = new Harness();
  h.joinNew({ groupInstanceId: 'i1' });
  const res = h.leave({ members: [{ memberId: 'i1-old', groupInstanceId: 'i1', reason: null }] }, 3);
  assert.equal(res.members[0].errorCode, ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(h.shard.classicGroup('g')!.size, 1);
});

test('a member removed while parked in JoinGroup is answered UNKNOWN_MEMBER_ID', () => {
  const h = new Harness();
  const { ids } = h.stableGroup(2);
  const parked = h.join({ memberId: ids[0] });
  assert.equal(parked.response, undefined);
  h.leave({ memberId: ids[0] }, 1);
  assert.equal(parked.response!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('a pending member (MEMBER_ID_REQUIRED) may leave', () => {
  const h = new Harness();
  const first = h.join();
  const res = h.leave({ memberId: first.response!.memberId }, 1);
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.equal(h.shard.classicGroup('g')!.pendingMembers.size, 0);
});
