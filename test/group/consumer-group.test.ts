// KIP-848 consumer groups (ConsumerGroupHeartbeat) with a fake clock: epochs, server-side
// assignment, revocation before reassignment, fencing, static members, durability.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { createOffsetCommitRequest } from '../../src/protocol/generated/offset-commit-request.ts';
import { Harness, CgMember, byName } from './harness.ts';

function noPartitionTwice(members: CgMember[]): void {
  const seen = new Set<string>();
  for (const m of members) {
    for (const tp of m.owned) for (const p of tp.partitions) {
      const k = `${tp.topicId}:${p}`;
      assert.ok(!seen.has(k), `partition ${k} owned by two members`);
      seen.add(k);
    }
  }
}

/** Heartbeats every member until nothing changes. */
function settle(members: CgMember[], rounds = 6): void {
  for (let i = 0; i < rounds; i++) {
    for (const m of members) {
      m.heartbeat();
      noPartitionTwice(members);
    }
  }
}

test('the first member gets an id, epoch 1 and every partition; the group is written with Kafka\'s records', () => {
  const h = new Harness();
  const a = new CgMember(h);
  const r = a.join();
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.equal(r.memberId, 'uuid1');
  assert.equal(r.memberEpoch, 1);
  assert.equal(r.heartbeatIntervalMs, 5000);
  assert.deepEqual(a.partitions(), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(h.log.map((x) => x.type), [
    'consumer-group-member-metadata', 'consumer-group-partition-metadata', 'consumer-group-metadata',
    'consumer-group-target-assignment-member', 'consumer-group-target-assignment-metadata', 'consumer-group-current-member-assignment',
  ]);
  const again = a.heartbeat();
  assert.equal(again.assignment, null, 'an unchanged assignment is not repeated');
  assert.equal(h.shard.consumerGroup('cg')!.state, 'Stable');
  assert.deepEqual(h.shard.listGroups(), [{ groupId: 'cg', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' }]);
});

test('request validation: INVALID_REQUEST, UNSUPPORTED_ASSIGNOR, UNKNOWN_MEMBER_ID, GROUP_ID_NOT_FOUND for a classic group', () => {
  const h = new Harness();
  const m = new CgMember(h);
  assert.equal(m.join({ groupId: '' }).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(m.join({ rebalanceTimeoutMs: -1 }).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(m.join({ topicPartitions: null }).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(m.join({ subscribedTopicNames: [] }).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(m.send({ memberId: '', memberEpoch: 3 }).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(m.send({ memberId: 'x', memberEpoch: -7 }).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(m.send({ memberId: 'x', memberEpoch: -2 }).errorCode, ErrorCode.INVALID_REQUEST, 'static leave needs an instance id');
  assert.equal(m.join({ serverAssignor: 'sticky' }).errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
  assert.equal(m.send({ memberId: 'ghost', memberEpoch: 1, topicPartitions: [] }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(m.send({ memberId: 'ghost', memberEpoch: -1 }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  h.stableGroup(1, { groupId: 'cg' });
  assert.equal(m.join().errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
});

test('a second member: partitions are revoked from the first before the second gets them, never owned twice', () => {
  const h = new Harness();
  const a = new CgMember(h);
  const b = new CgMember(h);
  a.join();
  const rb = b.join();
  assert.equal(rb.memberEpoch, 2);
  assert.deepEqual(b.partitions(), [], 'its target partitions are still owned by a');
  const g = h.shard.consumerGroup('cg')!;
  assert.equal(g.groupEpoch, 2);
  assert.equal(g.state, 'Reconciling');
  const ra = a.heartbeat();
  assert.equal(ra.memberEpoch, 1, 'a keeps its epoch until it has revoked');
  assert.equal(a.partitions().length, 3);
  assert.equal(g.members.get(a.memberId)!.state, 1, 'UNREVOKED_PARTITIONS');
  assert.equal(a.heartbeat().memberEpoch, 2, 'the revocation is acknowledged by owning less');
  b.heartbeat();
  assert.equal(b.partitions().length, 3);
  noPartitionTwice([a, b]);
  assert.deepEqual([...a.partitions(), ...b.partitions()].sort(), [0, 1, 2, 3, 4, 5]);
  assert.equal(h.shard.consumerGroup('cg')!.state, 'Stable');
});

test('three members settle on 2/2/2; one leaves (epoch -1) and the others take its partitions', () => {
  const h = new Harness();
  const ms = [new CgMember(h), new CgMember(h), new CgMember(h)];
  for (const m of ms) m.join();
  settle(ms);
  assert.deepEqual(ms.map((m) => m.partitions().length), [2, 2, 2]);
  const left = ms[2].leave();
  assert.deepEqual([left.errorCode, left.memberEpoch], [ErrorCode.NONE, -1]);
  settle(ms.slice(0, 2));
  assert.deepEqual(ms.slice(0, 2).map((m) => m.partitions().length), [3, 3]);
  const g = h.shard.consumerGroup('cg')!;
  assert.equal(g.members.size, 2);
  assert.equal(g.state, 'Stable');
});

test('the uniform assignor is sticky: a joining member takes partitions from others, nobody swaps', () => {
  const h = new Harness();
  const a = new CgMember(h);
  const b = new CgMember(h);
  a.join();
  b.join();
  settle([a, b]);
  const before = { a: a.partitions(), b: b.partitions() };
  const c = new CgMember(h);
  c.join();
  settle([a, b, c]);
  assert.ok(a.partitions().every((p) => before.a.includes(p)));
  assert.ok(b.partitions().every((p) => before.b.includes(p)));
  assert.deepEqual([a, b, c].map((m) => m.partitions().length), [2, 2, 2]);
});

test('serverAssignor "range" gives contiguous ranges per topic', () => {
  const h = new Harness();
  const a = new CgMember(h, { serverAssignor: 'range', subscribedTopicNames: ['t', 'u'] });
  const b = new CgMember(h, { serverAssignor: 'range', subscribedTopicNames: ['t', 'u'] });
  a.join();
  b.join();
  settle([a, b]);
  const first = a.memberId < b.memberId ? a : b;
  const second = first === a ? b : a;
  assert.deepEqual(first.partitions('t'), [0, 1, 2]);
  assert.deepEqual(second.partitions('t'), [3, 4, 5]);
  assert.deepEqual(first.partitions('u'), [0, 1]);
  assert.deepEqual(second.partitions('u'), [2]);
  assert.equal(h.shard.describeConsumerGroup('cg').assignorName, 'range');
});

test('a stale epoch is FENCED_MEMBER_EPOCH, except the previous epoch of a member that lost the answer', () => {
  const h = new Harness();
  const a = new CgMember(h);
  a.join();
  a.heartbeat();
  assert.equal(a.heartbeat({ memberEpoch: 7 }).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  const b = new CgMember(h);
  b.join();
  a.heartbeat();
  const r = a.heartbeat();
  assert.equal(r.memberEpoch, 2);
  // a did not get that answer: it heartbeats with epoch 1 owning a subset of its partitions.
  const lost = a.heartbeat({ memberEpoch: 1 });
  assert.equal(lost.errorCode, ErrorCode.NONE);
  assert.equal(lost.memberEpoch, 2);
  assert.equal(a.heartbeat({ memberEpoch: 0 + 1, topicPartitions: [{ topicId: h.topics.get('t')!.id, partitions: [0, 1, 2, 3, 4, 5] }] }).errorCode, ErrorCode.FENCED_MEMBER_EPOCH,
    'owning partitions it no longer has is not a lost answer');
});

test('a member that stops heartbeating is removed after group.consumer.session.timeout.ms', () => {
  const h = new Harness({ consumerSessionTimeoutMs: 45_000 });
  const a = new CgMember(h);
  const b = new CgMember(h);
  a.join();
  b.join();
  settle([a, b]);
  for (let i = 0; i < 10; i++) {
    h.advance(5000);
    a.heartbeat();
  }
  assert.equal(h.shard.consumerGroup('cg')!.members.has(b.memberId), false);
  settle([a]);
  assert.equal(a.partitions().length, 6);
  assert.equal(b.heartbeat().errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('a member that does not revoke within its rebalance timeout is removed', () => {
  const h = new Harness();
  const a = new CgMember(h, { rebalanceTimeoutMs: 10_000 });
  a.join();
  const b = new CgMember(h);
  b.join();
  // a heartbeats but keeps claiming all six partitions.
  const all = [{ topicId: h.topics.get('t')!.id, partitions: [0, 1, 2, 3, 4, 5] }];
  for (let i = 0; i < 3; i++) {
    h.advance(3000);
    a.send({ memberId: a.memberId, memberEpoch: 1, topicPartitions: all });
    b.heartbeat();
  }
  h.advance(3999);
  assert.equal(h.shard.consumerGroup('cg')!.members.has(a.memberId), true, 'the timeout counts from the revocation request');
  h.advance(1);
  assert.equal(h.shard.consumerGroup('cg')!.members.has(a.memberId), false);
  settle([b]);
  assert.equal(b.partitions().length, 6);
});

test('a static member leaving with epoch -2 keeps its partitions for its next incarnation', () => {
  const h = new Harness();
  const a = new CgMember(h, { instanceId: 'ia' });
  const b = new CgMember(h);
  a.join();
  b.join();
  settle([a, b]);
  const mine = a.partitions();
  assert.deepEqual([a.leave(-2).errorCode, a.last!.memberEpoch], [ErrorCode.NONE, -2]);
  const epoch = h.shard.consumerGroup('cg')!.groupEpoch;
  const a2 = new CgMember(h, { instanceId: 'ia' });
  const r = a2.join();
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.notEqual(a2.memberId, a.memberId);
  assert.deepEqual(a2.partitions(), mine, 'same partitions, given back at once');
  assert.equal(h.shard.consumerGroup('cg')!.groupEpoch, epoch, 'no rebalance');
  const a3 = new CgMember(h, { instanceId: 'ia' });
  assert.equal(a3.join().errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);
});

test('more partitions in a subscribed topic bump the group epoch and get assigned', () => {
  const h = new Harness();
  const a = new CgMember(h);
  a.join();
  a.heartbeat();
  h.topics.get('t')!.numPartitions = 8;
  const r = a.heartbeat();
  assert.equal(r.memberEpoch, 2);
  assert.deepEqual(a.partitions(), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('offset commits and fetches of KIP-848 members are checked against the member epoch', () => {
  const h = new Harness();
  const a = new CgMember(h);
  a.join();
  const commit = (memberId: string, epoch: number, version = 9) => h.apply(h.shard.commitOffsets(createOffsetCommitRequest({
    groupId: 'cg', memberId, generationIdOrMemberEpoch: epoch,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }] }],
  }), { version, clientId: 'c', clientHost: '/h' })).topics[0].partitions[0].errorCode;
  assert.equal(commit(a.memberId, 1), ErrorCode.NONE);
  assert.equal(commit(a.memberId, 2), ErrorCode.FENCED_MEMBER_EPOCH);
  assert.equal(commit(a.memberId, 0), ErrorCode.STALE_MEMBER_EPOCH);
  assert.equal(commit('ghost', 1), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(commit('', -1), ErrorCode.UNKNOWN_MEMBER_ID, 'no admin commits while the group has members');
  assert.equal(h.shard.fetchOffsets('cg', [{ name: 't', partitionIndexes: [0] }], { memberId: a.memberId, memberEpoch: 0 }).errorCode, ErrorCode.STALE_MEMBER_EPOCH);
  assert.equal(h.shard.fetchOffsets('cg', [{ name: 't', partitionIndexes: [0] }], { memberId: a.memberId, memberEpoch: 1 }).topics[0].partitions[0].committedOffset, 5n);
  a.leave();
  assert.equal(commit('', -1), ErrorCode.NONE);
});

test('ConsumerGroupDescribe, DeleteGroups, and a reload that rebuilds the same group', () => {
  const h = new Harness();
  const a = new CgMember(h, { subscribedTopicNames: ['t', 'u'] });
  const b = new CgMember(h, { subscribedTopicNames: ['t'] });
  a.join();
  b.join();
  settle([a, b]);
  const d = h.shard.describeConsumerGroup('cg');
  assert.equal(d.errorCode, ErrorCode.NONE);
  assert.equal(d.groupState, 'Stable');
  assert.equal(d.groupEpoch, d.assignmentEpoch);
  const da = d.members.find((m) => m.memberId === a.memberId)!;
  assert.deepEqual(da.subscribedTopicNames, ['t', 'u']);
  assert.deepEqual(byName(h, da.assignment.topicPartitions), byName(h, a.owned));
  assert.deepEqual(da.assignment.topicPartitions.map((tp) => tp.topicName).sort(), Object.keys(byName(h, a.owned)).sort());
  assert.equal(h.shard.describeConsumerGroup('nope').errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  assert.equal(h.shard.describeGroup('cg').errorCode, ErrorCode.GROUP_ID_NOT_FOUND, 'DescribeGroups is for classic groups');

  h.reload();
  assert.deepEqual(h.shard.describeConsumerGroup('cg'), d);
  settle([a, b]);
  assert.equal(h.apply(h.shard.deleteGroup('cg')), ErrorCode.NON_EMPTY_GROUP);
  a.leave();
  b.leave();
  assert.equal(h.shard.consumerGroup('cg')!.state, 'Empty');
  assert.equal(h.apply(h.shard.deleteGroup('cg')), ErrorCode.NONE);
  assert.equal(h.shard.groups.has('cg'), false);
  h.reload();
  assert.equal(h.shard.groups.has('cg'), false);
});

test('an empty group switches protocol: classic (simple) → consumer → classic', () => {
  const h = new Harness();
  h.commitOne('t', 0, 3n, { groupId: 'cg' });
  assert.equal(h.shard.groups.get('cg')!.type, 'classic');
  const a = new CgMember(h);
  assert.equal(a.join().errorCode, ErrorCode.NONE);
  assert.equal(h.shard.groups.get('cg')!.type, 'consumer');
  assert.equal(h.fetchOne('t', 0, 'cg').committedOffset, 3n, 'offsets stay with the group id');
  assert.equal(h.join({ groupId: 'cg' }, { version: 3 }).response!.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  a.leave();
  const j = h.join({ groupId: 'cg' }, { version: 3 });
  assert.equal(j.response!.errorCode, ErrorCode.NONE);
  assert.equal(h.shard.groups.get('cg')!.type, 'classic');
  h.reload();
  assert.equal(h.shard.groups.get('cg')!.type, 'classic');
  assert.equal(h.fetchOne('t', 0, 'cg').committedOffset, 3n);
});
