// The group APIs over TCP at their oldest and newest versions, with Brook's own connection: the
// advertised ranges (librdkafka needs v0 in every group API), FindCoordinator single and batched,
// the classic protocol at v0 and at the flexible versions, and the admin APIs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { createApiVersionsRequest } from '../../src/protocol/generated/api-versions-request.ts';
import { createFindCoordinatorRequest } from '../../src/protocol/generated/find-coordinator-request.ts';
import { createJoinGroupRequest } from '../../src/protocol/generated/join-group-request.ts';
import { createSyncGroupRequest } from '../../src/protocol/generated/sync-group-request.ts';
import { createHeartbeatRequest } from '../../src/protocol/generated/heartbeat-request.ts';
import { createLeaveGroupRequest } from '../../src/protocol/generated/leave-group-request.ts';
import { createOffsetCommitRequest } from '../../src/protocol/generated/offset-commit-request.ts';
import { createOffsetFetchRequest } from '../../src/protocol/generated/offset-fetch-request.ts';
import { createListGroupsRequest } from '../../src/protocol/generated/list-groups-request.ts';
import { createDescribeGroupsRequest } from '../../src/protocol/generated/describe-groups-request.ts';
import { createDeleteGroupsRequest } from '../../src/protocol/generated/delete-groups-request.ts';
import { createOffsetDeleteRequest } from '../../src/protocol/generated/offset-delete-request.ts';
import { createCreateTopicsRequest } from '../../src/protocol/generated/create-topics-request.ts';
import { createConsumerGroupHeartbeatRequest } from '../../src/protocol/generated/consumer-group-heartbeat-request.ts';
import { createConsumerGroupDescribeRequest } from '../../src/protocol/generated/consumer-group-describe-request.ts';
import { encodeSubscription } from '../../src/group/consumer-protocol.ts';

let b: TestBroker;
let conn: KafkaConnection;
const TOPIC = 'proto-topic';

before(async () => {
  b = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  conn = await KafkaConnection.connect(b.host, b.port, { clientId: 'proto' });
  const res = await conn.send(19, 4, createCreateTopicsRequest({ topics: [{ name: TOPIC, numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000 }));
  assert.equal(res.topics[0].errorCode, ErrorCode.NONE);
});
after(async () => {
  conn?.close();
  await b?.close();
});

const partition = (partitionIndex: number, committedOffset: bigint, committedMetadata: string | null = '') =>
  ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata });

test('ApiVersions advertises every group API from v0 (librdkafka enables groups only then)', async () => {
  const res = await conn.send(18, 3, createApiVersionsRequest({ clientSoftwareName: 'proto', clientSoftwareVersion: '1' }));
  const ranges = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
  const expected: [number, number][] = [[8, 9], [9, 9], [10, 6], [11, 9], [12, 4], [13, 5], [14, 5], [15, 5], [16, 5], [42, 2], [47, 0], [68, 0], [69, 0]];
  for (const [key, max] of expected) assert.deepEqual(ranges.get(key), [0, max], `api key ${key}`);
});

test('FindCoordinator: v0 single key, v3 transaction key, v4 batched keys, unknown key type', async () => {
  const v0 = await conn.send(10, 0, createFindCoordinatorRequest({ key: 'g0' }));
  assert.deepEqual([v0.errorCode, v0.nodeId, v0.host, v0.port], [ErrorCode.NONE, b.broker.settings.nodeId, '127.0.0.1', b.port]);
  const txn = await conn.send(10, 3, createFindCoordinatorRequest({ key: 'txn-1', keyType: 1 }));
  assert.equal(txn.errorCode, ErrorCode.NONE);
  assert.equal(txn.port, b.port);
  const v4 = await conn.send(10, 4, createFindCoordinatorRequest({ keyType: 0, coordinatorKeys: ['a', 'b'] }));
  assert.deepEqual(v4.coordinators.map((c) => [c.key, c.errorCode, c.port]), [['a', 0, b.port], ['b', 0, b.port]]);
  const bad = await conn.send(10, 6, createFindCoordinatorRequest({ keyType: 2, coordinatorKeys: ['s'] }));
  assert.equal(bad.coordinators[0].errorCode, ErrorCode.INVALID_REQUEST);
  // The first lookup created the compacted internal topic.
  const t = b.broker.image.topics.get('__consumer_offsets');
  assert.equal(t?.partitions.size, 50);
});

test('classic protocol at v0: join at once, sync, heartbeat, commit v0–v2, fetch v0–v1, leave', async () => {
  const g = 'g-v0';
  const sub = encodeSubscription([TOPIC]);
  const join = await conn.send(11, 0, createJoinGroupRequest({ groupId: g, sessionTimeoutMs: 10_000, protocolType: 'consumer', protocols: [{ name: 'range', metadata: sub }] }));
  assert.equal(join.errorCode, ErrorCode.NONE);
  assert.equal(join.generationId, 1);
  assert.equal(join.leader, join.memberId);
  assert.equal(join.members.length, 1);
  const sync = await conn.send(14, 0, createSyncGroupRequest({ groupId: g, generationId: 1, memberId: join.memberId, assignments: [{ memberId: join.memberId, assignment: Buffer.from('x') }] }));
  assert.deepEqual([sync.errorCode, sync.assignment.toString()], [ErrorCode.NONE, 'x']);
  assert.equal((await conn.send(12, 0, createHeartbeatRequest({ groupId: g, generationId: 1, memberId: join.memberId }))).errorCode, ErrorCode.NONE);
  const commit = (version: number, offset: bigint) => conn.send(8, version, createOffsetCommitRequest({
    groupId: g, generationIdOrMemberEpoch: 1, memberId: join.memberId, topics: [{ name: TOPIC, partitions: [partition(0, offset, `v${version}`)] }],
  }));
  // v0 has no generation: outside group management, which a group with members refuses.
  assert.equal((await commit(0, 10n)).topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  for (const version of [1, 2]) assert.equal((await commit(version, BigInt(10 + version))).topics[0].partitions[0].errorCode, ErrorCode.NONE, `OffsetCommit v${version}`);
  for (const version of [0, 1]) {
    const res = await conn.send(9, version, createOffsetFetchRequest({ groupId: g, topics: [{ name: TOPIC, partitionIndexes: [0, 1] }] }));
    assert.deepEqual(res.topics[0].partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode]), [[0, 12n, 'v2', 0], [1, -1n, '', 0]]);
  }
  assert.equal((await conn.send(13, 0, createLeaveGroupRequest({ groupId: g, memberId: join.memberId }))).errorCode, ErrorCode.NONE);
  assert.equal((await conn.send(15, 0, createDescribeGroupsRequest({ groups: [g] }))).groups[0].groupState, 'Empty');
  assert.equal((await commit(0, 20n)).topics[0].partitions[0].errorCode, ErrorCode.NONE, 'OffsetCommit v0 to the empty group');
  const v0 = await conn.send(9, 0, createOffsetFetchRequest({ groupId: g, topics: [{ name: TOPIC, partitionIndexes: [0] }] }));
  assert.deepEqual([v0.topics[0].partitions[0].committedOffset, v0.topics[0].partitions[0].metadata], [20n, 'v0']);
});

test('classic protocol at the flexible versions: MEMBER_ID_REQUIRED, sync v5, heartbeat v4, leave v5 echo', async () => {
  const g = 'g-flex';
  const sub = encodeSubscription([TOPIC]);
  const req = createJoinGroupRequest({ groupId: g, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, protocolType: 'consumer', protocols: [{ name: 'range', metadata: sub }], reason: 'test' });
  const first = await conn.send(11, 9, req);
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.match(first.memberId, /^proto-[0-9a-f-]{36}$/);
  const join = await conn.send(11, 9, { ...req, memberId: first.memberId });
  assert.deepEqual([join.errorCode, join.protocolType, join.protocolName, join.skipAssignment], [ErrorCode.NONE, 'consumer', 'range', false]);
  const sync = await conn.send(14, 5, createSyncGroupRequest({ groupId: g, generationId: join.generationId, memberId: join.memberId, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: join.memberId, assignment: Buffer.from('y') }] }));
  assert.deepEqual([sync.errorCode, sync.protocolType, sync.protocolName, sync.assignment.toString()], [ErrorCode.NONE, 'consumer', 'range', 'y']);
  assert.equal((await conn.send(12, 4, createHeartbeatRequest({ groupId: g, generationId: join.generationId, memberId: join.memberId }))).errorCode, ErrorCode.NONE);
  assert.equal((await conn.send(12, 4, createHeartbeatRequest({ groupId: g, generationId: join.generationId + 1, memberId: join.memberId }))).errorCode, ErrorCode.ILLEGAL_GENERATION);
  const described = await conn.send(15, 5, createDescribeGroupsRequest({ groups: [g, 'nobody'], includeAuthorizedOperations: true }));
  const [d, dead] = described.groups;
  assert.deepEqual([d.groupState, d.protocolType, d.protocolData], ['Stable', 'consumer', 'range']);
  assert.deepEqual(d.members.map((m) => [m.memberId, m.clientId, m.clientHost, m.memberAssignment.toString()]), [[join.memberId, 'proto', '/127.0.0.1', 'y']]);
  assert.ok(d.members[0].memberMetadata.equals(sub));
  assert.notEqual(d.authorizedOperations, -2147483648);
  assert.deepEqual([dead.errorCode, dead.groupState], [ErrorCode.NONE, 'Dead']);
  const leave = await conn.send(13, 5, createLeaveGroupRequest({ groupId: g, members: [{ memberId: join.memberId, groupInstanceId: null, reason: 'done' }, { memberId: 'ghost', groupInstanceId: null, reason: null }] }));
  assert.equal(leave.errorCode, ErrorCode.NONE);
  assert.deepEqual(leave.members.map((m) => [m.memberId, m.errorCode]), [[join.memberId, ErrorCode.NONE], ['ghost', ErrorCode.UNKNOWN_MEMBER_ID]]);
});

test('OffsetCommit v9 / OffsetFetch v7 (all topics) and v8 (several groups, one unknown)', async () => {
  const commit = await conn.send(8, 9, createOffsetCommitRequest({ groupId: 'g-fetch', topics: [{ name: TOPIC, partitions: [
    { partitionIndex: 1, committedOffset: 5n, committedLeaderEpoch: 3, commitTimestamp: -1n, committedMetadata: null },
    { partitionIndex: 2, committedOffset: 6n, committedLeaderEpoch: 3, commitTimestamp: -1n, committedMetadata: 'm' },
  ] }, { name: 'no-such-topic', partitions: [partition(0, 1n)] }] }));
  assert.deepEqual(commit.topics.map((t) => t.partitions.map((p) => p.errorCode)), [[0, 0], [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
  const all = await conn.send(9, 7, createOffsetFetchRequest({ groupId: 'g-fetch', topics: null, requireStable: true }));
  assert.equal(all.errorCode, ErrorCode.NONE);
  assert.deepEqual(all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata])]), [
    [TOPIC, [[1, 5n, 3, ''], [2, 6n, 3, 'm']]],
  ]);
  const multi = await conn.send(9, 8, createOffsetFetchRequest({ groups: [
    { groupId: 'g-fetch', memberId: null, memberEpoch: -1, topics: [{ name: TOPIC, partitionIndexes: [0, 2] }] },
    { groupId: 'never-seen', memberId: null, memberEpoch: -1, topics: [{ name: TOPIC, partitionIndexes: [0] }] },
  ] }));
  assert.deepEqual(multi.groups.map((g) => [g.groupId, g.errorCode, g.topics[0].partitions.map((p) => p.committedOffset)]), [
    ['g-fetch', 0, [-1n, 6n]],
    ['never-seen', 0, [-1n]],
  ]);
});

test('ListGroups filters by state (v4) and type (v5); DeleteGroups and OffsetDelete', async () => {
  await conn.send(8, 2, createOffsetCommitRequest({ groupId: 'g-admin', topics: [{ name: TOPIC, partitions: [partition(0, 1n), partition(1, 2n)] }] }));
  const listed = await conn.send(16, 5, createListGroupsRequest({ statesFilter: ['empty'], typesFilter: ['classic'] }));
  assert.equal(listed.errorCode, ErrorCode.NONE);
  assert.ok(listed.groups.some((g) => g.groupId === 'g-admin' && g.groupState === 'Empty' && g.groupType === 'classic'));
  assert.equal((await conn.send(16, 4, createListGroupsRequest({ statesFilter: ['Stable'] }))).groups.some((g) => g.groupId === 'g-admin'), false);
  assert.equal((await conn.send(16, 0, createListGroupsRequest())).groups.some((g) => g.groupId === 'g-admin'), true);

  const od = await conn.send(47, 0, createOffsetDeleteRequest({ groupId: 'g-admin', topics: [{ name: TOPIC, partitions: [{ partitionIndex: 1 }] }] }));
  assert.deepEqual([od.errorCode, od.topics[0].partitions[0].errorCode], [ErrorCode.NONE, ErrorCode.NONE]);
  const missing = await conn.send(47, 0, createOffsetDeleteRequest({ groupId: 'nobody', topics: [] }));
  assert.equal(missing.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  const after = await conn.send(9, 5, createOffsetFetchRequest({ groupId: 'g-admin', topics: [{ name: TOPIC, partitionIndexes: [0, 1] }] }));
  assert.deepEqual(after.topics[0].partitions.map((p) => p.committedOffset), [1n, -1n]);

  const del = await conn.send(42, 2, createDeleteGroupsRequest({ groupsNames: ['g-admin', 'nobody'] }));
  assert.deepEqual(del.results.map((r) => [r.groupId, r.errorCode]), [['g-admin', ErrorCode.NONE], ['nobody', ErrorCode.GROUP_ID_NOT_FOUND]]);
  const gone = await conn.send(9, 5, createOffsetFetchRequest({ groupId: 'g-admin', topics: [{ name: TOPIC, partitionIndexes: [0] }] }));
  assert.equal(gone.topics[0].partitions[0].committedOffset, -1n);
});

test('DeleteGroups refuses a group with members (NON_EMPTY_GROUP)', async () => {
  const join = await conn.send(11, 3, createJoinGroupRequest({ groupId: 'g-busy', sessionTimeoutMs: 10_000, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] }));
  assert.equal(join.errorCode, ErrorCode.NONE);
  const del = await conn.send(42, 0, createDeleteGroupsRequest({ groupsNames: ['g-busy'] }));
  assert.equal(del.results[0].errorCode, ErrorCode.NON_EMPTY_GROUP);
});

test('KIP-848 over TCP: ConsumerGroupHeartbeat joins and reconciles two members; ConsumerGroupDescribe shows them', async () => {
  const topicId = b.broker.image.topics.get(TOPIC)!.id;
  const hb = (init: Parameters<typeof createConsumerGroupHeartbeatRequest>[0]) => conn.send(68, 0, createConsumerGroupHeartbeatRequest({ groupId: 'cg-tcp', ...init }));
  const a = await hb({ memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: [TOPIC], topicPartitions: [], serverAssignor: 'range' });
  assert.equal(a.errorCode, ErrorCode.NONE);
  assert.deepEqual(a.assignment!.topicPartitions, [{ topicId, partitions: [0, 1, 2] }]);
  const bj = await hb({ memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: [TOPIC], topicPartitions: [], serverAssignor: 'range' });
  assert.equal(bj.memberEpoch, 2);
  // a is asked to give partitions up, then confirms by owning only what it keeps.
  const a2 = await hb({ memberId: a.memberId!, memberEpoch: a.memberEpoch, topicPartitions: a.assignment!.topicPartitions });
  assert.equal(a2.memberEpoch, 1);
  const a3 = await hb({ memberId: a.memberId!, memberEpoch: 1, topicPartitions: a2.assignment!.topicPartitions });
  assert.equal(a3.memberEpoch, 2);
  const b2 = await hb({ memberId: bj.memberId!, memberEpoch: 2, topicPartitions: [] });
  const owned = [...(a2.assignment!.topicPartitions[0]?.partitions ?? []), ...b2.assignment!.topicPartitions[0].partitions].sort();
  assert.deepEqual(owned, [0, 1, 2]);
  const commit = await conn.send(8, 9, createOffsetCommitRequest({ groupId: 'cg-tcp', memberId: bj.memberId!, generationIdOrMemberEpoch: 2, topics: [{ name: TOPIC, partitions: [partition(2, 9n)] }] }));
  assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.NONE);
  const d = await conn.send(69, 0, createConsumerGroupDescribeRequest({ groupIds: ['cg-tcp', 'g-flex'] }));
  assert.deepEqual([d.groups[0].errorCode, d.groups[0].groupState, d.groups[0].assignorName, d.groups[0].members.length], [ErrorCode.NONE, 'Stable', 'range', 2]);
  assert.equal(d.groups[0].members.find((m) => m.memberId === bj.memberId)!.assignment.topicPartitions[0].topicName, TOPIC);
  assert.equal(d.groups[1].errorCode, ErrorCode.GROUP_ID_NOT_FOUND, 'a classic group');
  const left = await hb({ memberId: bj.memberId!, memberEpoch: -1 });
  assert.deepEqual([left.errorCode, left.memberEpoch], [ErrorCode.NONE, -1]);
});
