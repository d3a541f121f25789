// The Raft driver (src/raft/driver/raft-driver.ts) with three in-process nodes, an in-memory
// network and storage, and ticks given by the test (fastForward), not by a clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftNode } from '../../src/raft/raft-node.ts';
import { RaftDriver, type RaftStorage } from '../../src/raft/driver/raft-driver.ts';
import type { Entry, StorageOp } from '../../src/raft/types.ts';
import type { ResponseBody } from '../../src/raft/messages.ts';
import { seeded } from '../controller/helpers.ts';

class MemoryRaftStorage implements RaftStorage {
  endOffset = 0;
  async apply(ops: readonly StorageOp[]): Promise<void> {
    for (const op of ops) {
      if (op.op === 'append') this.endOffset = op.entries[op.entries.length - 1].offset + 1;
      else if (op.op === 'truncate') this.endOffset = Math.min(this.endOffset, op.offset);
      else if (op.op === 'snapshot') this.endOffset = Math.max(this.endOffset, op.snapshot.id.endOffset);
    }
  }
  async sync(): Promise<void> {}
}

function quorum(seed: number) {
  const down = new Set<number>();
  const drivers = new Map<number, RaftDriver>();
  const applied = new Map<number, Entry[]>();
  for (const id of [1, 2, 3]) {
    applied.set(id, []);
    const driver: RaftDriver = new RaftDriver({
      node: new RaftNode({ id, voters: [1, 2, 3], random: seeded(seed * 10 + id), config: { electionTimeoutTicks: 10, fetchTimeoutTicks: 20, requestTimeoutTicks: 5, fetchMaxWaitTicks: 2 } }),
      storage: new MemoryRaftStorage(),
      transport: {
        request: async (msg): Promise<ResponseBody | null> => {
          if (down.has(msg.to) || down.has(msg.from)) return null;
          const answer = await drivers.get(msg.to)!.receive(msg.from, msg.body as never);
          return down.has(msg.to) ? null : answer;
        },
      },
      app: { restore: () => undefined, apply: (entries) => applied.get(id)!.push(...entries) },
      tickMs: 50,
      answerTimeoutMs: 1000,
      log: () => undefined,
    });
    drivers.set(id, driver);
  }
  const leader = (among: number[]) => among.find((id) => drivers.get(id)!.node.role === 'leader');
  /** One tick on each listed node, in order, then a pause for messages in flight. */
  const tick = async (ids: number[]) => {
    for (const id of ids) await drivers.get(id)!.fastForward(() => false, 1);
    await new Promise((r) => setImmediate(r));
  };
  return { drivers, down, leader, tick, applied };
}

test('three drivers elect a leader, and a proposal commits on every node', async () => {
  const q = quorum(1);
  for (let i = 0; i < 200 && q.leader([1, 2, 3]) === undefined; i++) await q.tick([1, 2, 3]);
  const leaderId = q.leader([1, 2, 3]);
  assert.ok(leaderId !== undefined);
  const r = await q.drivers.get(leaderId)!.propose(new Uint8Array([1, 2, 3]));
  assert.ok(r.ok);
  for (let i = 0; i < 50 && [...q.applied.values()].some((a) => !a.some((e) => e.data.type === 'data')); i++) await q.tick([1, 2, 3]);
  for (const [id, entries] of q.applied) {
    const data = entries.filter((e) => e.data.type === 'data');
    assert.equal(data.length, 1, `node ${id} applied the proposal`);
    assert.equal(data[0].offset, r.ok ? r.offset : -1);
  }
  for (const d of q.drivers.values()) await d.stop();
});

test('two followers that lose their leader a few ticks apart still elect a new one (no return to the dead leader)', async () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const q = quorum(seed);
    for (let i = 0; i < 200 && q.leader([1, 2, 3]) === undefined; i++) await q.tick([1, 2, 3]);
    const old = q.leader([1, 2, 3])!;
    const [a, b] = [1, 2, 3].filter((id) => id !== old);
    // Let both follow for a while, then the leader dies; `a` runs a few ticks ahead of `b`.
    for (let i = 0; i < 10; i++) await q.tick([1, 2, 3]);
    q.down.add(old);
    for (let i = 0; i < 3; i++) await q.tick([a]);
    let next: number | undefined;
    for (let i = 0; i < 600 && next === undefined; i++) {
      await q.tick([a, b]);
      next = q.leader([a, b]);
    }
    assert.ok(next !== undefined, `seed ${seed}: a new leader among ${a} and ${b}`);
    assert.ok(q.drivers.get(next)!.node.epoch > q.drivers.get(old)!.node.epoch);
    for (const d of q.drivers.values()) await d.stop();
  }
});
