// The mutable state of one quorum member and the transitions every role shares. Roles follow
// KRaft's QuorumState: unattached (epoch known, no leader), prospective (KIP-996 pre-vote),
// candidate, leader, follower (voter or observer with a known leader), resigned (a leader that
// gave up its epoch). Only voters ever campaign or vote; observers fetch and nothing else.
//
// Durability rule: a change of epoch or vote is written (hard-state op, mustSync) before any
// message of this input leaves, so a restarted node can never vote twice in one epoch (§5.2) or
// see its epoch go back.

import { ErrorCode } from '../protocol/errors.ts';
import type { FetchRequest, Message, MessageBody } from './messages.ts';
import { NO_LEADER } from './messages.ts';
import { RaftLog } from './raft-log.ts';
import type { Entry, NodeId, PersistedState, RaftConfig, RandomSource, Role, SnapshotId, StorageOp } from './types.ts';

export interface ElectionState {
  preVote: boolean;
  /** The epoch campaigned for: epoch + 1 for a pre-vote, the (bumped) epoch for a real vote. */
  epoch: number;
  granted: Set<NodeId>;
  rejected: Set<NodeId>;
  /** Outstanding requests by voter: correlation id and tick sent. */
  pending: Map<NodeId, { correlationId: number; sentAt: number }>;
}

export interface ReplicaProgress {
  /** Validated fetch offset: the replica holds (durably) the leader's log up to here. -1: unknown. */
  endOffset: number;
  lastFetchTick: number;
  /** Last tick the replica fetched at (or past) the leader's end offset. */
  lastCaughtUpTick: number;
  /** The HW this replica can know from our last answer (min of HW sent and its end offset). */
  knownHw: number;
}

export interface ParkedFetch {
  correlationId: number;
  request: FetchRequest;
  deadline: number;
}

export interface LeaderState {
  /** Offset of this epoch's LeaderChange entry; the HW may only pass it (§5.4.2). */
  epochStartOffset: number;
  since: number;
  voters: Map<NodeId, ReplicaProgress>;
  observers: Map<NodeId, ReplicaProgress>;
  parked: Map<NodeId, ParkedFetch>;
  /** Voters not yet known to follow this epoch, with the tick BeginQuorumEpoch was last sent. */
  beginEpochPending: Map<NodeId, number>;
}

export interface FollowerState {
  inflight: { to: NodeId; correlationId: number; sentAt: number; fetchOffset: number; snapshot: boolean } | null;
  retryAt: number;
  download: { id: SnapshotId; chunks: Uint8Array[]; position: number } | null;
}

export interface Outbox {
  storage: StorageOp[];
  mustSync: boolean;
  messages: Message[];
  softStateChanged: boolean;
}

export interface Core {
  readonly id: NodeId;
  readonly voters: readonly NodeId[];
  readonly isVoter: boolean;
  readonly config: RaftConfig;
  readonly random: RandomSource;
  now: number;
  epoch: number;
  votedFor: NodeId | null;
  leaderId: NodeId | null;
  role: Role;
  log: RaftLog;
  highWatermark: number;
  /** The log is durable below this offset (all of it after a mustSync ready). */
  durableEnd: number;
  /** Committed entries below this offset were handed to the application. */
  appliedTo: number;
  nextCorrelationId: number;
  /** Voters without a leader start a pre-vote round at this tick. */
  electionDeadline: number;
  /** A follower considers its leader gone at this tick (reset by every answered fetch). */
  fetchDeadline: number;
  election: ElectionState | null;
  /** The leader a prospective voter timed out on, in that leader's epoch (KIP-996). Another
   *  voter naming it is no evidence it is alive: only its own messages bring this node back. */
  lostLeader: { id: NodeId; epoch: number } | null;
  leader: LeaderState | null;
  follower: FollowerState;
  snapshotRequested: SnapshotId | null;
  out: Outbox;
}

export function createCore(
  id: NodeId,
  voters: readonly NodeId[],
  config: RaftConfig,
  random: RandomSource,
  persisted: PersistedState,
): Core {
  const log = new RaftLog(persisted.snapshot, persisted.entries);
  const hs = persisted.hardState;
  const sorted = [...new Set(voters)].sort((a, b) => a - b);
  const core: Core = {
    id,
    voters: sorted,
    isVoter: sorted.includes(id),
    config,
    random,
    now: 0,
    epoch: hs.epoch,
    votedFor: hs.votedFor,
    leaderId: null,
    role: 'unattached',
    log,
    // Only the snapshot is known committed after a restart; the HW is relearned from the leader.
    highWatermark: log.startOffset,
    durableEnd: log.endOffset,
    appliedTo: 0,
    nextCorrelationId: 1,
    electionDeadline: 0,
    fetchDeadline: 0,
    election: null,
    lostLeader: null,
    leader: null,
    follower: { inflight: null, retryAt: 0, download: null },
    snapshotRequested: null,
    out: { storage: [], mustSync: false, messages: [], softStateChanged: true },
  };
  core.electionDeadline = randomElectionTimeout(core);
  if (hs.leaderId !== null && hs.leaderId === id && core.isVoter) {
    // A leader that restarted lost its leader state; it gives the epoch up (KRaft: Resigned).
    core.role = 'resigned';
  } else if (hs.leaderId !== null && hs.leaderId !== id) {
    core.role = 'follower';
    core.leaderId = hs.leaderId;
    core.fetchDeadline = config.fetchTimeoutTicks;
  }
  return core;
}

export function majority(core: Core): number {
  return Math.floor(core.voters.length / 2) + 1;
}

export function randomElectionTimeout(core: Core): number {
  const base = core.config.electionTimeoutTicks;
  return core.now + base + Math.floor(core.random() * base);
}

export function send(core: Core, to: NodeId, body: MessageBody, correlationId?: number): number {
  const cid = correlationId ?? core.nextCorrelationId++;
  core.out.messages.push({ from: core.id, to, correlationId: cid, body });
  return cid;
}

export function persistHardState(core: Core): void {
  core.out.storage.push({ op: 'hard-state', state: { epoch: core.epoch, votedFor: core.votedFor, leaderId: core.leaderId } });
  core.out.mustSync = true;
}

export function appendEntries(core: Core, entries: Entry[], sync: boolean): void {
  if (entries.length === 0) return;
  core.log.append(entries);
  core.out.storage.push({ op: 'append', entries });
  if (sync) core.out.mustSync = true;
}

export function truncateLog(core: Core, offset: number): void {
  if (offset >= core.log.endOffset) return;
  if (offset < core.highWatermark) {
    throw new Error(`raft ${core.id}: truncating to ${offset} below the high watermark ${core.highWatermark}`);
  }
  core.log.truncate(offset);
  core.durableEnd = Math.min(core.durableEnd, offset);
  core.out.storage.push({ op: 'truncate', offset });
}

/** Takes the fetches a leader was holding, to be answered once the new state is set. */
function takeParked(core: Core): [NodeId, ParkedFetch][] {
  if (core.leader === null) return [];
  const parked = [...core.leader.parked];
  core.leader.parked.clear();
  return parked;
}

/** Answers held fetches so their senders learn at once that this node no longer leads. */
export function releaseParked(core: Core, parked: [NodeId, ParkedFetch][]): void {
  for (const [replica, p] of parked) {
    send(core, replica, errorFetchResponse(core, ErrorCode.NOT_LEADER_OR_FOLLOWER), p.correlationId);
  }
}

export function leaveRole(core: Core): [NodeId, ParkedFetch][] {
  const parked = takeParked(core);
  core.election = null;
  core.leader = null;
  core.follower = { inflight: null, retryAt: core.now, download: null };
  core.out.softStateChanged = true;
  return parked;
}

/** No known leader in `epoch` (a later epoch clears the vote). */
export function becomeUnattached(core: Core, epoch: number, electionDeadline = randomElectionTimeout(core)): void {
  if (epoch < core.epoch) throw new Error(`raft ${core.id}: epoch ${epoch} is below ${core.epoch}`);
  const parked = leaveRole(core);
  if (epoch > core.epoch) core.votedFor = null;
  const changed = epoch !== core.epoch || core.leaderId !== null;
  core.epoch = epoch;
  core.leaderId = null;
  core.role = 'unattached';
  core.electionDeadline = electionDeadline;
  if (changed) persistHardState(core);
  releaseParked(core, parked);
}

export function becomeFollower(core: Core, epoch: number, leaderId: NodeId): void {
  if (epoch < core.epoch) throw new Error(`raft ${core.id}: epoch ${epoch} is below ${core.epoch}`);
  const parked = leaveRole(core);
  if (epoch > core.epoch) core.votedFor = null;
  core.epoch = epoch;
  core.leaderId = leaderId;
  core.lostLeader = null;
  core.role = 'follower';
  core.fetchDeadline = core.now + core.config.fetchTimeoutTicks;
  persistHardState(core);
  releaseParked(core, parked);
}

/**
 * Reacts to an epoch (and leader, -1 if unknown) seen in a message from `from`. A later epoch
 * always wins (Raft §5.1); a leader of the current epoch is followed by a node that knew of none —
 * except by a prospective voter when the leader named is the one it timed out on and the message
 * is not that leader's own (KIP-996: a voter that has not timed out yet refuses the pre-vote and
 * names the leader it still trusts; following that hint would send two voters that lost a dead
 * leader a few ticks apart back to it in turn, forever). Returns whether the state changed.
 */
export function observeEpoch(core: Core, epoch: number, leaderId: number, from: NodeId): boolean {
  const knownLeader = leaderId !== NO_LEADER && leaderId !== core.id;
  if (epoch > core.epoch) {
    if (knownLeader) becomeFollower(core, epoch, leaderId);
    else becomeUnattached(core, epoch);
    return true;
  }
  if (epoch === core.epoch && knownLeader && core.leaderId === null && core.role !== 'leader' && core.role !== 'resigned') {
    if (isLostLeaderHearsay(core, epoch, leaderId, from)) return false;
    becomeFollower(core, epoch, leaderId);
    return true;
  }
  return false;
}

function isLostLeaderHearsay(core: Core, epoch: number, leaderId: NodeId, from: NodeId): boolean {
  const lost = core.lostLeader;
  return core.role === 'prospective' && lost !== null && lost.id === leaderId && lost.epoch === epoch && from !== leaderId;
}

export function leaderIdOrNone(core: Core): number {
  return core.leaderId ?? NO_LEADER;
}

export function errorFetchResponse(core: Core, errorCode: number): MessageBody {
  return {
    type: 'FetchResponse',
    errorCode,
    leaderId: core.role === 'leader' ? core.id : leaderIdOrNone(core),
    leaderEpoch: core.epoch,
    highWatermark: -1,
    entries: [],
    divergingEpoch: null,
    snapshotId: null,
  };
}
