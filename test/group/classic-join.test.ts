// JoinGroup state machine with a fake clock: member ids (KIP-394), protocol checks and selection,
// the join phase and its timeouts, the initial rebalance delay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { encodeSubscription } from '../../src/group/consumer-protocol.ts';
import { Harness } from './harness.ts';

const sub = encodeSubscription(['t']);

test('a new member from JoinGroup v4 gets MEMBER_ID_REQUIRED and an id, then joins with it (KIP-394)', () => {
  const h = new Harness();
  const first = h.join({}, { version: 4, clientId: 'app' });
  assert.equal(first.response!.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.equal(first.response!.memberId, 'app-uuid1');
  assert.equal(h.state(), 'Empty');
  const second = h.join({ memberId: 'app-uuid1' }, { version: 4, clientId: 'app' });
  const r = second.response!;
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.equal(r.generationId, 1);
  assert.equal(r.leader, 'app-uuid1');
  assert.equal(r.memberId, 'app-uuid1');
  assert.equal(r.protocolName, 'range');
  assert.deepEqual(r.members.map((m) => m.memberId), ['app-uuid1']);
  assert.ok(r.members[0].metadata.equals(sub));
  assert.equal(h.state(), 'CompletingRebalance');
});

test('JoinGroup v0–v3 joins at once: MEMBER_ID_REQUIRED would make old clients loop', () => {
  for (const version of [0, 1, 2, 3]) {
    const h = new Harness();
    const r = h.join({}, { version }).response!;
    assert.equal(r.errorCode, ErrorCode.NONE, `v${version}`);
    assert.equal(r.generationId, 1);
    assert.equal(r.memberId, r.leader);
    assert.equal(r.protocolName, 'range');
  }
});

test('JoinGroup validation: group id, session timeout bounds, unknown member', () => {
  const h = new Harness({ minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 60_000 });
  assert.equal(h.join({ groupId: '' }).response!.errorCode, ErrorCode.INVALID_GROUP_ID);
  assert.equal(h.join({ sessionTimeoutMs: 5999 }).response!.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal(h.join({ sessionTimeoutMs: 60_001 }).response!.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal(h.join({ memberId: 'ghost' }).response!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID, 'unknown group');
  h.joinNew();
  assert.equal(h.join({ memberId: 'ghost' }).response!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID, 'known group');
});

test('INCONSISTENT_GROUP_PROTOCOL: no protocols, other protocol type, no protocol in common', () => {
  const h = new Harness();
  assert.equal(h.join({ protocols: [] }).response!.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(h.join({ protocolType: '' }).response!.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  h.joinNew({ protocols: [{ name: 'range', metadata: sub }] });
  assert.equal(h.join({ protocolType: 'connect' }).response!.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(h.join({ protocols: [{ name: 'roundrobin', metadata: sub }] }).response!.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(h.shard.classicGroup('g')!.size, 1, 'the rejected members did not join');
});

test('the protocol is chosen by vote among those every member supports', () => {
  const h = new Harness();
  const p = (...names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }));
  const a = h.joinNew({ protocols: p('range', 'roundrobin', 'sticky') });
  const b = h.joinNew({ protocols: p('roundrobin', 'range') });
  const c = h.joinNew({ protocols: p('sticky', 'roundrobin', 'range') });
  // c joined while a and b wait for the next generation: everyone rejoins.
  const ra = h.join({ memberId: a.memberId, protocols: p('range', 'roundrobin', 'sticky') });
  const rb = h.join({ memberId: b.memberId, protocols: p('roundrobin', 'range') });
  assert.equal(c.join.response!.errorCode, ErrorCode.NONE);
  // sticky is not supported by b; votes: a → range, b → roundrobin, c → roundrobin.
  assert.equal(ra.response!.protocolName, 'roundrobin');
  assert.equal(rb.response!.protocolName, 'roundrobin');
  assert.equal(ra.response!.generationId, rb.response!.generationId);
  // Only the leader gets the members, each with its metadata for the chosen protocol.
  const leader = [ra, rb, c.join].find((x) => x.response!.members.length > 0)!.response!;
  assert.equal(leader.members.length, 3);
  for (const m of leader.members) assert.deepEqual(m.metadata, Buffer.from('roundrobin'));
  assert.equal([ra, rb, c.join].filter((x) => x.response!.members.length > 0).length, 1);
});

test('a second member triggers a rebalance; the first learns it from Heartbeat and rejoins', () => {
  const h = new Harness();
  const { ids, generation } = h.stableGroup(1);
  const [a] = ids;
  assert.equal(h.state(), 'Stable');
  const b = h.joinNew();
  assert.equal(b.join.response, undefined, 'parked until a rejoins');
  assert.equal(h.state(), 'PreparingRebalance');
  assert.equal(h.heartbeat({ memberId: a, generationId: generation }), ErrorCode.REBALANCE_IN_PROGRESS);
  const ra = h.join({ memberId: a });
  assert.equal(ra.response!.generationId, generation + 1);
  assert.equal(b.join.response!.generationId, generation + 1);
  assert.equal(ra.response!.leader, a, 'the leader stays leader');
  assert.equal(ra.response!.members.length, 2);
  assert.equal(b.join.response!.members.length, 0);
});

test('rebalance timeout: a member that does not rejoin is dropped and the others go on', () => {
  const h = new Harness();
  const { ids } = h.stableGroup(2, { rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 30_000 });
  const c = h.joinNew({ rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 30_000 });
  const ra = h.join({ memberId: ids[0], rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 30_000 });
  h.advance(19_999);
  assert.equal(ra.response, undefined);
  h.advance(1);
  assert.equal(ra.response!.errorCode, ErrorCode.NONE);
  assert.equal(c.join.response!.errorCode, ErrorCode.NONE);
  const g = h.shard.classicGroup('g')!;
  assert.deepEqual([...g.members.keys()].sort(), [ids[0], c.memberId].sort());
  assert.equal(h.heartbeat({ memberId: ids[1], generationId: ra.response!.generationId }), ErrorCode.UNKNOWN_MEMBER_ID);
});

test('group.initial.rebalance.delay.ms: the first generation waits for more joiners, extending while they come', () => {
  const h = new Harness({ initialRebalanceDelayMs: 3000 });
  const a = h.joinNew({ rebalanceTimeoutMs: 60_000 });
  assert.equal(a.join.response, undefined);
  h.advance(2000);
  const b = h.joinNew({ rebalanceTimeoutMs: 60_000 });
  h.advance(1000); // first delay over, but b arrived: wait another delay
  assert.equal(a.join.response, undefined);
  h.advance(2999);
  assert.equal(a.join.response, undefined);
  h.advance(1);
  assert.equal(a.join.response!.generationId, 1);
  assert.equal(b.join.response!.generationId, 1);
  assert.equal(a.join.response!.members.length + b.join.response!.members.length, 2);
});

test('the initial delay never outlasts the rebalance timeout', () => {
  const h = new Harness({ initialRebalanceDelayMs: 3000 });
  const a = h.joinNew({ rebalanceTimeoutMs: 4000, sessionTimeoutMs: 6000 });
  h.advance(2500);
  h.joinNew({ rebalanceTimeoutMs: 4000, sessionTimeoutMs: 6000 });
  h.advance(500); // first delay over; b arrived, but only 1000 ms of rebalance timeout are left
  assert.equal(a.join.response, undefined);
  h.advance(999);
  assert.equal(a.join.response, undefined);
  h.advance(1);
  assert.equal(a.join.response!.errorCode, ErrorCode.NONE);
});

test('GROUP_MAX_SIZE_REACHED once group.max.size members (and pending ids) are in', () => {
  const h = new Harness({ maxGroupSize: 2 });
  h.stableGroup(2);
  assert.equal(h.join().response!.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
});

test('a JoinGroup repeated during CompletingRebalance gets the same answer again', () => {
  const h = new Harness();
  const a = h.joinNew();
  assert.equal(h.state(), 'CompletingRebalance');
  const again = h.join({ memberId: a.memberId });
  assert.equal(again.response!.generationId, a.join.response!.generationId);
  assert.deepEqual(again.response!.members, a.join.response!.members);
  assert.equal(h.state(), 'CompletingRebalance');
});

test('a follower rejoining a Stable group unchanged is answered at once; changed metadata rebalances', () => {
  const h = new Harness();
  const { ids, generation } = h.stableGroup(2);
  const r = h.join({ memberId: ids[1] });
  assert.equal(r.response!.generationId, generation);
  assert.equal(r.response!.members.length, 0);
  assert.equal(h.state(), 'Stable');
  const changed = h.join({ memberId: ids[1], protocols: [{ name: 'range', metadata: encodeSubscription(['t', 'u']) }] });
  assert.equal(changed.response, undefined);
  assert.equal(h.state(), 'PreparingRebalance');
});

test('the leader rejoining a Stable group starts a rebalance (it wants to reassign)', () => {
  const h = new Harness();
  const { leader } = h.stableGroup(2);
  h.join({ memberId: leader });
  assert.equal(h.state(), 'PreparingRebalance');
});

test('a pending member id that never comes back expires after the session timeout', () => {
  const h = new Harness();
  const { ids } = h.stableGroup(1);
  const pending = h.join({ sessionTimeoutMs: 6000 });
  assert.equal(pending.response!.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.equal(h.shard.classicGroup('g')!.pendingMembers.size, 1);
  // Leader rejoins for some reason: the join phase waits for the pending member ...
  const r = h.join({ memberId: ids[0] });
  assert.equal(r.response, undefined);
  h.advance(6000);
  // ... until its id expires.
  assert.equal(h.shard.classicGroup('g')!.pendingMembers.size, 0);
  assert.equal(r.response!.errorCode, ErrorCode.NONE);
  assert.equal(h.join({ memberId: pending.response!.memberId }).response!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('a retried JoinGroup replaces the parked one, which is told to retry', () => {
  const h = new Harness();
  const { ids } = h.stableGroup(2);
  const first = h.join({ memberId: ids[0] });
  const second = h.join({ memberId: ids[0] });
  assert.equal(first.response!.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(second.response, undefined);
  h.join({ memberId: ids[1] });
  assert.equal(second.response!.errorCode, ErrorCode.NONE);
});

test('JoinGroup v7+ carries the protocol type; older versions answer errors with an empty protocol name', () => {
  const h = new Harness();
  const r = h.join({}, { version: 7 });
  assert.equal(r.response!.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.equal(r.response!.protocolName, null);
  const ok = h.join({ memberId: r.response!.memberId }, { version: 7 });
  assert.equal(ok.response!.protocolType, 'consumer');
  assert.equal(h.join({ memberId: 'ghost' }, { version: 6 }).response!.protocolName, '');
});
