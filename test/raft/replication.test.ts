// Replication: Raft §5.3 (Log Matching), §5.4.2 (committing entries from previous terms, the
// Figure 8 scenario), KIP-595 (pull-based fetch, diverging epochs, high watermark) and the
// durability barrier between writing and acknowledging.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/raft/messages.ts';
import { Cluster, dataEntry, persisted } from './harness.ts';

const text = (e: { data: { type: string; payload?: Uint8Array } }): string =>
  e.data.type === 'data' ? new TextDecoder().decode(e.data.payload) : e.data.type;

test('§5.3 / KIP-595: a follower truncates a divergent suffix to where the logs agree, then matches', () => {
  const common = [dataEntry(0, 1, 'a'), dataEntry(1, 1, 'b')];
  const c = new Cluster({
    voters: [1, 2, 3],
    persisted: {
      1: persisted(3, [...common, dataEntry(2, 3, 'c'), dataEntry(3, 3, 'd')]),
      // Node 2 led epoch 2 and wrote entries no one else got.
      2: persisted(3, [...common, dataEntry(2, 2, 'x'), dataEntry(3, 2, 'y'), dataEntry(4, 2, 'z')]),
      3: persisted(3, [...common, dataEntry(2, 3, 'c')]),
    },
  });
  c.campaign(1);
  assert.deepEqual(c.leaders(), [1]);
  c.tickAll(3);
  const diverging = c.delivered.find((m) => m.to === 2 && m.body.type === 'FetchResponse' && m.body.divergingEpoch !== null);
  assert.ok(diverging && diverging.body.type === 'FetchResponse');
  // The leader's largest epoch <= 2 is epoch 1, which ends at offset 2.
  assert.deepEqual(diverging.body.divergingEpoch, { epoch: 1, endOffset: 2 });
  assert.deepEqual(c.logShape(2), c.logShape(1));
  assert.deepEqual(c.entries(2).map(text), ['a', 'b', 'c', 'd', 'leader-change']);
  // Everything up to the new epoch's LeaderChange is now committed on all three.
  for (const id of [1, 2, 3]) assert.equal(c.node(id).highWatermark, 5);
});

const carriesEpoch = (m: Message, epoch: number): boolean =>
  m.body.type === 'FetchResponse' && m.body.entries.some((e) => e.epoch === epoch);

/**
 * Raft Figure 8 with five voters. Epoch 2: S1 led and wrote 'b' at offset 1, reaching only S2.
 * Epoch 3: S5 led and wrote 'c' at offset 1, reaching no one. Now S5 is down and S1 wins epoch 4.
 */
function figure8(filter?: (m: Message) => boolean): Cluster {
  const a = dataEntry(0, 1, 'a');
  const c = new Cluster({
    voters: [1, 2, 3, 4, 5],
    config: { maxFetchEntries: 1 },
    persisted: {
      1: persisted(2, [a, dataEntry(1, 2, 'b')], 1),
      2: persisted(2, [a, dataEntry(1, 2, 'b')], 1),
      3: persisted(3, [a], 5),
      4: persisted(3, [a], 5),
      5: persisted(3, [a, dataEntry(1, 3, 'c')], 5),
    },
  });
  c.crash(5);
  if (filter !== undefined) c.filter = filter;
  // S1's first pre-vote learns of epoch 3 from S3/S4; the second round wins epoch 4.
  for (let i = 0; i < 3 && c.node(1).role !== 'leader'; i++) c.campaign(1);
  assert.equal(c.node(1).role, 'leader');
  assert.equal(c.node(1).epoch, 4);
  return c;
}

test('§5.4.2 (Figure 8): an old-epoch entry on a majority is not committed by counting replicas', () => {
  // S3 and S4 fetch 'b' (one entry per fetch), but nobody receives S1's epoch-4 LeaderChange.
  const c = figure8((m) => !carriesEpoch(m, 4));
  c.tickAll(3);
  for (const id of [1, 2, 3, 4]) assert.equal(text(c.entries(id)[1]), 'b');
  // 'b' is on four of five voters, yet it is from epoch 2: the HW stays below it.
  assert.ok(c.node(1).highWatermark <= 1);
  // S1 crashes; S5 (last epoch 3 beats 2) wins once the others have lost their leader.
  c.crash(1);
  for (const id of [2, 3, 4]) c.tick(id, 20);
  c.queue = [];
  c.restart(5);
  c.heal();
  c.campaign(5);
  c.campaign(5);
  assert.equal(c.node(5).role, 'leader');
  c.tickAll(3);
  // S5 overwrote 'b' with 'c' at offset 1 — allowed, because 'b' was never committed.
  for (const id of [2, 3, 4, 5]) assert.equal(text(c.entries(id)[1]), 'c');
  for (const [, n] of c.nodes) assert.ok(!n.applied.includes('b'), 'no node ever applied b');
  assert.ok(c.node(5).highWatermark > 2);
  assert.deepEqual(c.nodes.get(2)!.applied.slice(0, 2), ['a', 'c']);
});

test('§5.4.2: the old-epoch entry commits together with the new leader\'s first entry', () => {
  const c = figure8();
  c.tickAll(4);
  // The LeaderChange of epoch 4 (offset 2) reached a majority: 'b' below it is committed too.
  assert.equal(c.node(1).highWatermark, 3);
  for (const id of [1, 2, 3, 4]) assert.deepEqual(c.nodes.get(id)!.applied, ['a', 'b', 'leader-change:1']);
});

test('KIP-595: followers pull; the HW reaches them in fetch answers, never past their own log', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.tickAll(2);
  const offset = c.propose(1, 'v');
  c.deliverAll();
  // The leader pushes nothing: every entry a follower got answered one of its Fetch requests.
  const fetched = c.delivered.filter((m) => m.body.type === 'FetchResponse' && m.body.entries.length > 0);
  assert.ok(fetched.length > 0);
  assert.ok(c.delivered.every((m) => m.body.type !== 'FetchResponse' || m.from === 1));
  for (const id of [1, 2, 3]) {
    assert.ok(c.node(id).highWatermark > offset, `node ${id} learned the commit`);
    assert.ok(c.node(id).highWatermark <= c.node(id).logEndOffset);
    assert.deepEqual(c.nodes.get(id)!.applied, ['leader-change:1', 'v']);
  }
});

test('durability: a leader counts only its synced log; unsynced entries are lost on a crash', () => {
  const c = new Cluster({ voters: [1] });
  c.campaign(1);
  c.tick(1);
  const n = c.nodes.get(1)!;
  n.autoSync = false;
  const offset = c.propose(1, 'w');
  c.tick(1, 3);
  assert.equal(c.node(1).highWatermark, offset, 'not committed before the fsync');
  c.crash(1);
  c.restart(1);
  assert.equal(c.node(1).logEndOffset, offset, 'the unsynced entry is gone');
  // The same with an fsync: committed, and it survives the crash.
  n.autoSync = true;
  c.campaign(1);
  c.campaign(1);
  const again = c.propose(1, 'w2');
  c.tick(1);
  assert.ok(c.node(1).highWatermark > again);
  c.crash(1);
  c.restart(1);
  assert.equal(text(c.entries(1)[again]), 'w2');
});

test('a follower that restarts relearns the HW from the leader and re-applies in order', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.tickAll(2);
  for (const v of ['p', 'q']) c.propose(1, v);
  c.tickAll(2);
  c.crash(3);
  c.restart(3);
  assert.equal(c.node(3).highWatermark, 0, 'only a snapshot is known committed after a restart');
  assert.equal(c.node(3).role, 'follower', 'it resumes following the persisted leader');
  c.tickAll(6);
  assert.deepEqual(c.nodes.get(3)!.applied, c.nodes.get(1)!.applied);
});
