// Snapshots and log compaction (Raft §7, KIP-630): the application snapshots committed state when
// asked, the log below it is dropped, and a voter that fell behind the leader's log start gets the
// snapshot through FetchSnapshot, chunk by chunk, then fetches entries after it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import type { FetchSnapshotResponse } from '../../src/raft/messages.ts';
import { Cluster } from './harness.ts';

test('the leader asks for snapshots at committed offsets and compacts its log', () => {
  const c = new Cluster({ voters: [1, 2, 3], config: { snapshotMinEntries: 4 } });
  c.campaign(1);
  for (let i = 0; i < 10; i++) {
    c.propose(1, `e${i}`);
    c.tickAll(1);
  }
  const leader = c.node(1);
  const snap = leader.snapshot!;
  assert.ok(snap !== null && leader.logStartOffset === snap.id.endOffset);
  assert.ok(snap.id.endOffset <= leader.highWatermark, 'only committed state is snapshotted');
  assert.equal(snap.id.epoch, 1);
  assert.deepEqual(c.nodes.get(1)!.storage.durableSnapshot, snap);
  // A snapshot that is not of a committed position of this log is refused.
  assert.equal(leader.snapshotCreated({ endOffset: leader.logEndOffset + 5, epoch: 1 }, new Uint8Array()), false);
  assert.equal(leader.snapshotCreated({ endOffset: leader.highWatermark, epoch: 9 }, new Uint8Array()), false);
});

test('KIP-630: a lagging voter installs the leader\'s snapshot in chunks and catches up', () => {
  const c = new Cluster({ voters: [1, 2, 3], config: { snapshotMinEntries: 4, snapshotChunkBytes: 8 } });
  c.campaign(1);
  c.tickAll(2);
  c.isolate(3);
  for (let i = 0; i < 12; i++) {
    c.propose(1, `e${i}`);
    c.tickAll(1);
  }
  const leader = c.node(1);
  assert.ok(leader.logStartOffset > c.node(3).logEndOffset, 'node 3 is behind the leader\'s log start');
  c.heal();
  c.tickAll(25);
  const n3 = c.nodes.get(3)!;
  assert.equal(n3.restoredFrom.length, 1);
  const installed = n3.restoredFrom[0];
  const chunks = c.delivered.filter(
    (m) => m.to === 3 && m.body.type === 'FetchSnapshotResponse' && m.body.snapshotId.endOffset === installed.id.endOffset,
  );
  assert.ok(chunks.length > 1, 'the snapshot came in several chunks');
  assert.deepEqual(
    chunks.map((m) => (m.body as FetchSnapshotResponse).position),
    chunks.map((_, i) => i * 8),
  );
  assert.equal(c.node(3).highWatermark, leader.highWatermark);
  assert.deepEqual(n3.applied, c.nodes.get(1)!.applied);
  assert.deepEqual(c.logShape(3).slice(-3), c.logShape(1).slice(-3));
  assert.ok(c.node(3).logStartOffset >= installed.id.endOffset);
});

test('FetchSnapshot for a snapshot the leader no longer has, or past its end, is an error', () => {
  const c = new Cluster({ voters: [1, 2, 3], config: { snapshotMinEntries: 2 } });
  c.campaign(1);
  for (let i = 0; i < 4; i++) {
    c.propose(1, `e${i}`);
    c.tickAll(1);
  }
  const snap = c.node(1).snapshot!;
  const ask = (endOffset: number, position: number): FetchSnapshotResponse => {
    c.queue = [];
    c.node(1).step({
      from: 2,
      to: 1,
      correlationId: 5,
      body: {
        type: 'FetchSnapshotRequest',
        replicaId: 2,
        currentLeaderEpoch: 1,
        snapshotId: { endOffset, epoch: 1 },
        position,
        maxBytes: 1 << 20,
      },
    });
    c.flush(1);
    return c.queue.find((m) => m.to === 2 && m.correlationId === 5)!.body as FetchSnapshotResponse;
  };
  assert.equal(ask(snap.id.endOffset - 1, 0).errorCode, ErrorCode.SNAPSHOT_NOT_FOUND);
  assert.equal(ask(snap.id.endOffset, snap.data.length + 1).errorCode, ErrorCode.POSITION_OUT_OF_RANGE);
  const whole = ask(snap.id.endOffset, 0);
  assert.equal(whole.errorCode, ErrorCode.NONE);
  assert.equal(whole.size, snap.data.length);
  assert.deepEqual(whole.bytes, snap.data);
});

test('a restarted node restores the application from its own snapshot first', () => {
  const c = new Cluster({ voters: [1], config: { snapshotMinEntries: 3 } });
  c.campaign(1);
  for (let i = 0; i < 5; i++) {
    c.propose(1, `e${i}`);
    c.tick(1);
  }
  const before = c.nodes.get(1)!.applied.slice();
  c.crash(1);
  c.restart(1);
  const n = c.nodes.get(1)!;
  assert.equal(n.restoredFrom.length, 1);
  assert.equal(c.node(1).highWatermark, n.restoredFrom[0].id.endOffset);
  c.campaign(1);
  c.campaign(1);
  c.tick(1, 2);
  assert.deepEqual(n.applied.slice(0, before.length), before);
});
