// Elections (Raft §5.2, KIP-595) with a pre-vote round first (KIP-996, Raft thesis §9.6).
//
// A voter whose leader went quiet, or that never had one, becomes *prospective*: it asks the other
// voters whether they would vote for it in epoch + 1 without bumping anything. A voter grants a
// pre-vote only if it has not heard from a leader within the fetch timeout and the candidate's log
// is at least as up to date as its own. Only with a majority of pre-votes does the node become a
// *candidate*: bump the epoch, vote for itself (durably) and ask for real votes. So a node cut off
// from the quorum keeps its epoch and cannot depose a healthy leader when it comes back.
//
// Real votes: one per epoch (§5.2, persisted before the answer leaves), and only for a candidate
// whose log is at least as up to date — last epoch first, then end offset (§5.4.1). That election
// restriction is what makes every committed entry present on every later leader (§5.4).

import { ErrorCode } from '../protocol/errors.ts';
import type { Core } from './core-state.ts';
import {
  becomeUnattached,
  leaderIdOrNone,
  leaveRole,
  majority,
  observeEpoch,
  persistHardState,
  randomElectionTimeout,
  send,
} from './core-state.ts';
import { becomeLeader } from './leader.ts';
import type { Message, VoteRequest, VoteResponse } from './messages.ts';

/** KIP-996: start (or restart) a pre-vote round. Only voters campaign. */
export function becomeProspective(core: Core): void {
  if (!core.isVoter) return;
  // Remember the leader timed out on (kept across failed rounds in the same epoch).
  if (core.role === 'follower' && core.leaderId !== null) core.lostLeader = { id: core.leaderId, epoch: core.epoch };
  else if (core.lostLeader !== null && core.lostLeader.epoch !== core.epoch) core.lostLeader = null;
  leaveRole(core);
  core.role = 'prospective';
  core.leaderId = null;
  core.electionDeadline = randomElectionTimeout(core);
  core.election = { preVote: true, epoch: core.epoch + 1, granted: new Set([core.id]), rejected: new Set(), pending: new Map() };
  if (core.election.granted.size >= majority(core)) becomeCandidate(core);
  else sendVoteRequests(core);
}

/** Raft §5.2: bump the epoch, vote for itself, ask the others. */
export function becomeCandidate(core: Core): void {
  leaveRole(core);
  core.role = 'candidate';
  core.epoch += 1;
  core.votedFor = core.id;
  core.leaderId = null;
  persistHardState(core);
  core.electionDeadline = randomElectionTimeout(core);
  core.election = { preVote: false, epoch: core.epoch, granted: new Set([core.id]), rejected: new Set(), pending: new Map() };
  if (core.election.granted.size >= majority(core)) becomeLeader(core, [core.id]);
  else sendVoteRequests(core);
}

/** Sends the round's request to every voter that has not answered and has no fresh request. */
function sendVoteRequests(core: Core): void {
  const el = core.election!;
  for (const v of core.voters) {
    if (v === core.id || el.granted.has(v) || el.rejected.has(v)) continue;
    const p = el.pending.get(v);
    if (p !== undefined && core.now - p.sentAt < core.config.requestTimeoutTicks) continue;
    const correlationId = send(core, v, {
      type: 'VoteRequest',
      candidateEpoch: el.epoch,
      candidateId: core.id,
      lastOffsetEpoch: core.log.lastEpoch,
      lastOffset: core.log.endOffset,
      preVote: el.preVote,
    });
    el.pending.set(v, { correlationId, sentAt: core.now });
  }
}

export function electionTick(core: Core): void {
  // A failed round (split vote, lost requests, rejections) ends in a new pre-vote round after a
  // fresh random timeout; a candidate never retries in its epoch without a pre-vote (KIP-996).
  if (core.now >= core.electionDeadline) becomeProspective(core);
  else sendVoteRequests(core);
}

/** §5.4.1: the candidate's log is at least as up to date as ours. */
function candidateLogIsCurrent(core: Core, req: VoteRequest): boolean {
  const lastEpoch = core.log.lastEpoch;
  return req.lastOffsetEpoch > lastEpoch || (req.lastOffsetEpoch === lastEpoch && req.lastOffset >= core.log.endOffset);
}

/** KIP-996: a voter that has a live leader (or is the leader) refuses pre-votes. */
function hasLiveLeader(core: Core): boolean {
  return core.role === 'leader' || (core.role === 'follower' && core.now < core.fetchDeadline);
}

export function handleVoteRequest(core: Core, msg: Message): void {
  const req = msg.body as VoteRequest;
  const reply = (errorCode: number, voteGranted: boolean): void => {
    const leaderId = core.role === 'leader' ? core.id : leaderIdOrNone(core);
    send(core, msg.from, { type: 'VoteResponse', errorCode, leaderId, leaderEpoch: core.epoch, voteGranted }, msg.correlationId);
  };
  if (!core.isVoter || !core.voters.includes(req.candidateId) || req.candidateId !== msg.from) {
    reply(ErrorCode.INCONSISTENT_VOTER_SET, false);
    return;
  }
  if (req.preVote) {
    // No state changes for a pre-vote, whatever its epoch.
    const grant = req.candidateEpoch > core.epoch && !hasLiveLeader(core) && candidateLogIsCurrent(core, req);
    reply(ErrorCode.NONE, grant);
    return;
  }
  if (req.candidateEpoch < core.epoch) {
    reply(ErrorCode.FENCED_LEADER_EPOCH, false);
    return;
  }
  if (req.candidateEpoch > core.epoch) becomeUnattached(core, req.candidateEpoch);
  const free = core.votedFor === null || core.votedFor === req.candidateId;
  const roleAllows = (core.role === 'unattached' || core.role === 'prospective') && core.leaderId === null;
  const grant = free && roleAllows && candidateLogIsCurrent(core, req);
  if (grant && core.votedFor === null) {
    core.votedFor = req.candidateId;
    persistHardState(core);
  }
  if (grant && core.role === 'unattached') core.electionDeadline = randomElectionTimeout(core);
  reply(ErrorCode.NONE, grant);
}

export function handleVoteResponse(core: Core, msg: Message): void {
  const r = msg.body as VoteResponse;
  if (observeEpoch(core, r.leaderEpoch, r.leaderId, msg.from)) return;
  const el = core.election;
  if (el === null) return;
  const p = el.pending.get(msg.from);
  if (p === undefined || p.correlationId !== msg.correlationId) return;
  el.pending.delete(msg.from);
  if (!r.voteGranted) {
    el.rejected.add(msg.from);
    return;
  }
  el.granted.add(msg.from);
  if (el.granted.size < majority(core)) return;
  if (el.preVote) becomeCandidate(core);
  else becomeLeader(core, [...el.granted].sort((a, b) => a - b));
}
