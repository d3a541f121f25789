// The state rebuilt from __consumer_offsets equals the state that wrote it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { Harness } from './harness.ts';

test('a stable group and its offsets survive a reload: generation, leader, assignments, static ids', () => {
  const h = new Harness();
  const a = h.join({ groupInstanceId: 'ia' });
  const b = h.joinNew();
  const ra = h.join({ memberId: a.response!.memberId, groupInstanceId: 'ia' });
  const gen = ra.response!.generationId;
  h.sync({ memberId: b.memberId, generationId: gen });
  h.sync({ memberId: ra.response!.memberId, generationId: gen, assignments: [
    { memberId: ra.response!.memberId, assignment: Buffer.from('A') }, { memberId: b.memberId, assignment: Buffer.from('B') },
  ] });
  h.commitOne('t', 0, 11n, { memberId: b.memberId, generationIdOrMemberEpoch: gen }, 8, { metadata: 'meta', leaderEpoch: 2 });
  const before = h.shard.describeGroup('g');
  h.reload();
  const after = h.shard.describeGroup('g');
  assert.equal(after.groupState, 'Stable');
  assert.deepEqual(after, before);
  const g = h.shard.classicGroup('g')!;
  assert.equal(g.generationId, gen);
  assert.equal(g.leaderId, ra.response!.memberId);
  assert.equal(g.memberByInstance('ia')?.memberId, ra.response!.memberId);
  assert.deepEqual(h.fetchOne('t', 0), { partitionIndex: 0, committedOffset: 11n, committedLeaderEpoch: 2, metadata: 'meta', errorCode: ErrorCode.NONE });
  // Members carry on where they were.
  assert.equal(h.heartbeat({ memberId: b.memberId, generationId: gen }), ErrorCode.NONE);
  assert.deepEqual(h.sync({ memberId: b.memberId, generationId: gen }).response!.assignment, Buffer.from('B'));
});

test('after a reload, loaded members that never come back expire and the group empties', () => {
  const h = new Harness();
  h.stableGroup(2, { sessionTimeoutMs: 10_000 });
  h.reload();
  assert.equal(h.state(), 'Stable');
  h.advance(10_000);
  assert.equal(h.state(), 'Empty');
  h.reload();
  assert.equal(h.state(), 'Empty');
});

test('a rebalance in flight is not durable: after a reload the last settled generation is back', () => {
  const h = new Harness();
  const { ids, generation } = h.stableGroup(2);
  h.joinNew();
  assert.equal(h.state(), 'PreparingRebalance');
  h.reload();
  assert.equal(h.state(), 'Stable');
  assert.equal(h.shard.classicGroup('g')!.generationId, generation);
  assert.deepEqual([...h.shard.classicGroup('g')!.members.keys()].sort(), [...ids].sort());
});
