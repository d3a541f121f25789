// A hand-driven quorum for scripted scenarios (etcd raft's network-of-nodes test style): messages
// wait in one FIFO queue until `deliverAll`, time moves only when a test ticks a node, a filter
// decides which messages get through, and disks sync at once unless a node is set to sync by hand.
// The application applies committed entries to a list of strings and snapshots that list.

import { RaftNode } from '../../src/raft/raft-node.ts';
import type { Message } from '../../src/raft/messages.ts';
import type { Entry, PersistedState, RaftConfig, Snapshot } from '../../src/raft/types.ts';
import { entryKey } from './sim/invariants.ts';
import { MemoryStorage } from './sim/memory-storage.ts';

export interface ClusterOptions {
  voters: number[];
  observers?: number[];
  config?: Partial<RaftConfig>;
  /** The value each node's random source returns (default 0: every timeout is the base). */
  jitter?: Record<number, number>;
  /** Initial disk contents per node (e.g. a divergent log). */
  persisted?: Record<number, PersistedState>;
}

export interface TestNode {
  raft: RaftNode | null;
  storage: MemoryStorage;
  /** The application state: committed entry keys (data payloads, `leader-change:<id>`). */
  applied: string[];
  restoredFrom: Snapshot[];
  /** When false, writes not covered by mustSync wait for `sync(id)`. */
  autoSync: boolean;
}

export const TEST_CONFIG: Partial<RaftConfig> = {
  electionTimeoutTicks: 10,
  fetchTimeoutTicks: 20,
  fetchMaxWaitTicks: 5,
  requestTimeoutTicks: 8,
  retryBackoffTicks: 1,
};

export class Cluster {
  readonly nodes = new Map<number, TestNode>();
  readonly voters: number[];
  readonly #config: Partial<RaftConfig>;
  readonly #jitter: Record<number, number>;
  queue: Message[] = [];
  /** Every message handed to a node, in order. */
  delivered: Message[] = [];
  /** Every message a node sent (delivered or not), in order. */
  sent: Message[] = [];
  /** Return false to drop a message (partitions). */
  filter: (m: Message) => boolean = () => true;

  constructor(opts: ClusterOptions) {
    this.voters = opts.voters;
    this.#config = { ...TEST_CONFIG, ...opts.config };
    this.#jitter = opts.jitter ?? {};
    for (const id of [...opts.voters, ...(opts.observers ?? [])]) {
      const storage = new MemoryStorage();
      const p = opts.persisted?.[id];
      if (p !== undefined) {
        storage.apply([{ op: 'hard-state', state: p.hardState }]);
        if (p.snapshot !== null) storage.apply([{ op: 'snapshot', snapshot: p.snapshot }]);
        storage.apply([{ op: 'append', entries: p.entries }]);
        storage.sync();
      }
      this.nodes.set(id, { raft: null, storage, applied: [], restoredFrom: [], autoSync: true });
      this.restart(id);
    }
  }

  node(id: number): RaftNode {
    const r = this.nodes.get(id)!.raft;
    if (r === null) throw new Error(`node ${id} is down`);
    return r;
  }

  restart(id: number): void {
    const n = this.nodes.get(id)!;
    // Timeouts are fixed per node: tests choose who campaigns by ticking it or by its jitter.
    const r = this.#jitter[id] ?? 0;
    n.raft = new RaftNode({ id, voters: this.voters, config: this.#config, random: () => r, persisted: n.storage.load() });
    n.applied = [];
    this.flush(id);
  }

  crash(id: number): void {
    const n = this.nodes.get(id)!;
    n.raft = null;
    n.storage.crash();
    this.queue = this.queue.filter((m) => m.to !== id);
  }

  /** Drains a node's ready the way a driver must (storage, sync, send, apply, snapshot). */
  flush(id: number): void {
    const n = this.nodes.get(id)!;
    const raft = n.raft!;
    const rd = raft.ready();
    n.storage.apply(rd.storage);
    if (rd.mustSync) n.storage.sync();
    this.queue.push(...rd.messages);
    this.sent.push(...rd.messages);
    if (rd.restoreSnapshot !== null) {
      n.restoredFrom.push(rd.restoreSnapshot);
      n.applied = JSON.parse(new TextDecoder().decode(rd.restoreSnapshot.data)) as string[];
    }
    for (const e of rd.committed) n.applied.push(entryKey(e));
    if (rd.snapshotRequest !== null) {
      raft.snapshotCreated(rd.snapshotRequest, new TextEncoder().encode(JSON.stringify(n.applied)));
      this.flush(id);
    }
    if (n.autoSync && n.storage.dirty) {
      raft.onSynced(n.storage.sync());
      this.flush(id);
    }
  }

  sync(id: number): void {
    const n = this.nodes.get(id)!;
    n.raft!.onSynced(n.storage.sync());
    this.flush(id);
  }

  tick(id: number, times = 1): void {
    for (let i = 0; i < times; i++) {
      if (this.nodes.get(id)!.raft === null) return;
      this.node(id).tick();
      this.flush(id);
    }
  }

  /** Ticks every running node once and delivers everything, `times` times. */
  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const id of this.nodes.keys()) this.tick(id);
      this.deliverAll();
    }
  }

  deliverAll(limit = 100_000): void {
    let steps = 0;
    while (this.queue.length > 0) {
      if (++steps > limit) throw new Error('messages keep flowing: no quiescence');
      const m = this.queue.shift()!;
      const target = this.nodes.get(m.to);
      if (target === undefined || target.raft === null || !this.filter(m)) continue;
      this.delivered.push(m);
      target.raft.step(m);
      this.flush(m.to);
    }
  }

  /** Cuts `id` off from every other node (both directions). */
  isolate(...ids: number[]): void {
    const prev = this.filter;
    this.filter = (m) => prev(m) && !ids.includes(m.from) && !ids.includes(m.to);
  }

  heal(): void {
    this.filter = () => true;
  }

  /** Ticks `id` until its election timeout fires, then lets the election run. */
  campaign(id: number): void {
    const timeout = this.#config.electionTimeoutTicks!;
    this.tick(id, timeout);
    this.deliverAll();
  }

  propose(id: number, text: string): number {
    const r = this.node(id).propose(new TextEncoder().encode(text));
    if (!r.ok) throw new Error(`node ${id} is not the leader`);
    this.flush(id);
    return r.offset;
  }

  leaders(): number[] {
    return [...this.nodes].filter(([, n]) => n.raft?.role === 'leader').map(([id]) => id);
  }

  entries(id: number): Entry[] {
    const r = this.node(id);
    return r.entries(r.logStartOffset, r.logEndOffset);
  }

  /** `offset@epoch` of every entry held, for comparing logs. */
  logShape(id: number): string[] {
    return this.entries(id).map((e) => `${e.offset}@${e.epoch}`);
  }
}

export function dataEntry(offset: number, epoch: number, text: string): Entry {
  return { offset, epoch, data: { type: 'data', payload: new TextEncoder().encode(text) } };
}

export function persisted(epoch: number, entries: Entry[], votedFor: number | null = null): PersistedState {
  return { hardState: { epoch, votedFor, leaderId: null }, snapshot: null, entries };
}
