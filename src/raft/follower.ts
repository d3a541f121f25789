// The fetching side of KRaft (KIP-595, KIP-630), shared by follower voters and observers: one
// fetch in flight at a time, matched by correlation id; each answer moves the log and HW, then the
// next fetch goes out in the same ready (after the fsync that makes the new fetch offset true).
//
// - entries: appended after the fetch offset; HW = min(leader's HW, own end offset) — below the
//   end offset the log equals the leader's, since the leader validated the fetch position.
// - diverging epoch: truncate to where the logs can still agree, fetch again (KIP-595).
// - snapshot id: download it chunk by chunk with FetchSnapshot, then replace the log (KIP-630).
//
// Also the receiving end of BeginQuorumEpoch (a new leader) and EndQuorumEpoch (a resignation).

import { ErrorCode } from '../protocol/errors.ts';
import type { Core } from './core-state.ts';
import {
  appendEntries,
  becomeFollower,
  becomeUnattached,
  leaderIdOrNone,
  observeEpoch,
  randomElectionTimeout,
  send,
  truncateLog,
} from './core-state.ts';
import { becomeProspective } from './election.ts';
import type {
  BeginQuorumEpochRequest,
  EndQuorumEpochRequest,
  EndQuorumEpochResponse,
  FetchResponse,
  FetchSnapshotResponse,
  Message,
} from './messages.ts';
import { NO_LEADER } from './messages.ts';
import type { Snapshot, SnapshotId } from './types.ts';

/** Sends the next Fetch or FetchSnapshot if none is in flight; observers without a leader ask a
 *  random voter, whose error answer names the leader. */
export function maybeFetch(core: Core): void {
  const f = core.follower;
  if (f.inflight !== null || core.now < f.retryAt) return;
  let to: number;
  if (core.role === 'follower' && core.leaderId !== null) to = core.leaderId;
  else if (!core.isVoter && core.role === 'unattached' && core.voters.length > 0) {
    to = core.voters[Math.floor(core.random() * core.voters.length)];
  } else return;
  const sentAt = core.now;
  if (f.download !== null) {
    const body = {
      type: 'FetchSnapshotRequest' as const,
      replicaId: core.id,
      currentLeaderEpoch: core.epoch,
      snapshotId: f.download.id,
      position: f.download.position,
      maxBytes: core.config.snapshotChunkBytes,
    };
    f.inflight = { to, correlationId: send(core, to, body), sentAt, fetchOffset: -1, snapshot: true };
    return;
  }
  const fetchOffset = core.log.endOffset;
  const body = {
    type: 'FetchRequest' as const,
    replicaId: core.id,
    currentLeaderEpoch: core.epoch,
    fetchOffset,
    lastFetchedEpoch: core.log.lastEpoch,
    maxWaitTicks: core.role === 'follower' ? core.config.fetchMaxWaitTicks : 0,
  };
  f.inflight = { to, correlationId: send(core, to, body), sentAt, fetchOffset, snapshot: false };
}

export function followerTick(core: Core): void {
  const f = core.follower;
  if (f.inflight !== null && core.now - f.inflight.sentAt >= core.config.requestTimeoutTicks) f.inflight = null;
  if (core.role === 'follower' && core.now >= core.fetchDeadline) {
    // The leader went quiet: a voter asks for pre-votes, an observer looks for the leader again.
    if (core.isVoter) becomeProspective(core);
    else becomeUnattached(core, core.epoch);
  }
}

/** Takes the in-flight request this answer belongs to, or null for a stale or unknown answer. */
function matchInflight(core: Core, msg: Message, snapshot: boolean): boolean {
  const inf = core.follower.inflight;
  if (inf === null || inf.correlationId !== msg.correlationId || inf.to !== msg.from || inf.snapshot !== snapshot) return false;
  core.follower.inflight = null;
  return true;
}

/** Common handling of the leader fields; returns whether the answer is a success to act on. */
function acceptAnswer(core: Core, msg: Message, r: { errorCode: number; leaderId: number; leaderEpoch: number }): boolean {
  if (observeEpoch(core, r.leaderEpoch, r.leaderId, msg.from)) return false;
  const backoff = (): false => {
    core.follower.retryAt = core.now + core.config.retryBackoffTicks;
    return false;
  };
  if (r.leaderEpoch < core.epoch) return backoff();
  if (r.errorCode !== ErrorCode.NONE) {
    if (core.role === 'follower' && msg.from === core.leaderId && r.leaderId === NO_LEADER) {
      // Our leader says it no longer leads this epoch (it resigned): stop following it.
      becomeUnattached(core, core.epoch);
      return false;
    }
    return backoff();
  }
  return core.role === 'follower' && msg.from === core.leaderId;
}

export function handleFetchResponse(core: Core, msg: Message): void {
  const inf = core.follower.inflight;
  if (!matchInflight(core, msg, false)) return;
  const r = msg.body as FetchResponse;
  if (!acceptAnswer(core, msg, r)) return;
  core.fetchDeadline = core.now + core.config.fetchTimeoutTicks;
  if (r.divergingEpoch !== null) {
    truncateLog(core, core.log.truncationOffset(r.divergingEpoch));
    return;
  }
  if (r.snapshotId !== null) {
    if (snapshotIsNewer(core, r.snapshotId)) core.follower.download = { id: r.snapshotId, chunks: [], position: 0 };
    return;
  }
  if (inf!.fetchOffset !== core.log.endOffset) return;
  const entries = r.entries;
  if (entries.length > 0) {
    if (entries[0].offset !== inf!.fetchOffset || entries[entries.length - 1].epoch > core.epoch) return;
    // The next fetch offset must be durable before the leader sees it: sync first.
    appendEntries(core, entries, true);
  }
  const hw = Math.min(r.highWatermark, core.log.endOffset);
  if (hw > core.highWatermark) core.highWatermark = hw;
}

export function handleFetchSnapshotResponse(core: Core, msg: Message): void {
  if (!matchInflight(core, msg, true)) return;
  const r = msg.body as FetchSnapshotResponse;
  const download = core.follower.download;
  if (r.errorCode === ErrorCode.SNAPSHOT_NOT_FOUND || r.errorCode === ErrorCode.POSITION_OUT_OF_RANGE) {
    // The leader has a newer snapshot: start over from a plain fetch, which names it.
    core.follower.download = null;
    return;
  }
  if (!acceptAnswer(core, msg, r) || download === null) return;
  core.fetchDeadline = core.now + core.config.fetchTimeoutTicks;
  const sameId = r.snapshotId.endOffset === download.id.endOffset && r.snapshotId.epoch === download.id.epoch;
  if (!sameId || r.position !== download.position || (r.bytes.length === 0 && r.position < r.size)) {
    core.follower.download = null;
    return;
  }
  download.chunks.push(r.bytes);
  download.position += r.bytes.length;
  if (download.position < r.size) return;
  core.follower.download = null;
  const data = new Uint8Array(download.position);
  let at = 0;
  for (const c of download.chunks) {
    data.set(c, at);
    at += c.length;
  }
  installSnapshot(core, { id: download.id, data });
}

/** A snapshot the leader points to replaces our log if it starts later than ours. It holds only
 *  committed entries, so it never starts below our HW (we could not have committed past it). */
function snapshotIsNewer(core: Core, id: SnapshotId): boolean {
  return id.endOffset > core.log.startOffset && id.endOffset >= core.highWatermark;
}

/**
 * The leader answers with a snapshot when our position is below its log start, or when our last
 * epoch lies inside its snapshot (our suffix is then divergent). Either way the whole log is
 * replaced, as KRaft's follower does on installing a fetched snapshot.
 */
function installSnapshot(core: Core, snapshot: Snapshot): void {
  if (!snapshotIsNewer(core, snapshot.id)) return;
  if (core.log.endOffset > core.log.startOffset) core.out.storage.push({ op: 'truncate', offset: core.log.startOffset });
  core.log.installSnapshot(snapshot);
  core.out.storage.push({ op: 'snapshot', snapshot });
  core.out.mustSync = true;
  core.durableEnd = core.log.endOffset;
  // A snapshot holds only committed entries (KIP-630).
  if (snapshot.id.endOffset > core.highWatermark) core.highWatermark = snapshot.id.endOffset;
}

export function handleBeginQuorumEpochRequest(core: Core, msg: Message): void {
  const req = msg.body as BeginQuorumEpochRequest;
  if (req.leaderEpoch > core.epoch) {
    becomeFollower(core, req.leaderEpoch, req.leaderId);
  } else if (req.leaderEpoch === core.epoch && req.leaderId !== core.id) {
    observeEpoch(core, req.leaderEpoch, req.leaderId, msg.from);
  }
  const errorCode = req.leaderEpoch < core.epoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.NONE;
  const leaderId = core.role === 'leader' ? core.id : leaderIdOrNone(core);
  send(core, msg.from, { type: 'BeginQuorumEpochResponse', errorCode, leaderId, leaderEpoch: core.epoch }, msg.correlationId);
}

/**
 * KIP-595: the leader resigned. Its preferred successors campaign after a delay growing with their
 * rank (the most caught-up first); other voters wait a full election timeout.
 */
export function handleEndQuorumEpochRequest(core: Core, msg: Message): void {
  const req = msg.body as EndQuorumEpochRequest;
  if (req.leaderEpoch > core.epoch) {
    becomeUnattached(core, req.leaderEpoch);
  } else if (req.leaderEpoch === core.epoch) {
    const rank = req.preferredSuccessors.indexOf(core.id);
    const deadline = rank >= 0 ? core.now + rank * core.config.retryBackoffTicks : randomElectionTimeout(core);
    if (core.role === 'follower' && core.leaderId === req.leaderId) becomeUnattached(core, core.epoch, deadline);
    // Already unattached (the resigned leader's fetch answer came first): only hurry up.
    else if (core.role === 'unattached') core.electionDeadline = Math.min(core.electionDeadline, deadline);
  }
  const errorCode = req.leaderEpoch < core.epoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.NONE;
  const leaderId = core.role === 'leader' ? core.id : leaderIdOrNone(core);
  send(core, msg.from, { type: 'EndQuorumEpochResponse', errorCode, leaderId, leaderEpoch: core.epoch }, msg.correlationId);
}

export function handleEndQuorumEpochResponse(core: Core, msg: Message): void {
  const r = msg.body as EndQuorumEpochResponse;
  observeEpoch(core, r.leaderEpoch, r.leaderId, msg.from);
}
