// A deterministic simulation of a whole quorum, in the manner of Kafka's RaftEventSimulationTest
// and FoundationDB: one seed drives a virtual clock, an event queue, a lossy reordering network
// with partitions, disks that lose unsynced writes, crashes and restarts. The invariants are
// checked after every event; after the faulty phase the network heals and every node restarts,
// and a leader must commit a new entry that every node learns within a bounded virtual time. In
// some runs the leader is then killed for good, and the remaining majority must do the same
// without it (two followers losing a dead leader a few ticks apart must still elect one, KIP-996).

import type { Message } from '../../../src/raft/messages.ts';
import type { RaftNode } from '../../../src/raft/raft-node.ts';
import type { SnapshotId } from '../../../src/raft/types.ts';
import { EventQueue } from './event-queue.ts';
import { InvariantChecker, InvariantViolation } from './invariants.ts';
import { Prng } from './prng.ts';
import { drawFault, drawScenario, TICK, type Scenario } from './scenario.ts';
import { SimNetwork } from './sim-network.ts';
import { SimNode } from './sim-node.ts';
import { TraceHash } from './trace-hash.ts';

type SimEvent =
  | { kind: 'tick'; node: number; inc: number }
  | { kind: 'deliver'; msg: Message; inc: number }
  | { kind: 'sync'; node: number; inc: number }
  | { kind: 'snapshot'; node: number; inc: number; id: SnapshotId; data: Uint8Array }
  | { kind: 'crash'; node: number }
  | { kind: 'restart'; node: number }
  | { kind: 'heal' }
  | { kind: 'fault' }
  | { kind: 'propose' }
  | { kind: 'end-faults' }
  | { kind: 'kill-leader' };

export interface SimResult {
  seed: number;
  traceHash: string;
  events: number;
  /** Virtual time from the end of faults until every node had a new committed entry. */
  recoveryTime: number;
  maxEpoch: number;
  committed: number;
  messagesSent: number;
  messagesDropped: number;
  /** The leader killed for good after the faults, if this run did. */
  killedLeader: number | null;
}

export interface SimOptions {
  /** Receives one line per event (for replaying a seed by hand). */
  log?: (line: string) => void;
}

const MAX_EVENTS = 2_000_000;

export function runSimulation(seed: number, opts: SimOptions = {}): SimResult {
  return new Simulation(seed, opts).run();
}

class Simulation {
  readonly seed: number;
  readonly #rng: Prng;
  readonly #sc: Scenario;
  readonly #net: SimNetwork;
  readonly #nodes: SimNode[];
  readonly #checker: InvariantChecker;
  readonly #queue = new EventQueue<SimEvent>();
  readonly #hash = new TraceHash();
  readonly #log: ((line: string) => void) | undefined;
  #now = 0;
  #proposals = 0;
  /** The message being stepped: a vote answer in its ready is matched to it. */
  #delivering: Message | null = null;
  #faultsOver = false;
  /** Liveness probe: a proposal made after the faults ended. */
  #probe: { offset: number; epoch: number; key: string } | null = null;
  /** The leader killed for good after the faults (never restarted), once killed. */
  #killed: number | null = null;
  /** The run ends in failure when no event is left before this time. */
  #deadline = 0;

  constructor(seed: number, opts: SimOptions) {
    this.seed = seed;
    this.#log = opts.log;
    this.#rng = new Prng(seed);
    this.#sc = drawScenario(this.#rng);
    this.#net = new SimNetwork(this.#rng.fork(), { ...this.#sc.network });
    const ids = [...this.#sc.voters, ...this.#sc.observers];
    this.#nodes = ids.map((id) => new SimNode(id, this.#sc.voters, this.#sc.config, this.#rng.fork()));
    this.#checker = new InvariantChecker(this.#sc.voters.length);
  }

  run(): SimResult {
    const sc = this.#sc;
    this.#trace(() => `scenario ${JSON.stringify({ ...sc, config: sc.config })}`);
    for (const n of this.#nodes) this.#start(n);
    this.#queue.push(this.#rng.range(...sc.faultInterval), { kind: 'fault' });
    this.#queue.push(this.#rng.range(...sc.proposeInterval), { kind: 'propose' });
    this.#queue.push(sc.faultEnd, { kind: 'end-faults' });
    this.#deadline = sc.faultEnd + sc.livenessBound;
    let events = 0;
    for (;;) {
      const next = this.#queue.pop();
      if (next === undefined || next.time > this.#deadline) {
        throw new InvariantViolation(`liveness: no new entry committed on every node within ${sc.livenessBound} after faults ended (${this.#describe()})`);
      }
      if (++events > MAX_EVENTS) throw new InvariantViolation(`more than ${MAX_EVENTS} events`);
      this.#now = next.time;
      this.#hash.mix(next.time);
      this.#handle(next.event);
      this.#checker.check(this.#nodes);
      if (this.#livenessReached()) break;
    }
    let maxEpoch = 0;
    for (const n of this.#nodes) maxEpoch = Math.max(maxEpoch, n.raft?.epoch ?? 0);
    return {
      seed: this.seed,
      traceHash: this.#hash.hex,
      events,
      recoveryTime: this.#now - sc.faultEnd,
      maxEpoch,
      committed: this.#checker.committedEnd,
      messagesSent: this.#net.sent,
      messagesDropped: this.#net.dropped,
      killedLeader: this.#killed,
    };
  }

  #trace(line: () => string): void {
    if (this.#log !== undefined) this.#log(`${String(this.#now).padStart(6)} ${line()}`);
  }

  #describe(): string {
    return this.#nodes
      .map((n) => (n.raft === null ? `${n.id}:down` : `${n.id}:${n.raft.role}@${n.raft.epoch} hw=${n.raft.highWatermark} end=${n.raft.logEndOffset}`))
      .join(', ');
  }

  #node(id: number): SimNode {
    return this.#nodes.find((n) => n.id === id)!;
  }

  #start(n: SimNode): void {
    n.start();
    this.#trace(() => `start node ${n.id} (incarnation ${n.incarnation})`);
    this.#queue.push(this.#now + 1 + this.#rng.int(TICK), { kind: 'tick', node: n.id, inc: n.incarnation });
    this.#drain(n);
  }

  #handle(ev: SimEvent): void {
    this.#hash.mixString(ev.kind);
    switch (ev.kind) {
      case 'tick': {
        const n = this.#node(ev.node);
        if (n.raft === null || n.incarnation !== ev.inc) return;
        this.#queue.push(this.#now + TICK, ev);
        n.raft.tick();
        this.#drain(n);
        return;
      }
      case 'deliver': {
        const n = this.#node(ev.msg.to);
        const m = ev.msg;
        this.#hash.mix(m.from);
        this.#hash.mix(m.to);
        this.#hash.mix(m.correlationId);
        // Connections of a crashed node are gone: nothing sent to its old incarnation arrives.
        if (n.raft === null || n.incarnation !== ev.inc || !this.#net.canPass(m.from, m.to)) return;
        this.#trace(() => `${m.from}->${m.to} #${m.correlationId} ${summarize(m)}`);
        n.raft.step(m);
        this.#delivering = m;
        this.#drain(n);
        this.#delivering = null;
        return;
      }
      case 'sync': {
        const n = this.#node(ev.node);
        if (n.raft === null || n.incarnation !== ev.inc) return;
        n.syncPending = false;
        n.raft.onSynced(n.storage.sync());
        this.#drain(n);
        return;
      }
      case 'snapshot': {
        const n = this.#node(ev.node);
        if (n.raft === null || n.incarnation !== ev.inc) return;
        this.#hash.mix(n.raft.snapshotCreated(ev.id, ev.data) ? 1 : 0);
        this.#drain(n);
        return;
      }
      case 'crash': {
        const n = this.#node(ev.node);
        if (n.raft === null) return;
        this.#crash(n, this.#rng.range(1, 60));
        return;
      }
      case 'restart': {
        const n = this.#node(ev.node);
        if (n.raft === null && n.id !== this.#killed) this.#start(n);
        return;
      }
      case 'heal':
        this.#net.healAll();
        return;
      case 'fault':
        if (this.#faultsOver) return;
        this.#fault();
        this.#queue.push(this.#now + this.#rng.range(...this.#sc.faultInterval), ev);
        return;
      case 'propose':
        this.#propose();
        this.#queue.push(this.#now + this.#rng.range(...this.#sc.proposeInterval), ev);
        return;
      case 'end-faults':
        this.#faultsOver = true;
        this.#net.healAll();
        this.#net.faults = { ...this.#net.faults, dropRate: 0, duplicateRate: 0, spikeRate: 0 };
        this.#trace(() => 'faults end: network healed, crashed nodes restart');
        for (const n of this.#nodes) if (n.raft === null) this.#start(n);
        if (this.#sc.killLeaderAfterFaults) this.#queue.push(this.#now + this.#rng.range(20, 200) * TICK, { kind: 'kill-leader' });
        return;
      case 'kill-leader': {
        const leader = this.#leader();
        if (leader === null) {
          this.#queue.push(this.#now + 10 * TICK, ev);
          return;
        }
        const n = this.#node(leader.id);
        n.crash();
        this.#killed = n.id;
        this.#trace(() => `kill node ${n.id} for good`);
        // Liveness is now judged on the remaining nodes, with a fresh probe and a fresh bound.
        this.#probe = null;
        this.#deadline = this.#now + this.#sc.livenessBound;
        return;
      }
    }
  }

  /** Hands a node's outputs to its disk, the network and its application (Ready's contract). */
  #drain(n: SimNode): void {
    const raft = n.raft!;
    const rd = raft.ready();
    const h = this.#hash;
    h.mix(n.id);
    h.mix(rd.storage.length);
    h.mix(rd.messages.length);
    h.mix(rd.committed.length);
    h.mix(raft.epoch);
    h.mix(raft.highWatermark);
    if (rd.softState !== null) this.#trace(() => `node ${n.id} is ${rd.softState!.role} in epoch ${rd.softState!.epoch} (leader ${rd.softState!.leaderId})`);
    n.storage.apply(rd.storage);
    if (rd.mustSync) n.storage.sync();
    else if (n.storage.dirty && !n.syncPending) {
      n.syncPending = true;
      this.#queue.push(this.#now + this.#rng.range(...this.#sc.fsyncDelay), { kind: 'sync', node: n.id, inc: n.incarnation });
    }
    for (const m of rd.messages) {
      h.mixString(m.body.type);
      const req = this.#delivering;
      if (m.body.type === 'VoteResponse' && m.body.voteGranted && req?.body.type === 'VoteRequest' && !req.body.preVote && req.correlationId === m.correlationId) {
        this.#checker.onVoteGranted(m.from, m.body.leaderEpoch, m.to);
        // A crash right after voting is where a vote that was not made durable would be lost.
        if (!this.#faultsOver && this.#rng.chance(0.2)) this.#queue.push(this.#now, { kind: 'crash', node: n.id });
      }
      const to = this.#node(m.to);
      for (const d of this.#net.route(m)) this.#queue.push(this.#now + d, { kind: 'deliver', msg: m, inc: to.incarnation });
    }
    if (rd.restoreSnapshot !== null) {
      n.app.restore(rd.restoreSnapshot);
      this.#checker.onApplied(n, n.app.appliedTo, n.app.digest);
    }
    for (const e of rd.committed) {
      n.app.apply(e);
      this.#checker.onCommitted(n, e);
      this.#checker.onApplied(n, n.app.appliedTo, n.app.digest);
    }
    if (rd.snapshotRequest !== null) {
      const id = rd.snapshotRequest;
      const data = n.app.serialize();
      this.#queue.push(this.#now + this.#rng.range(...this.#sc.snapshotDelay), { kind: 'snapshot', node: n.id, inc: n.incarnation, id, data });
    }
  }

  #leader(): RaftNode | null {
    let best: RaftNode | null = null;
    for (const n of this.#nodes) {
      const r = n.raft;
      if (r !== null && r.role === 'leader' && (best === null || r.epoch > best.epoch)) best = r;
    }
    return best;
  }

  #propose(): void {
    const leader = this.#leader();
    if (leader === null) return;
    // After the faults, only probe: one entry, again only if a newer leader may have lost it.
    if (this.#faultsOver && this.#probe !== null && this.#probe.epoch >= leader.epoch) return;
    const key = `p${++this.#proposals}`;
    const r = leader.propose(new TextEncoder().encode(key));
    if (!r.ok) return;
    this.#trace(() => `node ${leader.id} proposes ${key} at ${r.offset}`);
    if (this.#faultsOver) this.#probe = { offset: r.offset, epoch: r.epoch, key };
    this.#drain(this.#node(leader.id));
  }

  #livenessReached(): boolean {
    const p = this.#probe;
    if (this.#sc.killLeaderAfterFaults && this.#killed === null) return false;
    if (p === null || this.#checker.committedKeyAt(p.offset) !== p.key) return false;
    return this.#nodes.every((n) => n.id === this.#killed || (n.raft !== null && n.raft.highWatermark > p.offset));
  }

  #crash(n: SimNode, downFor: number): void {
    n.crash();
    this.#trace(() => `crash node ${n.id}`);
    this.#queue.push(this.#now + downFor, { kind: 'restart', node: n.id });
  }

  #fault(): void {
    const rng = this.#rng;
    const ids = this.#nodes.map((n) => n.id);
    const action = drawFault(rng);
    this.#hash.mixString(action);
    switch (action) {
      case 'crash': {
        // Leaders and nodes that just voted are where lost writes hurt: aim at them often.
        const leader = this.#leader();
        const n = leader !== null && rng.chance(0.4) ? this.#node(leader.id) : rng.pick(this.#nodes);
        if (n.raft === null) return;
        this.#crash(n, rng.chance(0.5) ? rng.range(1, 60) : rng.range(50, 1500));
        return;
      }
      case 'isolate': {
        const x = rng.pick(ids);
        this.#net.partition([x], ids.filter((i) => i !== x));
        this.#trace(() => `isolate node ${x}`);
        this.#queue.push(this.#now + rng.range(100, 1500), { kind: 'heal' });
        return;
      }
      case 'split': {
        const a = ids.filter(() => rng.chance(0.5));
        this.#net.partition(a, ids.filter((i) => !a.includes(i)));
        this.#trace(() => `partition ${a.join(',')} from the rest`);
        this.#queue.push(this.#now + rng.range(100, 1500), { kind: 'heal' });
        return;
      }
      case 'one-way': {
        const from = rng.pick(ids);
        const to = rng.pick(ids);
        if (from !== to) this.#net.block(from, to);
        this.#trace(() => `block ${from} -> ${to}`);
        return;
      }
      case 'heal':
        this.#net.healAll();
        this.#trace(() => 'heal network');
        return;
      case 'resign': {
        const leader = this.#leader();
        if (leader === null) return;
        leader.resign();
        this.#trace(() => `node ${leader.id} resigns`);
        this.#drain(this.#node(leader.id));
        return;
      }
    }
  }
}

function summarize(m: Message): string {
  const b = m.body;
  switch (b.type) {
    case 'VoteRequest':
      return `${b.preVote ? 'PreVote' : 'Vote'}(epoch ${b.candidateEpoch}, last ${b.lastOffset}@${b.lastOffsetEpoch})`;
    case 'VoteResponse':
      return `VoteResponse(${b.voteGranted ? 'granted' : 'rejected'}, epoch ${b.leaderEpoch}, leader ${b.leaderId}, err ${b.errorCode})`;
    case 'FetchRequest':
      return `Fetch(epoch ${b.currentLeaderEpoch}, offset ${b.fetchOffset}@${b.lastFetchedEpoch})`;
    case 'FetchResponse': {
      const extra = b.divergingEpoch ? ` diverging ${b.divergingEpoch.endOffset}@${b.divergingEpoch.epoch}` : b.snapshotId ? ` snapshot ${b.snapshotId.endOffset}@${b.snapshotId.epoch}` : '';
      return `FetchResponse(err ${b.errorCode}, epoch ${b.leaderEpoch}, hw ${b.highWatermark}, ${b.entries.length} entries${extra})`;
    }
    case 'FetchSnapshotRequest':
      return `FetchSnapshot(${b.snapshotId.endOffset}@${b.snapshotId.epoch} from ${b.position})`;
    case 'FetchSnapshotResponse':
      return `FetchSnapshotResponse(err ${b.errorCode}, ${b.bytes.length} bytes at ${b.position} of ${b.size})`;
    default:
      return `${b.type}(epoch ${b.leaderEpoch}, leader ${b.leaderId})`;
  }
}
