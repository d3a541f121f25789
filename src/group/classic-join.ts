// JoinGroup (classic protocol). A new dynamic member gets a member id; from v4 it must come back
// with it before it counts (MEMBER_ID_REQUIRED, KIP-394; older clients would loop on that error,
// so they join at once). A static member (group.instance.id, KIP-345) joins at once; when its
// instance is already in the group, the old member id is fenced and — in a Stable group whose
// chosen protocol would not change — the new id takes over the existing assignment without a
// rebalance (the leader is told to skip assignment from v9, KIP-814).
import { ErrorCode } from '../protocol/errors.ts';
import type { JoinGroupRequest } from '../protocol/generated/join-group-request.ts';
import type { JoinGroupResponse } from '../protocol/generated/join-group-response.ts';
import { ClassicGroup, ClassicState, newClassicMember, type ClassicMember, type ClassicProtocol } from './classic-group.ts';
import {
  groupSnapshot, joinError, joinResponse, maybeCompleteJoin, memberList, pendingTimerKey, prepareRebalance,
  scheduleSession, schedulePendingMember, sessionTimerKey, syncError,
} from './classic-rebalance.ts';
import { groupMetadataRecord } from './records.ts';
import { consumerGroupTombstones } from './consumer-replay.ts';
import { Effects, type Reply, type Result } from './result.ts';
import type { GroupShard, RequestMeta } from './shard.ts';

interface Join {
  req: JoinGroupRequest;
  meta: RequestMeta;
  reply: Reply<JoinGroupResponse>;
  /** v0 has no rebalance timeout: the session timeout serves as both. */
  rebalanceTimeoutMs: number;
}

export function joinGroup(shard: GroupShard, req: JoinGroupRequest, meta: RequestMeta, reply: Reply<JoinGroupResponse>): Result<void> {
  const fx = new Effects();
  const fail = (code: number, memberId = req.memberId) => {
    fx.reply(reply, joinError(code, memberId, meta.version));
    return fx.result(undefined);
  };
  const { config } = shard.env;
  if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
  if (req.sessionTimeoutMs < config.minSessionTimeoutMs || req.sessionTimeoutMs > config.maxSessionTimeoutMs) {
    return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
  }
  const join: Join = { req, meta, reply, rebalanceTimeoutMs: meta.version === 0 || req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs };
  let g = shard.groups.get(req.groupId);
  if (g !== undefined && g.type !== 'classic') {
    // A KIP-848 group with members cannot take classic members; an empty one becomes classic.
    if (g.members.size > 0) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    if (req.memberId !== '') return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    fx.records.push(...consumerGroupTombstones(g));
    g = undefined;
  }
  if (g === undefined) {
    if (req.memberId !== '') return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    g = new ClassicGroup(req.groupId, shard.env.timer.now());
    shard.groups.set(req.groupId, g);
  }
  if (req.memberId === '') joinNewMember(shard, g, join, fx);
  else joinExistingMember(shard, g, join, fx);
  return fx.result(undefined);
}

function joinNewMember(shard: GroupShard, g: ClassicGroup, j: Join, fx: Effects): void {
  const { req, meta } = j;
  const fail = (code: number, memberId = '') => fx.reply(j.reply, joinError(code, memberId, meta.version));
  const existing = req.groupInstanceId !== null ? g.memberByInstance(req.groupInstanceId) : undefined;
  if (!g.supportsProtocols(req.protocolType, req.protocols, existing?.memberId)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  if (existing === undefined && g.size + g.pendingMembers.size >= shard.env.config.maxGroupSize) return fail(ErrorCode.GROUP_MAX_SIZE_REACHED);
  const memberId = `${req.groupInstanceId ?? meta.clientId}-${shard.env.newUuid()}`;
  if (existing !== undefined) return rejoinStaticMember(shard, g, existing, memberId, j, fx);
  if (req.groupInstanceId === null && meta.version >= 4) {
    // KIP-394: the id only counts once the member comes back with it.
    g.pendingMembers.add(memberId);
    schedulePendingMember(shard, g, memberId, req.sessionTimeoutMs);
    return fail(ErrorCode.MEMBER_ID_REQUIRED, memberId);
  }
  addMemberAndRebalance(shard, g, memberId, j, fx);
}

function joinExistingMember(shard: GroupShard, g: ClassicGroup, j: Join, fx: Effects): void {
  const { req, meta } = j;
  const fail = (code: number) => fx.reply(j.reply, joinError(code, req.memberId, meta.version));
  if (g.pendingMembers.has(req.memberId)) {
    if (!g.supportsProtocols(req.protocolType, req.protocols)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    g.pendingMembers.delete(req.memberId);
    shard.env.timer.cancel(pendingTimerKey(g.groupId, req.memberId));
    return addMemberAndRebalance(shard, g, req.memberId, j, fx);
  }
  if (req.groupInstanceId !== null) {
    const owner = g.staticMembers.get(req.groupInstanceId);
    if (owner !== undefined && owner !== req.memberId) return fail(ErrorCode.FENCED_INSTANCE_ID);
  }
  const m = g.members.get(req.memberId);
  if (m === undefined || g.is(ClassicState.EMPTY)) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
  if (!g.supportsProtocols(req.protocolType, req.protocols, m.memberId)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  scheduleSession(shard, g, m);
  const same = sameProtocols(m.protocols, req.protocols);
  switch (g.state) {
    case ClassicState.PREPARING_REBALANCE:
      return updateMemberAndRebalance(shard, g, m, j, fx);
    case ClassicState.COMPLETING_REBALANCE:
      // Same metadata: the member probably lost our JoinGroup answer; give it again.
      if (same) return fx.reply(j.reply, joinResponse(g, m.memberId, meta.version, m.memberId === g.leaderId ? memberList(g) : []));
      return updateMemberAndRebalance(shard, g, m, j, fx);
    case ClassicState.STABLE:
      // A follower with unchanged metadata just resyncs; the leader or a changed subscription rebalances.
      if (same && m.memberId !== g.leaderId) return fx.reply(j.reply, joinResponse(g, m.memberId, meta.version, []));
      return updateMemberAndRebalance(shard, g, m, j, fx);
    default:
      return fail(ErrorCode.UNKNOWN_MEMBER_ID);
  }
}

function sameProtocols(a: readonly ClassicProtocol[], b: readonly ClassicProtocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i].name && p.metadata.equals(b[i].metadata));
}

function copyProtocols(ps: readonly ClassicProtocol[]): ClassicProtocol[] {
  return ps.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) }));
}

function applyJoin(g: ClassicGroup, m: ClassicMember, j: Join): void {
  m.protocols = copyProtocols(j.req.protocols);
  m.sessionTimeoutMs = j.req.sessionTimeoutMs;
  m.rebalanceTimeoutMs = j.rebalanceTimeoutMs;
  m.clientId = j.meta.clientId;
  m.clientHost = j.meta.clientHost;
  if (g.size <= 1) g.protocolType = j.req.protocolType;
}

function park(m: ClassicMember, j: Join, fx: Effects): void {
  // A retried JoinGroup replaces the earlier one; the earlier connection gets a retriable error.
  if (m.awaitingJoin !== null) fx.reply(m.awaitingJoin.reply, joinError(ErrorCode.REBALANCE_IN_PROGRESS, m.memberId, m.awaitingJoin.version));
  m.awaitingJoin = { reply: j.reply, version: j.meta.version };
}

function addMemberAndRebalance(shard: GroupShard, g: ClassicGroup, memberId: string, j: Join, fx: Effects): void {
  const m = newClassicMember({ memberId, groupInstanceId: j.req.groupInstanceId, isNew: true });
  applyJoin(g, m, j);
  g.add(m);
  park(m, j, fx);
  scheduleSession(shard, g, m);
  if (g.is(ClassicState.PREPARING_REBALANCE)) {
    if (g.initialDelayActive) g.newMemberAdded = true;
    maybeCompleteJoin(shard, g, fx);
  } else {
    prepareRebalance(shard, g, fx);
  }
}

function updateMemberAndRebalance(shard: GroupShard, g: ClassicGroup, m: ClassicMember, j: Join, fx: Effects): void {
  applyJoin(g, m, j);
  park(m, j, fx);
  if (g.is(ClassicState.PREPARING_REBALANCE)) maybeCompleteJoin(shard, g, fx);
  else prepareRebalance(shard, g, fx);
}

function rejoinStaticMember(shard: GroupShard, g: ClassicGroup, m: ClassicMember, newMemberId: string, j: Join, fx: Effects): void {
  const { timer } = shard.env;
  const oldMemberId = m.memberId;
  // The previous incarnation of this instance is fenced.
  if (m.awaitingJoin !== null) fx.reply(m.awaitingJoin.reply, joinError(ErrorCode.FENCED_INSTANCE_ID, oldMemberId, m.awaitingJoin.version));
  if (m.awaitingSync !== null) fx.reply(m.awaitingSync, syncError(ErrorCode.FENCED_INSTANCE_ID));
  m.awaitingJoin = null;
  m.awaitingSync = null;
  const oldProtocols = m.protocols;
  timer.cancel(sessionTimerKey(g.groupId, oldMemberId));
  g.replaceStaticMember(j.req.groupInstanceId!, oldMemberId, newMemberId);
  applyJoin(g, m, j);
  scheduleSession(shard, g, m);
  if (g.is(ClassicState.STABLE)) {
    const chosenBefore = oldProtocols.find((p) => p.name === g.protocolName);
    const chosenNow = m.protocols.find((p) => p.name === g.protocolName);
    if (g.selectProtocol() === g.protocolName && chosenBefore !== undefined && chosenNow !== undefined && chosenBefore.metadata.equals(chosenNow.metadata)) {
      // KIP-345: same instance, same subscription → keep the generation and the assignment.
      const isLeader = g.leaderId === newMemberId;
      const skip = isLeader && j.meta.version >= 9;
      fx.records.push(groupMetadataRecord(g.groupId, groupSnapshot(g, timer.now())));
      fx.reply(j.reply, joinResponse(g, newMemberId, j.meta.version, skip ? memberList(g) : [], skip));
      return;
    }
  }
  park(m, j, fx);
  if (g.is(ClassicState.PREPARING_REBALANCE)) maybeCompleteJoin(shard, g, fx);
  else prepareRebalance(shard, g, fx);
}
