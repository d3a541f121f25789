// Elections: Raft §5.2 (Election Safety), §5.4.1 (election restriction), KIP-595 (Vote,
// BeginQuorumEpoch, EndQuorumEpoch), KIP-996 (pre-vote) and check-quorum.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import type { Message, VoteResponse } from '../../src/raft/messages.ts';
import { Cluster, dataEntry, persisted } from './harness.ts';

function vote(from: number, to: number, epoch: number, lastOffset = 0, lastEpoch = 0, correlationId = 100): Message {
  return {
    from,
    to,
    correlationId,
    body: { type: 'VoteRequest', candidateEpoch: epoch, candidateId: from, lastOffsetEpoch: lastEpoch, lastOffset, preVote: false },
  };
}

/** Steps `msg` into its target and returns the answer it sends back. */
function ask(c: Cluster, msg: Message): VoteResponse {
  c.queue = [];
  c.node(msg.to).step(msg);
  c.flush(msg.to);
  const answer = c.queue.find((m) => m.to === msg.from && m.correlationId === msg.correlationId);
  c.queue = [];
  assert.ok(answer, 'an answer was sent');
  return answer.body as VoteResponse;
}

test('§5.2: a timed-out voter wins an election and every voter follows it in that epoch', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  assert.deepEqual(c.leaders(), [1]);
  assert.equal(c.node(1).epoch, 1);
  for (const id of [2, 3]) {
    assert.equal(c.node(id).role, 'follower');
    assert.equal(c.node(id).leaderId, 1);
    assert.equal(c.node(id).epoch, 1);
  }
  // KIP-595: the new leader announced itself with BeginQuorumEpoch.
  assert.ok(c.delivered.some((m) => m.body.type === 'BeginQuorumEpochRequest' && m.to === 2));
});

test('§5.2: a voter grants one vote per epoch, and the vote survives a crash', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  assert.equal(ask(c, vote(1, 2, 1)).voteGranted, true);
  assert.equal(c.node(2).votedFor, 1);
  assert.equal(ask(c, vote(3, 2, 1, 0, 0, 101)).voteGranted, false);
  // The vote was written with mustSync before the answer left: a restart keeps it.
  c.crash(2);
  c.restart(2);
  assert.equal(c.node(2).epoch, 1);
  assert.equal(c.node(2).votedFor, 1);
  assert.equal(ask(c, vote(3, 2, 1, 0, 0, 102)).voteGranted, false);
  // The same candidate asking again (a retransmission) gets the same answer.
  assert.equal(ask(c, vote(1, 2, 1, 0, 0, 103)).voteGranted, true);
  // A later epoch frees the vote (§5.1).
  assert.equal(ask(c, vote(3, 2, 2, 0, 0, 104)).voteGranted, true);
  assert.equal(ask(c, vote(1, 2, 1, 0, 0, 105)).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
});

test('§5.2: two candidates in one epoch split the votes; at most one of them leads it', () => {
  const c = new Cluster({ voters: [1, 2, 3, 4] });
  // Both time out together, win their pre-votes and become candidates in epoch 1.
  c.tick(1, 10);
  c.tick(2, 10);
  c.deliverAll();
  const candidates = new Set(
    c.delivered.filter((m) => m.body.type === 'VoteRequest' && !m.body.preVote && m.body.candidateEpoch === 1).map((m) => m.from),
  );
  assert.deepEqual([...candidates].sort(), [1, 2], 'both campaigned in epoch 1');
  const leadersOfEpoch1 = [1, 2, 3, 4].filter((id) => c.node(id).role === 'leader' && c.node(id).epoch === 1);
  assert.ok(leadersOfEpoch1.length <= 1);
  // Whatever happened, time sorts it out with a single leader.
  c.tickAll(60);
  const leaders = c.leaders();
  assert.equal(leaders.length, 1);
  const epoch = c.node(leaders[0]).epoch;
  for (const id of [1, 2, 3, 4]) assert.equal(c.node(id).epoch, epoch);
});

test('§5.4.1: a voter whose log is behind cannot win; the up-to-date voter does', () => {
  const longer = [dataEntry(0, 1, 'a'), dataEntry(1, 2, 'b')];
  const c = new Cluster({
    voters: [1, 2, 3],
    persisted: { 1: persisted(2, [dataEntry(0, 1, 'a')]), 2: persisted(2, longer), 3: persisted(2, longer) },
  });
  // Pre-votes are refused by both others (last epoch 1 < 2): node 1 never even bumps its epoch.
  c.campaign(1);
  assert.equal(c.node(1).role, 'prospective');
  assert.equal(c.node(1).epoch, 2);
  // A real vote is refused for the same reason, even though nobody voted in epoch 3 yet.
  const r = ask(c, vote(1, 3, 3, 1, 1));
  assert.equal(r.voteGranted, false);
  c.campaign(2);
  assert.deepEqual(c.leaders(), [2]);
  c.tickAll(3);
  // Leader Completeness: the entry at offset 1 (epoch 2) is on the new leader and now everywhere.
  assert.deepEqual(c.logShape(1), c.logShape(2));
  assert.equal(c.entries(1)[1].epoch, 2);
});

test('KIP-996: a partitioned voter keeps its epoch and does not disrupt the leader when it returns', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.tickAll(2);
  c.isolate(3);
  c.tickAll(200);
  // Without pre-vote, node 3 would be at epoch ~20 by now and depose the leader on return.
  assert.equal(c.node(3).epoch, 1);
  const fromIsolated = c.sent.filter((m) => m.from === 3 && m.body.type === 'VoteRequest');
  assert.ok(fromIsolated.length > 0, 'it kept trying');
  assert.ok(fromIsolated.every((m) => m.body.type === 'VoteRequest' && m.body.preVote), 'but only with pre-votes');
  c.heal();
  c.tickAll(30);
  assert.deepEqual(c.leaders(), [1]);
  assert.equal(c.node(1).epoch, 1);
  assert.equal(c.node(3).role, 'follower');
  assert.equal(c.node(3).leaderId, 1);
});

test('KIP-996: a follower refuses pre-votes while it hears from its leader', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.tickAll(2);
  const pre: Message = {
    from: 3,
    to: 2,
    correlationId: 77,
    body: { type: 'VoteRequest', candidateEpoch: 2, candidateId: 3, lastOffsetEpoch: 1, lastOffset: 1, preVote: true },
  };
  const r = ask(c, pre);
  assert.equal(r.voteGranted, false);
  assert.equal(r.leaderId, 1, 'the answer names the live leader');
  assert.equal(c.node(2).epoch, 1, 'a pre-vote changes nothing');
});

test('check-quorum: a leader cut off from a majority resigns within the fetch timeout', () => {
  const c = new Cluster({ voters: [1, 2, 3], jitter: { 3: 0.9 } });
  c.campaign(1);
  c.tickAll(2);
  c.isolate(1);
  c.tick(1, 20);
  assert.equal(c.node(1).role, 'resigned');
  assert.equal(c.node(1).propose(new Uint8Array([1])).ok, false);
  // The majority side elects a new leader; the old one follows it after the partition heals.
  c.tickAll(40);
  const [leader] = c.leaders();
  assert.equal(leader, 2);
  c.heal();
  c.tickAll(30);
  assert.deepEqual(c.leaders(), [leader]);
  assert.equal(c.node(1).leaderId, leader);
  assert.equal(c.node(1).epoch, c.node(leader).epoch);
});

test('check-quorum: a leader that still reaches a majority keeps leading', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.isolate(3);
  c.tickAll(100);
  assert.deepEqual(c.leaders(), [1]);
  assert.equal(c.node(1).epoch, 1);
});

test('KIP-595 EndQuorumEpoch: a resigning leader hands over to its most caught-up voter at once', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.tickAll(2);
  c.isolate(3);
  c.propose(1, 'x');
  c.tickAll(2);
  c.heal();
  c.node(1).resign();
  c.flush(1);
  c.deliverAll();
  const end = c.delivered.find((m) => m.body.type === 'EndQuorumEpochRequest');
  assert.ok(end && end.body.type === 'EndQuorumEpochRequest');
  assert.deepEqual(end.body.preferredSuccessors, [2, 3]);
  // The first preferred successor campaigns on its next tick, well before an election timeout.
  c.tickAll(2);
  assert.deepEqual(c.leaders(), [2]);
  assert.equal(c.node(2).epoch, 2);
});

test('single-voter quorum: the node elects itself and commits alone', () => {
  const c = new Cluster({ voters: [7] });
  c.campaign(7);
  assert.deepEqual(c.leaders(), [7]);
  const offset = c.propose(7, 'only');
  c.tick(7);
  assert.ok(c.node(7).highWatermark > offset);
  assert.deepEqual(c.nodes.get(7)!.applied, ['leader-change:7', 'only']);
});
