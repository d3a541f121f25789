// Observers (KIP-595): brokers that replicate the metadata log by fetching like followers but are
// not in controller.quorum.voters — they never vote, never campaign, and never count toward the
// majority that moves the high watermark.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import type { VoteResponse } from '../../src/raft/messages.ts';
import { Cluster } from './harness.ts';

test('an observer follows the leader and learns commits', () => {
  const c = new Cluster({ voters: [1, 2, 3], observers: [4] });
  c.campaign(1);
  c.tickAll(12);
  const o = c.node(4);
  assert.equal(o.isVoter, false);
  assert.equal(o.role, 'follower');
  assert.equal(o.leaderId, 1);
  c.propose(1, 'm');
  c.tickAll(2);
  assert.deepEqual(c.nodes.get(4)!.applied, ['leader-change:1', 'm']);
  // DescribeQuorum lists it apart from the voters.
  const q = c.node(1).describeQuorum()!;
  assert.deepEqual(q.currentVoters.map((r) => r.replicaId), [1, 2, 3]);
  assert.deepEqual(q.observers.map((r) => r.replicaId), [4]);
  assert.equal(q.observers[0].logEndOffset, c.node(1).logEndOffset);
  assert.equal(c.node(2).describeQuorum(), null);
});

test('an observer\'s fetches do not count toward the majority', () => {
  const c = new Cluster({ voters: [1, 2, 3], observers: [4] });
  c.campaign(1);
  c.tickAll(12);
  const hw = c.node(1).highWatermark;
  // Only the observer still reaches the leader (fewer ticks than the check-quorum timeout).
  c.filter = (m) => !([m.from, m.to].includes(1) && [m.from, m.to].some((x) => x === 2 || x === 3));
  const offset = c.propose(1, 'x');
  c.tickAll(8);
  assert.equal(c.node(4).logEndOffset, offset + 1, 'the observer has the entry');
  assert.equal(c.node(1).highWatermark, hw, 'leader + observer is not a majority of 3 voters');
  assert.ok(c.node(4).highWatermark <= offset);
  c.heal();
  // Followers resend their lost fetches after the request timeout; then it commits.
  c.tickAll(10);
  assert.deepEqual(c.leaders(), [1]);
  assert.ok(c.node(1).highWatermark > offset);
  assert.ok(c.node(4).highWatermark > offset);
});

test('an observer never votes or campaigns, and finds the next leader on its own', () => {
  // Jitter: voters 2 and 3 time out apart; the observer asks voter 2 where the leader is.
  const c = new Cluster({ voters: [1, 2, 3], observers: [4], jitter: { 3: 0.5, 4: 0.5 } });
  c.campaign(1);
  c.tickAll(12);
  c.queue = [];
  c.node(4).step({
    from: 2,
    to: 4,
    correlationId: 9,
    body: { type: 'VoteRequest', candidateEpoch: 2, candidateId: 2, lastOffsetEpoch: 1, lastOffset: 1, preVote: false },
  });
  c.flush(4);
  const answer = c.queue.find((m) => m.to === 2)!.body as VoteResponse;
  assert.equal(answer.voteGranted, false);
  assert.equal(answer.errorCode, ErrorCode.INCONSISTENT_VOTER_SET);
  c.queue = [];
  // The leader disappears: voters elect another, the observer only looks for it.
  c.crash(1);
  const roles = new Set<string>();
  for (let i = 0; i < 200; i++) {
    c.tickAll();
    roles.add(c.node(4).role);
  }
  assert.ok(!roles.has('prospective') && !roles.has('candidate') && !roles.has('leader'));
  assert.ok(c.delivered.every((m) => m.from !== 4 || m.body.type === 'FetchRequest' || m.body.type.endsWith('Response')));
  const [leader] = c.leaders();
  assert.ok(leader === 2 || leader === 3);
  assert.equal(c.node(4).leaderId, leader);
  assert.equal(c.node(4).epoch, c.node(leader).epoch);
});
