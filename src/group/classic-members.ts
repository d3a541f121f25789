// SyncGroup, Heartbeat and LeaveGroup (classic protocol).
//
// SyncGroup: the leader's assignment ends the rebalance; it is written as one GroupMetadata record
// and every member waiting in SyncGroup is answered once that record is durable. Followers that
// sync first wait for the leader. In a Stable group SyncGroup returns the member's assignment.
// Heartbeat: keeps the session; REBALANCE_IN_PROGRESS tells a member to rejoin.
// LeaveGroup: v0–v2 name one member; v3+ a batch, by member id or (static members, KIP-345) by
// group.instance.id alone, each answered in `members`.
import { ErrorCode } from '../protocol/errors.ts';
import type { SyncGroupRequest } from '../protocol/generated/sync-group-request.ts';
import type { SyncGroupResponse } from '../protocol/generated/sync-group-response.ts';
import type { HeartbeatRequest } from '../protocol/generated/heartbeat-request.ts';
import type { HeartbeatResponse } from '../protocol/generated/heartbeat-response.ts';
import type { LeaveGroupRequest } from '../protocol/generated/leave-group-request.ts';
import type { LeaveGroupResponse, MemberResponse } from '../protocol/generated/leave-group-response.ts';
import { ClassicState, type ClassicGroup } from './classic-group.ts';
import {
  groupSnapshot, maybeCompleteJoin, pendingTimerKey, removeMemberAndUpdate, scheduleSession, syncError, syncResponse, syncTimerKey,
} from './classic-rebalance.ts';
import { groupMetadataRecord } from './records.ts';
import { Effects, type Reply, type Result } from './result.ts';
import type { GroupShard, RequestMeta } from './shard.ts';

const EMPTY = Buffer.alloc(0);

/** UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID checks shared by SyncGroup and Heartbeat. */
function memberError(g: ClassicGroup, memberId: string, instanceId: string | null): number {
  if (instanceId !== null) {
    const owner = g.staticMembers.get(instanceId);
    if (owner !== undefined && owner !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
  }
  return g.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
}

function doneSyncing(shard: GroupShard, g: ClassicGroup, memberId: string): void {
  if (g.pendingSync.delete(memberId) && g.pendingSync.size === 0) shard.env.timer.cancel(syncTimerKey(g.groupId));
}

export function syncGroup(shard: GroupShard, req: SyncGroupRequest, meta: RequestMeta, reply: Reply<SyncGroupResponse>): Result<void> {
  const fx = new Effects();
  const fail = (code: number) => {
    fx.reply(reply, syncError(code));
    return fx.result(undefined);
  };
  if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
  const g = shard.classicGroup(req.groupId);
  if (g === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
  const err = memberError(g, req.memberId, req.groupInstanceId);
  if (err !== ErrorCode.NONE) return fail(err);
  if (req.generationId !== g.generationId) return fail(ErrorCode.ILLEGAL_GENERATION);
  // v5 (KIP-559) states the protocol the member thinks it synced on.
  if ((req.protocolType !== null && req.protocolType !== g.protocolType) || (req.protocolName !== null && req.protocolName !== g.protocolName)) {
    return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  }
  const m = g.members.get(req.memberId)!;
  switch (g.state) {
    case ClassicState.PREPARING_REBALANCE:
      return fail(ErrorCode.REBALANCE_IN_PROGRESS);
    case ClassicState.STABLE:
      scheduleSession(shard, g, m);
      doneSyncing(shard, g, m.memberId);
      fx.reply(reply, syncResponse(g, m.assignment));
      return fx.result(undefined);
    case ClassicState.COMPLETING_REBALANCE: {
      if (m.awaitingSync !== null) fx.reply(m.awaitingSync, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      m.awaitingSync = reply;
      scheduleSession(shard, g, m);
      doneSyncing(shard, g, m.memberId);
      if (m.memberId !== g.leaderId) return fx.result(undefined);
      // Members the leader left out get an empty assignment; ids not in the group are ignored.
      const assignments = new Map<string, Buffer>();
      for (const a of req.assignments) if (g.members.has(a.memberId)) assignments.set(a.memberId, Buffer.from(a.assignment));
      for (const id of g.members.keys()) if (!assignments.has(id)) assignments.set(id, EMPTY);
      fx.records.push(groupMetadataRecord(g.groupId, groupSnapshot(g, shard.env.timer.now(), assignments)));
      for (const w of g.members.values()) {
        if (w.awaitingSync === null) continue;
        fx.reply(w.awaitingSync, syncResponse(g, assignments.get(w.memberId)!));
        w.awaitingSync = null;
      }
      return fx.result(undefined);
    }
    default:
      return fail(ErrorCode.UNKNOWN_MEMBER_ID);
  }
}

export function heartbeat(shard: GroupShard, req: HeartbeatRequest): Result<HeartbeatResponse> {
  const fx = new Effects();
  const answer = (errorCode: number) => fx.result<HeartbeatResponse>({ throttleTimeMs: 0, errorCode });
  if (req.groupId === '') return answer(ErrorCode.INVALID_GROUP_ID);
  const g = shard.classicGroup(req.groupId);
  if (g === undefined || g.is(ClassicState.EMPTY)) return answer(ErrorCode.UNKNOWN_MEMBER_ID);
  const err = memberError(g, req.memberId, req.groupInstanceId);
  if (err !== ErrorCode.NONE) return answer(err);
  if (req.generationId !== g.generationId) return answer(ErrorCode.ILLEGAL_GENERATION);
  scheduleSession(shard, g, g.members.get(req.memberId)!);
  return answer(g.is(ClassicState.PREPARING_REBALANCE) ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE);
}

export function leaveGroup(shard: GroupShard, req: LeaveGroupRequest, meta: RequestMeta): Result<LeaveGroupResponse> {
  const fx = new Effects();
  const identities = meta.version >= 3 ? req.members : [{ memberId: req.memberId, groupInstanceId: null, reason: null }];
  const response: LeaveGroupResponse = { throttleTimeMs: 0, errorCode: ErrorCode.NONE, members: [] };
  if (req.groupId === '') return fx.result({ ...response, errorCode: ErrorCode.INVALID_GROUP_ID });
  const g = shard.classicGroup(req.groupId);
  for (const id of identities) {
    const out: MemberResponse = { memberId: id.memberId, groupInstanceId: id.groupInstanceId, errorCode: ErrorCode.NONE };
    response.members.push(out);
    if (g === undefined) {
      out.errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
      continue;
    }
    if (id.memberId !== '' && g.pendingMembers.delete(id.memberId)) {
      shard.env.timer.cancel(pendingTimerKey(g.groupId, id.memberId));
      maybeCompleteJoin(shard, g, fx);
      continue;
    }
    let memberId = id.memberId;
    if (id.groupInstanceId !== null) {
      const owner = g.staticMembers.get(id.groupInstanceId);
      if (owner === undefined) {
        out.errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
        continue;
      }
      if (memberId !== '' && owner !== memberId) {
        out.errorCode = ErrorCode.FENCED_INSTANCE_ID;
        continue;
      }
      memberId = owner;
    }
    const m = g.members.get(memberId);
    if (m === undefined) {
      out.errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
      continue;
    }
    shard.env.log(`group ${g.groupId}: member ${memberId} left${id.reason ? ` (${id.reason})` : ''}`);
    removeMemberAndUpdate(shard, g, m, fx);
  }
  // v0–v2 have no per-member answers: the single member's error is the response's error.
  if (meta.version < 3) {
    response.errorCode = response.members[0].errorCode;
    response.members = [];
  }
  return fx.result(response);
}
