// One member of the metadata quorum as a pure state machine, in the style of etcd's raft: the
// driver feeds it messages (`step`), clock ticks (`tick`), proposals and storage results
// (`onSynced`, `snapshotCreated`), and drains what it must do with `ready()`. Nothing here reads
// a clock, a socket, a file or a global random source, so a seeded simulation can run a whole
// quorum — with crashes, lost writes and partitions — and replay it exactly.

import { becomeProspective, electionTick, handleVoteRequest, handleVoteResponse } from './election.ts';
import {
  handleBeginQuorumEpochRequest,
  handleEndQuorumEpochRequest,
  handleEndQuorumEpochResponse,
  handleFetchResponse,
  handleFetchSnapshotResponse,
  followerTick,
  maybeFetch,
} from './follower.ts';
import type { QuorumDescription } from './leader.ts';
import {
  completeParked,
  describeQuorum,
  handleBeginQuorumEpochResponse,
  handleFetchRequest,
  handleFetchSnapshotRequest,
  leaderTick,
  maybeAdvanceHighWatermark,
  proposeEntry,
  resign,
} from './leader.ts';
import type { Core } from './core-state.ts';
import { createCore } from './core-state.ts';
import type { Message } from './messages.ts';
import type { Entry, NodeId, PersistedState, RaftConfig, RandomSource, Ready, Role, Snapshot, SnapshotId } from './types.ts';
import { DEFAULT_RAFT_CONFIG } from './types.ts';

export interface RaftNodeOptions {
  id: NodeId;
  /** The static voter set (controller.quorum.voters); a node not in it is an observer. */
  voters: readonly NodeId[];
  /** Seeded in tests; any uniform [0, 1) source in production. */
  random: RandomSource;
  config?: Partial<RaftConfig>;
  /** What storage holds; omit for a brand-new node. */
  persisted?: PersistedState;
}

export type ProposeResult =
  | { ok: true; offset: number; epoch: number }
  | { ok: false; leaderId: NodeId | null; epoch: number };

export const EMPTY_PERSISTED_STATE: PersistedState = Object.freeze({
  hardState: { epoch: 0, votedFor: null, leaderId: null },
  snapshot: null,
  entries: [],
});

export class RaftNode {
  readonly #core: Core;

  constructor(opts: RaftNodeOptions) {
    const config = { ...DEFAULT_RAFT_CONFIG, ...opts.config };
    this.#core = createCore(opts.id, opts.voters, config, opts.random, opts.persisted ?? EMPTY_PERSISTED_STATE);
  }

  get id(): NodeId {
    return this.#core.id;
  }
  get isVoter(): boolean {
    return this.#core.isVoter;
  }
  get role(): Role {
    return this.#core.role;
  }
  get epoch(): number {
    return this.#core.epoch;
  }
  get votedFor(): NodeId | null {
    return this.#core.votedFor;
  }
  get leaderId(): NodeId | null {
    return this.#core.leaderId;
  }
  get highWatermark(): number {
    return this.#core.highWatermark;
  }
  get logStartOffset(): number {
    return this.#core.log.startOffset;
  }
  get logEndOffset(): number {
    return this.#core.log.endOffset;
  }
  /** Ticks since this node started. */
  get now(): number {
    return this.#core.now;
  }
  get snapshot(): Snapshot | null {
    return this.#core.log.snapshot;
  }
  /** Entries held in [from, to) (committed or not). */
  entries(from: number, to: number): Entry[] {
    return this.#core.log.slice(from, to);
  }

  /** One unit of time passed. */
  tick(): void {
    const core = this.#core;
    core.now += 1;
    switch (core.role) {
      case 'leader':
        leaderTick(core);
        break;
      case 'follower':
        followerTick(core);
        break;
      case 'prospective':
      case 'candidate':
        electionTick(core);
        break;
      case 'unattached':
      case 'resigned':
        followerTick(core);
        if (core.isVoter && core.now >= core.electionDeadline) becomeProspective(core);
        break;
    }
    maybeFetch(core);
  }

  step(msg: Message): void {
    const core = this.#core;
    if (msg.to !== core.id) return;
    switch (msg.body.type) {
      case 'VoteRequest':
        handleVoteRequest(core, msg);
        break;
      case 'VoteResponse':
        handleVoteResponse(core, msg);
        break;
      case 'BeginQuorumEpochRequest':
        handleBeginQuorumEpochRequest(core, msg);
        break;
      case 'BeginQuorumEpochResponse':
        handleBeginQuorumEpochResponse(core, msg);
        break;
      case 'EndQuorumEpochRequest':
        handleEndQuorumEpochRequest(core, msg);
        break;
      case 'EndQuorumEpochResponse':
        handleEndQuorumEpochResponse(core, msg);
        break;
      case 'FetchRequest':
        handleFetchRequest(core, msg);
        break;
      case 'FetchResponse':
        handleFetchResponse(core, msg);
        break;
      case 'FetchSnapshotRequest':
        handleFetchSnapshotRequest(core, msg);
        break;
      case 'FetchSnapshotResponse':
        handleFetchSnapshotResponse(core, msg);
        break;
    }
    maybeFetch(core);
  }

  /** Appends an entry if this node leads; it is committed once the HW passes its offset with
   *  the same epoch at that offset (a later leader may have replaced it otherwise). */
  propose(payload: Uint8Array): ProposeResult {
    const core = this.#core;
    const r = proposeEntry(core, payload);
    if (r === null) return { ok: false, leaderId: core.leaderId, epoch: core.epoch };
    return { ok: true, ...r };
  }

  /** Graceful resignation (EndQuorumEpoch), e.g. before a controlled shutdown. */
  resign(): void {
    resign(this.#core);
  }

  /** Storage result: the log is durable below `logEndOffset` (an fsync finished). */
  onSynced(logEndOffset: number): void {
    const core = this.#core;
    const durable = Math.min(logEndOffset, core.log.endOffset);
    if (durable > core.durableEnd) core.durableEnd = durable;
    maybeAdvanceHighWatermark(core);
  }

  /**
   * Storage result: the application serialized its state at `id` (asked for by
   * `Ready.snapshotRequest`, or on its own). The log below `id.endOffset` is then dropped.
   * Returns false (and keeps nothing) if `id` is not a position of the current log that was
   * already handed over as committed.
   */
  snapshotCreated(id: SnapshotId, data: Uint8Array): boolean {
    const core = this.#core;
    const req = core.snapshotRequested;
    if (req !== null && req.endOffset <= id.endOffset) core.snapshotRequested = null;
    const log = core.log;
    // The application can only serialize a state it has: at most what it was handed (appliedTo).
    if (id.endOffset <= log.startOffset || id.endOffset > core.appliedTo || log.epochAt(id.endOffset - 1) !== id.epoch) {
      return false;
    }
    const snapshot = { id: { ...id }, data };
    log.compact(snapshot);
    core.out.storage.push({ op: 'snapshot', snapshot });
    core.out.mustSync = true;
    completeParked(core);
    return true;
  }

  /** DescribeQuorum as answered by the leader; null on any other node (NOT_LEADER_OR_FOLLOWER). */
  describeQuorum(): QuorumDescription | null {
    return describeQuorum(this.#core);
  }

  /** Drains the outputs accumulated since the last call (see `Ready` for the driver's duties). */
  ready(): Ready {
    const core = this.#core;
    const out = core.out;
    const log = core.log;
    let restoreSnapshot: Snapshot | null = null;
    if (core.appliedTo < log.startOffset) {
      restoreSnapshot = log.snapshot;
      core.appliedTo = log.startOffset;
    }
    const committed = core.highWatermark > core.appliedTo ? log.slice(core.appliedTo, core.highWatermark) : [];
    if (core.highWatermark > core.appliedTo) core.appliedTo = core.highWatermark;
    let snapshotRequest: SnapshotId | null = null;
    const every = core.config.snapshotMinEntries;
    if (every > 0 && core.snapshotRequested === null && core.appliedTo - log.startOffset >= every) {
      snapshotRequest = { endOffset: core.appliedTo, epoch: log.epochAt(core.appliedTo - 1)! };
      core.snapshotRequested = snapshotRequest;
    }
    const ready: Ready = {
      storage: out.storage,
      mustSync: out.mustSync,
      messages: out.messages,
      restoreSnapshot,
      committed,
      snapshotRequest,
      softState: out.softStateChanged ? { role: core.role, epoch: core.epoch, leaderId: core.leaderId } : null,
    };
    // After a synced ready everything written so far is durable before the next input.
    if (out.mustSync) core.durableEnd = log.endOffset;
    core.out = { storage: [], mustSync: false, messages: [], softStateChanged: false };
    return ready;
  }
}
