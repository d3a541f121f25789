// KIP-345 static membership: group.instance.id survives restarts without a rebalance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { encodeSubscription } from '../../src/group/consumer-protocol.ts';
import { Harness } from './harness.ts';

function staticGroup(h: Harness) {
  const a = h.join({ groupInstanceId: 'ia' });
  assert.equal(a.response!.errorCode, ErrorCode.NONE, 'static members skip MEMBER_ID_REQUIRED');
  const b = h.join({ groupInstanceId: 'ib' });
  const ra = h.join({ memberId: a.response!.memberId, groupInstanceId: 'ia' });
  const gen = ra.response!.generationId;
  const bId = b.response!.memberId;
  const aId = ra.response!.memberId;
  h.sync({ memberId: bId, groupInstanceId: 'ib', generationId: gen });
  h.sync({ memberId: aId, groupInstanceId: 'ia', generationId: gen, assignments: [
    { memberId: aId, assignment: Buffer.from('A') }, { memberId: bId, assignment: Buffer.from('B') },
  ] });
  assert.equal(h.state(), 'Stable');
  return { aId, bId, gen };
}

test('a static member restarting within its session keeps its assignment: no rebalance, old id fenced', () => {
  const h = new Harness();
  const { aId, bId, gen } = staticGroup(h);
  // b restarts: a JoinGroup with no member id but the same instance id.
  const rejoin = h.join({ groupInstanceId: 'ib' });
  const r = rejoin.response!;
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.notEqual(r.memberId, bId);
  assert.equal(r.generationId, gen, 'same generation');
  assert.equal(h.state(), 'Stable');
  assert.equal(h.heartbeat({ memberId: aId, groupInstanceId: 'ia', generationId: gen }), ErrorCode.NONE, 'a sees no rebalance');
  assert.deepEqual(h.sync({ memberId: r.memberId, groupInstanceId: 'ib', generationId: gen }).response!.assignment, Buffer.from('B'));
  assert.equal(h.heartbeat({ memberId: bId, groupInstanceId: 'ib', generationId: gen }), ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(h.sync({ memberId: bId, groupInstanceId: 'ib', generationId: gen }).response!.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(h.join({ memberId: bId, groupInstanceId: 'ib' }).response!.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(h.commitOne('t', 0, 5n, { memberId: bId, groupInstanceId: 'ib', generationIdOrMemberEpoch: gen }), ErrorCode.FENCED_INSTANCE_ID);
  // The new id is durable.
  const rec = h.log.at(-1)!;
  assert.ok(rec.type === 'group-metadata' && rec.value!.members.some((m) => m.memberId === r.memberId && m.groupInstanceId === 'ib'));
});

test('a static leader restarting is told to skip assignment (JoinGroup v9, KIP-814)', () => {
  const h = new Harness();
  const { aId, gen } = staticGroup(h);
  const r = h.join({ groupInstanceId: 'ia' }, { version: 9 }).response!;
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.equal(r.leader, r.memberId);
  assert.notEqual(r.memberId, aId);
  assert.equal(r.skipAssignment, true);
  assert.equal(r.members.length, 2);
  assert.equal(r.generationId, gen);
  assert.equal(h.state(), 'Stable');
});

test('a static member restarting with a different subscription triggers a rebalance', () => {
  const h = new Harness();
  staticGroup(h);
  const r = h.join({ groupInstanceId: 'ib', protocols: [{ name: 'range', metadata: encodeSubscription(['t', 'u']) }] });
  assert.equal(r.response, undefined);
  assert.equal(h.state(), 'PreparingRebalance');
});

test('a static member that is gone longer than its session timeout is removed', () => {
  const h = new Harness();
  const { aId, gen } = staticGroup(h);
  h.advance(6000);
  assert.equal(h.heartbeat({ memberId: aId, groupInstanceId: 'ia', generationId: gen }), ErrorCode.NONE);
  h.advance(5000);
  assert.equal(h.heartbeat({ memberId: aId, groupInstanceId: 'ia', generationId: gen }), ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(h.shard.classicGroup('g')!.memberByInstance('ib'), undefined);
});

test('a static member restarting during CompletingRebalance starts a new rebalance', () => {
  const h = new Harness();
  const a = h.join({ groupInstanceId: 'ia' });
  assert.equal(h.state(), 'CompletingRebalance');
  const again = h.join({ groupInstanceId: 'ia' });
  assert.notEqual(again.response?.memberId, a.response!.memberId);
  assert.equal(again.response!.generationId, a.response!.generationId + 1);
});
