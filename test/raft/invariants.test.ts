// The simulation's checker must catch bad histories, or a green simulation means nothing
// (Jepsen's practice: test the checker on hand-made violations).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RaftNode } from '../../src/raft/raft-node.ts';
import { InvariantChecker, InvariantViolation, type NodeView } from './sim/invariants.ts';
import { MemoryStorage } from './sim/memory-storage.ts';
import { dataEntry } from './harness.ts';

interface Fake {
  role: string;
  epoch: number;
  highWatermark: number;
  logEndOffset: number;
}

function view(id: number, fake: Fake | null, storage = new MemoryStorage(), incarnation = 1): NodeView {
  return { id, isVoter: true, incarnation, raft: fake as unknown as RaftNode | null, storage };
}

const follower = (epoch: number, hw = 0, end = 10): Fake => ({ role: 'follower', epoch, highWatermark: hw, logEndOffset: end });

test('two leaders in one epoch are caught', () => {
  const c = new InvariantChecker(3);
  c.check([view(1, { ...follower(2), role: 'leader' }), view(2, follower(2))]);
  assert.throws(() => c.check([view(1, follower(2)), view(2, { ...follower(2), role: 'leader' })]), /both led epoch 2/);
});

test('an epoch or a high watermark going back is caught', () => {
  const c = new InvariantChecker(3);
  c.check([view(1, follower(3, 5))]);
  assert.throws(() => c.check([view(1, follower(2, 5))]), /epoch went back/);
  const d = new InvariantChecker(3);
  d.check([view(1, follower(3, 5))]);
  assert.throws(() => d.check([view(1, follower(3, 4))]), /high watermark went back/);
  // After a restart (new incarnation) the HW is relearned from a lower value: allowed.
  const e = new InvariantChecker(3);
  e.check([view(1, follower(3, 5))]);
  e.check([view(1, follower(3, 0), new MemoryStorage(), 2)]);
  assert.throws(() => e.check([view(1, follower(3, 11, 10))]), /past its log end/);
});

test('one offset committed with two different entries is caught', () => {
  const c = new InvariantChecker(3);
  c.onCommitted(view(1, null), dataEntry(0, 1, 'a'));
  c.onCommitted(view(2, null), dataEntry(0, 1, 'a'));
  assert.throws(() => c.onCommitted(view(3, null), dataEntry(0, 2, 'b')), InvariantViolation);
  c.onApplied(view(1, null), 1, 42);
  assert.throws(() => c.onApplied(view(2, null), 1, 43), /state at offset 1 differs/);
});

test('a committed entry held durably by only a minority is caught', () => {
  const c = new InvariantChecker(3);
  const disks = [new MemoryStorage(), new MemoryStorage(), new MemoryStorage()];
  const e = dataEntry(0, 1, 'a');
  disks[0].apply([{ op: 'append', entries: [e] }]);
  disks[0].sync();
  disks[1].apply([{ op: 'append', entries: [e] }]); // written, never synced
  c.onCommitted(view(1, null), e);
  assert.throws(() => c.check(disks.map((s, i) => view(i + 1, follower(1), s))), /durable on 1 voters/);
  disks[1].sync();
  c.check(disks.map((s, i) => view(i + 1, follower(1), s)));
});

test('two votes by one voter in one epoch are caught', () => {
  const c = new InvariantChecker(3);
  c.onVoteGranted(2, 5, 1);
  c.onVoteGranted(2, 5, 1);
  c.onVoteGranted(2, 6, 3);
  assert.throws(() => c.onVoteGranted(2, 5, 3), /voted for 1 and for 3 in epoch 5/);
});

test('memory storage loses exactly what was not synced', () => {
  const s = new MemoryStorage();
  s.apply([{ op: 'append', entries: [dataEntry(0, 1, 'a'), dataEntry(1, 1, 'b')] }]);
  s.sync();
  s.apply([{ op: 'truncate', offset: 1 }, { op: 'append', entries: [dataEntry(1, 2, 'c')] }]);
  s.apply([{ op: 'hard-state', state: { epoch: 2, votedFor: 3, leaderId: null } }]);
  s.crash();
  const p = s.load();
  assert.deepEqual(p.entries.map((e) => `${e.offset}@${e.epoch}`), ['0@1', '1@1']);
  assert.equal(p.hardState.epoch, 0);
});
