// Liveness after a leader dies (KIP-996 pre-vote, KIP-595 leader hints). A voter that has not yet
// timed out on the leader refuses a pre-vote and names that leader in its answer; the prospective
// voter must not go back to following a leader it has just timed out on because another voter
// says so — only that leader's own messages, or a later epoch, bring it back. Otherwise two
// followers that lose the leader a few ticks apart keep sending each other back to the dead one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.ts';

/** A 3-voter quorum led by node 1 with both followers fetching. */
function ledByNode1(): Cluster {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.tickAll(5);
  assert.deepEqual(c.leaders(), [1]);
  for (const id of [2, 3]) assert.equal(c.node(id).leaderId, 1);
  return c;
}

/** Ticks the running nodes together until one leads an epoch after `epoch`; returns the ticks used. */
function ticksToNewLeader(c: Cluster, epoch: number, max: number): number {
  for (let t = 1; t <= max; t++) {
    c.tickAll();
    const leaders = c.leaders().filter((id) => c.node(id).epoch > epoch);
    if (leaders.length > 0) return t;
  }
  return -1;
}

for (const gap of [1, 3, 5, 9]) {
  test(`KIP-996: followers that lose a crashed leader ${gap} ticks apart elect a new one`, () => {
    const c = ledByNode1();
    const epoch = c.node(1).epoch;
    c.crash(1);
    // Node 2's clock runs ahead, so its fetch timeout fires `gap` ticks before node 3's.
    c.tick(2, gap);
    c.deliverAll();
    // Fetch timeout 20, election timeout 10 (no jitter): a few rounds at most.
    const ticks = ticksToNewLeader(c, epoch, 150);
    assert.notEqual(ticks, -1, 'a new leader within 150 ticks');
    const [leader] = c.leaders();
    assert.ok(leader === 2 || leader === 3);
    const other = leader === 2 ? 3 : 2;
    c.tickAll(5);
    assert.equal(c.node(other).role, 'follower');
    assert.equal(c.node(other).leaderId, leader);
    assert.equal(c.node(other).epoch, c.node(leader).epoch);
  });
}

test('KIP-996: a refused pre-vote naming the lost leader is a rejection, not a reason to follow it', () => {
  const c = ledByNode1();
  const epoch = c.node(1).epoch;
  c.crash(1);
  c.tick(2, 5);
  c.deliverAll();
  // Node 2 times out first; node 3 still trusts node 1 and refuses, naming it.
  c.tickAll(16);
  assert.equal(c.node(3).role, 'follower');
  const refusal = c.delivered.find((m) => m.from === 3 && m.to === 2 && m.body.type === 'VoteResponse');
  assert.ok(refusal && refusal.body.type === 'VoteResponse');
  assert.equal(refusal.body.voteGranted, false);
  assert.equal(refusal.body.leaderId, 1);
  assert.equal(refusal.body.leaderEpoch, epoch);
  assert.equal(c.node(2).role, 'prospective');
  assert.equal(c.node(2).leaderId, null);
});

test('KIP-595: a prospective voter follows its old leader again when that leader itself answers', () => {
  const c = ledByNode1();
  const epoch = c.node(1).epoch;
  // Node 2 alone loses touch with the leader and times out; node 3 keeps fetching.
  c.filter = (m) => !((m.from === 1 && m.to === 2) || (m.from === 2 && m.to === 1));
  for (let i = 0; i < 25 && c.node(2).role === 'follower'; i++) c.tickAll();
  assert.equal(c.node(2).role, 'prospective');
  c.heal();
  // The leader refuses the pre-vote in its own name (or its BeginQuorumEpoch arrives): follow it.
  c.tickAll(30);
  assert.deepEqual(c.leaders(), [1]);
  assert.equal(c.node(1).epoch, epoch);
  assert.equal(c.node(2).role, 'follower');
  assert.equal(c.node(2).leaderId, 1);
});
