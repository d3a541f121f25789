// The log's epoch bookkeeping behind KIP-595's fetch validation (and KIP-101's
// OffsetForLeaderEpoch): end offsets per epoch, where a fetch position diverges, where a follower
// truncates, and how snapshots (KIP-630) cut the log.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftLog } from '../../src/raft/raft-log.ts';
import type { Entry, Snapshot } from '../../src/raft/types.ts';
import { dataEntry } from './harness.ts';

/** A log with the given epoch per offset, starting at `start`. */
function log(epochs: number[], snapshot: Snapshot | null = null): RaftLog {
  const start = snapshot?.id.endOffset ?? 0;
  return new RaftLog(snapshot, epochs.map((e, i) => dataEntry(start + i, e, `v${start + i}`)));
}

const snap = (endOffset: number, epoch: number): Snapshot => ({ id: { endOffset, epoch }, data: new Uint8Array([1]) });

test('endOffsetForEpoch: the largest epoch <= the asked one and where its entries end', () => {
  const l = log([1, 1, 3, 3, 3, 5]);
  assert.deepEqual(l.endOffsetForEpoch(1), { epoch: 1, endOffset: 2 });
  assert.deepEqual(l.endOffsetForEpoch(2), { epoch: 1, endOffset: 2 });
  assert.deepEqual(l.endOffsetForEpoch(3), { epoch: 3, endOffset: 5 });
  assert.deepEqual(l.endOffsetForEpoch(4), { epoch: 3, endOffset: 5 });
  assert.deepEqual(l.endOffsetForEpoch(9), { epoch: 5, endOffset: 6 });
  assert.deepEqual(l.endOffsetForEpoch(0), { epoch: 0, endOffset: 0 });
  const compacted = log([4, 5], snap(10, 3));
  assert.deepEqual(compacted.endOffsetForEpoch(3), { epoch: 3, endOffset: 10 });
  assert.equal(compacted.endOffsetForEpoch(2), null, 'inside the snapshot: unknown');
});

test('validateFetch: a position is valid when the leader holds that epoch up to it', () => {
  const l = log([1, 1, 3, 3, 3, 5]);
  assert.deepEqual(l.validateFetch(0, 0), { kind: 'valid' });
  assert.deepEqual(l.validateFetch(2, 1), { kind: 'valid' });
  assert.deepEqual(l.validateFetch(4, 3), { kind: 'valid' });
  assert.deepEqual(l.validateFetch(6, 5), { kind: 'valid' });
  // The follower has epoch-1 entries past offset 2: they diverge where the leader's epoch 1 ends.
  assert.deepEqual(l.validateFetch(4, 1), { kind: 'diverging', epoch: 1, endOffset: 2 });
  // Epoch 2 never existed here: the answer is the epoch below it.
  assert.deepEqual(l.validateFetch(4, 2), { kind: 'diverging', epoch: 1, endOffset: 2 });
  // Longer than the leader in the leader's own last epoch.
  assert.deepEqual(l.validateFetch(8, 5), { kind: 'diverging', epoch: 5, endOffset: 6 });
});

test('validateFetch: positions below the log start, or inside the snapshot\'s epochs, need the snapshot', () => {
  const l = log([4, 5], snap(10, 3));
  const s = { kind: 'snapshot', snapshotId: { endOffset: 10, epoch: 3 } };
  assert.deepEqual(l.validateFetch(0, 0), s);
  assert.deepEqual(l.validateFetch(9, 3), s);
  assert.deepEqual(l.validateFetch(10, 2), s);
  assert.deepEqual(l.validateFetch(10, 3), { kind: 'valid' });
  assert.deepEqual(l.validateFetch(11, 4), { kind: 'valid' });
  assert.deepEqual(l.validateFetch(11, 2), s);
});

test('truncationOffset: never past what both logs can share, never below the log start', () => {
  const follower = log([1, 1, 2, 2, 2]);
  assert.equal(follower.truncationOffset({ epoch: 1, endOffset: 2 }), 2);
  assert.equal(follower.truncationOffset({ epoch: 2, endOffset: 3 }), 3);
  // Leader's epoch ends later than ours: our own end for that epoch bounds it.
  assert.equal(follower.truncationOffset({ epoch: 1, endOffset: 4 }), 2);
  assert.equal(log([4], snap(10, 3)).truncationOffset({ epoch: 1, endOffset: 2 }), 10);
});

test('append rejects gaps and falling epochs; truncate and compact keep offsets', () => {
  const l = log([1, 2]);
  assert.throws(() => l.append([dataEntry(3, 2, 'gap')]), /does not follow/);
  assert.throws(() => l.append([dataEntry(2, 1, 'old')]), /below/);
  l.append([dataEntry(2, 2, 'c'), dataEntry(3, 4, 'd')]);
  l.truncate(3);
  assert.equal(l.endOffset, 3);
  assert.equal(l.lastEpoch, 2);
  l.compact(snap(2, 2));
  assert.equal(l.startOffset, 2);
  assert.equal(l.epochAt(1), 2, 'the snapshot remembers the epoch of its last entry');
  assert.deepEqual(l.slice(0, 10).map((e: Entry) => e.offset), [2]);
  assert.throws(() => l.compact(snap(3, 1)), /does not match/);
  assert.throws(() => l.truncate(1), /below start/);
});
