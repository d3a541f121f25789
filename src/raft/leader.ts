// The leader's side of KRaft's pull replication (KIP-595): followers and observers send Fetch with
// their position; the leader checks the position against its log, records it, answers with
// entries, a diverging epoch or a snapshot id, and holds a fetch that has nothing new (long poll)
// until entries are appended, the high watermark moves, or the wait runs out.
//
// The high watermark is the largest offset that a majority of voters hold durably — the leader's
// own durable end offset and each voter's last validated fetch offset — and it only moves past
// the epoch's LeaderChange entry (Raft §5.4.2: never commit an earlier epoch's entry by counting
// replicas). Observers are answered the same way but are never counted.
//
// Check-quorum: a leader that has not had fetches from a majority of voters (itself included)
// within the fetch timeout resigns, so a partitioned leader stops acting as one.

import { ErrorCode } from '../protocol/errors.ts';
import type {
  Core,
  ReplicaProgress,
} from './core-state.ts';
import {
  appendEntries,
  errorFetchResponse,
  leaderIdOrNone,
  leaveRole,
  majority,
  observeEpoch,
  persistHardState,
  randomElectionTimeout,
  releaseParked,
  send,
} from './core-state.ts';
import type { FetchRequest, FetchSnapshotRequest, Message, BeginQuorumEpochResponse } from './messages.ts';
import type { NodeId } from './types.ts';

function newProgress(): ReplicaProgress {
  return { endOffset: -1, lastFetchTick: -Infinity, lastCaughtUpTick: -Infinity, knownHw: -1 };
}

/** Won the election (Raft §5.2): write LeaderChange and announce the epoch (BeginQuorumEpoch). */
export function becomeLeader(core: Core, grantingVoters: NodeId[]): void {
  leaveRole(core);
  core.role = 'leader';
  core.leaderId = core.id;
  persistHardState(core);
  const start = core.log.endOffset;
  const voters = new Map<NodeId, ReplicaProgress>();
  for (const v of core.voters) if (v !== core.id) voters.set(v, newProgress());
  core.leader = {
    epochStartOffset: start,
    since: core.now,
    voters,
    observers: new Map(),
    parked: new Map(),
    beginEpochPending: new Map(),
  };
  const data = { type: 'leader-change' as const, leaderId: core.id, voters: [...core.voters], grantingVoters };
  appendEntries(core, [{ offset: start, epoch: core.epoch, data }], false);
  for (const v of voters.keys()) sendBeginEpoch(core, v);
  maybeAdvanceHighWatermark(core);
}

function sendBeginEpoch(core: Core, voter: NodeId): void {
  core.leader!.beginEpochPending.set(voter, core.now);
  send(core, voter, { type: 'BeginQuorumEpochRequest', leaderId: core.id, leaderEpoch: core.epoch });
}

export function handleBeginQuorumEpochResponse(core: Core, msg: Message): void {
  const r = msg.body as BeginQuorumEpochResponse;
  observeEpoch(core, r.leaderEpoch, r.leaderId, msg.from);
  if (core.role === 'leader' && r.leaderEpoch === core.epoch && r.errorCode === ErrorCode.NONE) {
    core.leader!.beginEpochPending.delete(msg.from);
  }
}

/** Appends a data entry; only a leader (not a resigned one) accepts proposals. */
export function proposeEntry(core: Core, payload: Uint8Array): { offset: number; epoch: number } | null {
  if (core.role !== 'leader') return null;
  const offset = core.log.endOffset;
  appendEntries(core, [{ offset, epoch: core.epoch, data: { type: 'data', payload } }], false);
  completeParked(core);
  return { offset, epoch: core.epoch };
}

export function maybeAdvanceHighWatermark(core: Core): void {
  const leader = core.leader;
  if (leader === null || core.role !== 'leader') return;
  const offsets = [core.durableEnd];
  for (const p of leader.voters.values()) offsets.push(p.endOffset);
  offsets.sort((a, b) => b - a);
  const candidate = offsets[majority(core) - 1];
  if (candidate > core.highWatermark && candidate > leader.epochStartOffset) {
    core.highWatermark = candidate;
    completeParked(core);
  }
}

function progressOf(core: Core, replica: NodeId): ReplicaProgress {
  const leader = core.leader!;
  let p = leader.voters.get(replica) ?? leader.observers.get(replica);
  if (p === undefined) {
    p = newProgress();
    leader.observers.set(replica, p);
  }
  return p;
}

/** Whether a fetch at `fetchOffset` has something to return now: entries, or a newer HW. */
function hasNews(core: Core, p: ReplicaProgress, fetchOffset: number): boolean {
  return fetchOffset < core.log.endOffset || Math.min(core.highWatermark, fetchOffset) > p.knownHw;
}

/** Answers a fetch from the current log (validated again: the log may have been compacted). */
function answerFetch(core: Core, replica: NodeId, correlationId: number, req: FetchRequest): void {
  const v = core.log.validateFetch(req.fetchOffset, req.lastFetchedEpoch);
  const base = { type: 'FetchResponse' as const, errorCode: ErrorCode.NONE, leaderId: core.id, leaderEpoch: core.epoch };
  if (v.kind !== 'valid') {
    const divergingEpoch = v.kind === 'diverging' ? { epoch: v.epoch, endOffset: v.endOffset } : null;
    const snapshotId = v.kind === 'snapshot' ? v.snapshotId : null;
    send(core, replica, { ...base, highWatermark: core.highWatermark, entries: [], divergingEpoch, snapshotId }, correlationId);
    return;
  }
  const entries = core.log.slice(req.fetchOffset, req.fetchOffset + core.config.maxFetchEntries);
  const p = progressOf(core, replica);
  p.knownHw = Math.min(core.highWatermark, req.fetchOffset + entries.length);
  send(core, replica, { ...base, highWatermark: core.highWatermark, entries, divergingEpoch: null, snapshotId: null }, correlationId);
}

/** Answers held fetches that now have news or whose wait ran out. */
export function completeParked(core: Core): void {
  const leader = core.leader;
  if (leader === null) return;
  for (const [replica, f] of leader.parked) {
    if (f.deadline <= core.now || hasNews(core, progressOf(core, replica), f.request.fetchOffset)) {
      leader.parked.delete(replica);
      answerFetch(core, replica, f.correlationId, f.request);
    }
  }
}

export function handleFetchRequest(core: Core, msg: Message): void {
  const req = msg.body as FetchRequest;
  if (req.currentLeaderEpoch > core.epoch) observeEpoch(core, req.currentLeaderEpoch, -1, msg.from);
  if (core.role !== 'leader' || req.currentLeaderEpoch < core.epoch || req.replicaId === core.id) {
    const code = req.currentLeaderEpoch < core.epoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.NOT_LEADER_OR_FOLLOWER;
    send(core, msg.from, errorFetchResponse(core, code), msg.correlationId);
    return;
  }
  const leader = core.leader!;
  const p = progressOf(core, req.replicaId);
  p.lastFetchTick = core.now;
  leader.beginEpochPending.delete(req.replicaId);
  // A newer fetch supersedes a held one: its sender has given up on the old request.
  leader.parked.delete(req.replicaId);
  const v = core.log.validateFetch(req.fetchOffset, req.lastFetchedEpoch);
  if (v.kind === 'valid') {
    // A validated offset is durable on the replica (it syncs before fetching) and on this log.
    if (req.fetchOffset > p.endOffset) p.endOffset = req.fetchOffset;
    if (req.fetchOffset >= core.log.endOffset) p.lastCaughtUpTick = core.now;
    if (leader.voters.has(req.replicaId)) maybeAdvanceHighWatermark(core);
    if (!hasNews(core, p, req.fetchOffset) && req.maxWaitTicks > 0) {
      const deadline = core.now + req.maxWaitTicks;
      leader.parked.set(req.replicaId, { correlationId: msg.correlationId, request: req, deadline });
      return;
    }
  }
  answerFetch(core, req.replicaId, msg.correlationId, req);
}

/** FetchSnapshot (KIP-630): serves a chunk of the leader's latest snapshot. */
export function handleFetchSnapshotRequest(core: Core, msg: Message): void {
  const req = msg.body as FetchSnapshotRequest;
  if (req.currentLeaderEpoch > core.epoch) observeEpoch(core, req.currentLeaderEpoch, -1, msg.from);
  const reply = (errorCode: number, size = -1, position = -1, bytes: Uint8Array = new Uint8Array(0)): void => {
    const leaderId = core.role === 'leader' ? core.id : leaderIdOrNone(core);
    const body = { type: 'FetchSnapshotResponse' as const, errorCode, leaderId, leaderEpoch: core.epoch };
    send(core, msg.from, { ...body, snapshotId: req.snapshotId, size, position, bytes }, msg.correlationId);
  };
  if (core.role !== 'leader' || req.currentLeaderEpoch < core.epoch) {
    reply(req.currentLeaderEpoch < core.epoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.NOT_LEADER_OR_FOLLOWER);
    return;
  }
  progressOf(core, req.replicaId).lastFetchTick = core.now;
  const snap = core.log.snapshot;
  if (snap === null || snap.id.endOffset !== req.snapshotId.endOffset || snap.id.epoch !== req.snapshotId.epoch) {
    reply(ErrorCode.SNAPSHOT_NOT_FOUND);
    return;
  }
  if (req.position < 0 || req.position > snap.data.length) {
    reply(ErrorCode.POSITION_OUT_OF_RANGE);
    return;
  }
  const size = Math.max(1, Math.min(req.maxBytes, core.config.snapshotChunkBytes));
  reply(ErrorCode.NONE, snap.data.length, req.position, snap.data.subarray(req.position, req.position + size));
}

/**
 * Gives up the epoch (EndQuorumEpoch, KIP-595): voters are told, most caught-up first, so the
 * best successor campaigns at once. The node then waits an election timeout before campaigning.
 */
export function resign(core: Core): void {
  const leader = core.leader;
  if (leader === null || core.role !== 'leader') return;
  const successors = [...leader.voters]
    .sort((a, b) => b[1].endOffset - a[1].endOffset || a[0] - b[0])
    .map(([id]) => id);
  const parked = leaveRole(core);
  core.role = 'resigned';
  core.leaderId = null;
  core.electionDeadline = randomElectionTimeout(core);
  releaseParked(core, parked);
  for (const v of successors) {
    send(core, v, { type: 'EndQuorumEpochRequest', leaderId: core.id, leaderEpoch: core.epoch, preferredSuccessors: successors });
  }
}

export function leaderTick(core: Core): void {
  const leader = core.leader!;
  const timeout = core.config.fetchTimeoutTicks;
  if (core.now - leader.since >= timeout) {
    let live = 1;
    for (const p of leader.voters.values()) if (core.now - p.lastFetchTick < timeout) live++;
    if (live < majority(core)) {
      resign(core);
      return;
    }
  }
  maybeAdvanceHighWatermark(core);
  completeParked(core);
  for (const [voter, sentAt] of leader.beginEpochPending) {
    if (core.now - sentAt >= core.config.requestTimeoutTicks) sendBeginEpoch(core, voter);
  }
}

export interface ReplicaDescription {
  replicaId: NodeId;
  /** -1 when unknown. */
  logEndOffset: number;
  /** Tick of the last fetch; -1 for the leader itself or when unknown. */
  lastFetchTick: number;
  lastCaughtUpTick: number;
}

/** DescribeQuorum (API key 55, KIP-595): the leader's view of every replica. */
export interface QuorumDescription {
  leaderId: NodeId;
  leaderEpoch: number;
  highWatermark: number;
  currentVoters: ReplicaDescription[];
  observers: ReplicaDescription[];
}

export function describeQuorum(core: Core): QuorumDescription | null {
  const leader = core.leader;
  if (leader === null || core.role !== 'leader') return null;
  const describe = (id: NodeId, p: ReplicaProgress): ReplicaDescription => ({
    replicaId: id,
    logEndOffset: p.endOffset,
    lastFetchTick: Number.isFinite(p.lastFetchTick) ? p.lastFetchTick : -1,
    lastCaughtUpTick: Number.isFinite(p.lastCaughtUpTick) ? p.lastCaughtUpTick : -1,
  });
  const self = { replicaId: core.id, logEndOffset: core.log.endOffset, lastFetchTick: -1, lastCaughtUpTick: core.now };
  return {
    leaderId: core.id,
    leaderEpoch: core.epoch,
    highWatermark: core.highWatermark,
    currentVoters: [self, ...[...leader.voters].map(([id, p]) => describe(id, p))],
    observers: [...leader.observers].map(([id, p]) => describe(id, p)),
  };
}
