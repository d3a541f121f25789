// OffsetCommit / OffsetFetch / OffsetDelete / DeleteGroups and offset expiration (KIP-211).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { Harness } from './harness.ts';

test('a simple consumer (generation -1) commits without a group; the group then exists, Empty', () => {
  const h = new Harness();
  assert.equal(h.commitOne('t', 2, 42n, {}, 8, { metadata: 'hello', leaderEpoch: 7 }), ErrorCode.NONE);
  const o = h.fetchOne('t', 2);
  assert.equal(o.committedOffset, 42n);
  assert.equal(o.metadata, 'hello');
  assert.equal(o.committedLeaderEpoch, 7);
  assert.equal(o.errorCode, ErrorCode.NONE);
  assert.deepEqual(h.shard.listGroups(), [{ groupId: 'g', protocolType: '', groupState: 'Empty', groupType: 'classic' }]);
});

test('OffsetFetch for an unknown group or partition: offset -1, empty metadata, no error', () => {
  const h = new Harness();
  const o = h.fetchOne('t', 0, 'nobody');
  assert.deepEqual(o, { partitionIndex: 0, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE });
  h.commitOne('t', 0, 1n);
  assert.equal(h.fetchOne('t', 1).committedOffset, -1n);
  const all = h.shard.fetchOffsets('nobody', null);
  assert.deepEqual(all, { groupId: 'nobody', topics: [], errorCode: ErrorCode.NONE });
});

test('OffsetFetch with null topics returns every committed partition', () => {
  const h = new Harness();
  h.commitOne('t', 3, 30n);
  h.commitOne('t', 1, 10n);
  h.commitOne('u', 0, 5n);
  const all = h.shard.fetchOffsets('g', null);
  assert.deepEqual(all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])]), [
    ['t', [[1, 10n], [3, 30n]]],
    ['u', [[0, 5n]]],
  ]);
});

test('leader epochs are stored from OffsetCommit v6; older versions store -1', () => {
  const h = new Harness();
  h.commitOne('t', 0, 1n, {}, 5, { leaderEpoch: 9 });
  assert.equal(h.fetchOne('t', 0).committedLeaderEpoch, -1);
  h.commitOne('t', 0, 2n, {}, 6, { leaderEpoch: 9 });
  assert.equal(h.fetchOne('t', 0).committedLeaderEpoch, 9);
});

test('null commit metadata is stored as the empty string', () => {
  const h = new Harness();
  h.commitOne('t', 0, 1n, {}, 8, { metadata: null });
  assert.equal(h.fetchOne('t', 0).metadata, '');
});

test('member commits are checked against the generation', () => {
  const h = new Harness();
  assert.equal(h.commitOne('t', 0, 1n, { generationIdOrMemberEpoch: 3, memberId: 'm' }), ErrorCode.ILLEGAL_GENERATION, 'no such group');
  const a = h.joinNew();
  const gen = a.join.response!.generationId;
  assert.equal(h.commitOne('t', 0, 1n, { generationIdOrMemberEpoch: gen, memberId: a.memberId }), ErrorCode.REBALANCE_IN_PROGRESS, 'CompletingRebalance');
  h.sync({ memberId: a.memberId, generationId: gen, assignments: [] });
  assert.equal(h.commitOne('t', 0, 1n, { generationIdOrMemberEpoch: gen, memberId: a.memberId }), ErrorCode.NONE);
  assert.equal(h.commitOne('t', 0, 1n, { generationIdOrMemberEpoch: gen + 1, memberId: a.memberId }), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(h.commitOne('t', 0, 1n, { generationIdOrMemberEpoch: gen, memberId: 'ghost' }), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(h.commitOne('t', 0, 1n, { generationIdOrMemberEpoch: -1, memberId: '' }), ErrorCode.UNKNOWN_MEMBER_ID, 'a live group is not open to simple commits');
  h.joinNew();
  assert.equal(h.state(), 'PreparingRebalance');
  assert.equal(h.commitOne('t', 0, 2n, { generationIdOrMemberEpoch: gen, memberId: a.memberId }), ErrorCode.NONE, 'a member may flush before rejoining');
  assert.equal(h.fetchOne('t', 0).committedOffset, 2n);
});

test('OFFSET_METADATA_TOO_LARGE and UNKNOWN_TOPIC_OR_PARTITION are per partition', () => {
  const h = new Harness({ offsetMetadataMaxBytes: 10 });
  const res = h.commit({ topics: [
    { name: 't', partitions: [
      { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: 'x'.repeat(11) },
      { partitionIndex: 1, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: 'x'.repeat(10) },
      { partitionIndex: 6, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' },
    ] },
    { name: 'missing', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }] },
  ] });
  assert.deepEqual(res.topics.map((t) => t.partitions.map((p) => p.errorCode)), [
    [ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  ]);
  assert.equal(h.fetchOne('t', 0).committedOffset, -1n);
  assert.equal(h.fetchOne('t', 1).committedOffset, 1n);
});

test('offsets of an empty group expire offsets.retention after it became empty, not after the commit (KIP-211)', () => {
  const h = new Harness({ offsetsRetentionMs: 100_000, offsetsRetentionCheckIntervalMs: 10_000 });
  h.shard.onLoaded();
  const { ids, generation } = h.stableGroup(1, { sessionTimeoutMs: 30_000 });
  h.commitOne('t', 0, 5n, { memberId: ids[0], generationIdOrMemberEpoch: generation });
  // The member stays (heartbeating) well past the retention: nothing expires.
  for (let i = 0; i < 15; i++) {
    h.advance(10_000);
    h.heartbeat({ memberId: ids[0], generationId: generation });
  }
  assert.equal(h.fetchOne('t', 0).committedOffset, 5n);
  h.leave({ memberId: ids[0] }, 1);
  h.advance(90_000);
  assert.equal(h.fetchOne('t', 0).committedOffset, 5n);
  h.advance(20_000);
  assert.equal(h.fetchOne('t', 0).committedOffset, -1n);
  assert.equal(h.shard.groups.has('g'), false, 'an empty group with no offsets left is deleted');
  const last = h.log.at(-1)!;
  assert.equal(last.type, 'group-metadata');
  assert.equal(last.type === 'group-metadata' ? last.value : 'x', null);
});

test('offsets of a simple group expire offsets.retention after their commit', () => {
  const h = new Harness({ offsetsRetentionMs: 50_000, offsetsRetentionCheckIntervalMs: 10_000 });
  h.shard.onLoaded();
  h.commitOne('t', 0, 1n);
  h.advance(30_000);
  h.commitOne('t', 1, 1n);
  h.advance(30_000);
  assert.equal(h.fetchOne('t', 0).committedOffset, -1n);
  assert.equal(h.fetchOne('t', 1).committedOffset, 1n);
  h.advance(30_000);
  assert.equal(h.fetchOne('t', 1).committedOffset, -1n);
  assert.equal(h.shard.groups.has('g'), false);
});

test('OffsetCommit v2–v4 retention_time_ms sets an explicit expiry', () => {
  const h = new Harness({ offsetsRetentionMs: 1_000_000, offsetsRetentionCheckIntervalMs: 1000 });
  h.shard.onLoaded();
  h.commitOne('t', 0, 1n, { retentionTimeMs: 5000n }, 2);
  h.commitOne('t', 1, 1n, { retentionTimeMs: 5000n }, 5);
  h.advance(5000);
  assert.equal(h.fetchOne('t', 0).committedOffset, -1n);
  assert.equal(h.fetchOne('t', 1).committedOffset, 1n, 'v5 has no retention field');
});

test('OffsetDelete: unknown group, subscribed topic refused, other topics deleted', () => {
  const h = new Harness();
  const del = (topic: string, partition: number) => h.apply(h.shard.deleteOffsets({ groupId: 'g', topics: [{ name: topic, partitions: [{ partitionIndex: partition }] }] }));
  assert.equal(del('t', 0).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  const { ids, generation } = h.stableGroup(1);
  h.commitOne('t', 0, 1n, { memberId: ids[0], generationIdOrMemberEpoch: generation });
  h.commitOne('u', 0, 1n, { memberId: ids[0], generationIdOrMemberEpoch: generation });
  const refused = del('t', 0);
  assert.equal(refused.errorCode, ErrorCode.NONE);
  assert.equal(refused.topics[0].partitions[0].errorCode, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
  assert.equal(h.fetchOne('t', 0).committedOffset, 1n);
  assert.equal(del('u', 0).topics[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.equal(h.fetchOne('u', 0).committedOffset, -1n);
});

test('OffsetDelete on a non-empty group of another protocol type is NON_EMPTY_GROUP', () => {
  const h = new Harness();
  h.stableGroup(1, { protocolType: 'connect' });
  const res = h.apply(h.shard.deleteOffsets({ groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }] }));
  assert.equal(res.errorCode, ErrorCode.NON_EMPTY_GROUP);
});

test('DeleteGroups: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, and deleting an empty group with its offsets', () => {
  const h = new Harness();
  assert.equal(h.apply(h.shard.deleteGroup('g')), ErrorCode.GROUP_ID_NOT_FOUND);
  const { ids, generation } = h.stableGroup(1);
  h.commitOne('t', 0, 7n, { memberId: ids[0], generationIdOrMemberEpoch: generation });
  assert.equal(h.apply(h.shard.deleteGroup('g')), ErrorCode.NON_EMPTY_GROUP);
  h.leave({ memberId: ids[0] }, 1);
  assert.equal(h.apply(h.shard.deleteGroup('g')), ErrorCode.NONE);
  assert.equal(h.shard.groups.has('g'), false);
  assert.equal(h.fetchOne('t', 0).committedOffset, -1n);
  assert.equal(h.shard.describeGroup('g').groupState, 'Dead');
  // And it stays deleted after a reload from the log.
  h.reload();
  assert.equal(h.shard.groups.has('g'), false);
  assert.equal(h.fetchOne('t', 0).committedOffset, -1n);
});
