// The classic rebalance: the join phase (PreparingRebalance) ends when every member has rejoined
// and no member id handed out with MEMBER_ID_REQUIRED is outstanding, or at the largest rebalance
// timeout, when members that did not rejoin are dropped. Ending it bumps the generation, picks the
// protocol, answers every parked JoinGroup (only the leader gets the member list) and waits for the
// leader's SyncGroup (CompletingRebalance). A group that was Empty first waits
// group.initial.rebalance.delay.ms, extended by the same delay while new members keep arriving, up
// to the rebalance timeout, so a starting fleet of consumers forms one generation, not many.
// Members that do not send SyncGroup within the rebalance timeout are dropped (KAFKA-13423).
import { ErrorCode } from '../protocol/errors.ts';
import type { JoinGroupResponse, JoinGroupResponseMember } from '../protocol/generated/join-group-response.ts';
import type { SyncGroupResponse } from '../protocol/generated/sync-group-response.ts';
import { ClassicState, type ClassicGroup, type ClassicMember } from './classic-group.ts';
import { createGroupMemberMetadata, groupMetadataRecord, type GroupMetadataValue } from './records.ts';
import { Effects, type Result } from './result.ts';
import type { GroupShard } from './shard.ts';

const EMPTY = Buffer.alloc(0);
const SEP = '\u0000';
export const joinTimerKey = (groupId: string): string => `join${SEP}${groupId}`;
export const syncTimerKey = (groupId: string): string => `sync${SEP}${groupId}`;
export const sessionTimerKey = (groupId: string, memberId: string): string => `session${SEP}${groupId}${SEP}${memberId}`;
export const pendingTimerKey = (groupId: string, memberId: string): string => `pending${SEP}${groupId}${SEP}${memberId}`;

// --- responses ----------------------------------------------------------------------------------

export function joinError(code: number, memberId: string, version: number): JoinGroupResponse {
  return {
    throttleTimeMs: 0, errorCode: code, generationId: -1, protocolType: null,
    protocolName: version >= 7 ? null : '', leader: '', skipAssignment: false, memberId, members: [],
  };
}

export function joinResponse(g: ClassicGroup, memberId: string, version: number, members: JoinGroupResponseMember[], skipAssignment = false): JoinGroupResponse {
  return {
    throttleTimeMs: 0, errorCode: ErrorCode.NONE, generationId: g.generationId, protocolType: g.protocolType,
    protocolName: g.protocolName ?? (version >= 7 ? null : ''), leader: g.leaderId ?? '', skipAssignment,
    memberId, members,
  };
}

export function memberList(g: ClassicGroup): JoinGroupResponseMember[] {
  return [...g.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: g.metadataOf(m) }));
}

export function syncError(code: number): SyncGroupResponse {
  return { throttleTimeMs: 0, errorCode: code, protocolType: null, protocolName: null, assignment: EMPTY };
}

export function syncResponse(g: ClassicGroup, assignment: Buffer): SyncGroupResponse {
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, protocolType: g.protocolType, protocolName: g.protocolName, assignment };
}

/** The durable view of a group (GroupMetadataValue), with assignments overridden by `assignments`. */
export function groupSnapshot(g: ClassicGroup, now: number, assignments?: ReadonlyMap<string, Buffer>): GroupMetadataValue {
  return {
    protocolType: g.protocolType ?? '',
    generation: g.generationId,
    protocol: g.protocolName,
    leader: g.leaderId,
    currentStateTimestamp: BigInt(now),
    members: [...g.members.values()].map((m) => createGroupMemberMetadata({
      memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
      rebalanceTimeout: m.rebalanceTimeoutMs, sessionTimeout: m.sessionTimeoutMs,
      subscription: g.metadataOf(m), assignment: assignments?.get(m.memberId) ?? m.assignment,
    })),
  };
}

// --- timers -------------------------------------------------------------------------------------

export function scheduleSession(shard: GroupShard, g: ClassicGroup, m: ClassicMember): void {
  const { groupId } = g;
  const { memberId } = m;
  shard.env.timer.schedule(sessionTimerKey(groupId, memberId), m.sessionTimeoutMs, () => onSessionExpired(shard, groupId, memberId));
}

function onSessionExpired(shard: GroupShard, groupId: string, memberId: string): Result<void> {
  const fx = new Effects();
  const g = shard.classicGroup(groupId);
  const m = g?.members.get(memberId);
  if (g === undefined || m === undefined) return fx.result(undefined);
  // A member parked in JoinGroup or SyncGroup is alive; the rebalance and sync timeouts bound the wait.
  if (m.awaitingJoin !== null || m.awaitingSync !== null) {
    scheduleSession(shard, g, m);
    return fx.result(undefined);
  }
  shard.env.log(`group ${groupId}: member ${memberId} session expired`);
  removeMemberAndUpdate(shard, g, m, fx);
  return fx.result(undefined);
}

export function schedulePendingMember(shard: GroupShard, g: ClassicGroup, memberId: string, sessionTimeoutMs: number): void {
  const { groupId } = g;
  shard.env.timer.schedule(pendingTimerKey(groupId, memberId), sessionTimeoutMs, () => {
    const fx = new Effects();
    const cur = shard.classicGroup(groupId);
    if (cur !== undefined && cur.pendingMembers.delete(memberId)) maybeCompleteJoin(shard, cur, fx);
    return fx.result(undefined);
  });
}

// --- transitions --------------------------------------------------------------------------------

/** Drops a member (leave, session expiry, fencing) and moves the group on. */
export function removeMemberAndUpdate(shard: GroupShard, g: ClassicGroup, m: ClassicMember, fx: Effects): void {
  if (m.awaitingJoin !== null) fx.reply(m.awaitingJoin.reply, joinError(ErrorCode.UNKNOWN_MEMBER_ID, m.memberId, m.awaitingJoin.version));
  if (m.awaitingSync !== null) fx.reply(m.awaitingSync, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  m.awaitingJoin = null;
  m.awaitingSync = null;
  g.remove(m.memberId);
  shard.env.timer.cancel(sessionTimerKey(g.groupId, m.memberId));
  if (g.is(ClassicState.STABLE) || g.is(ClassicState.COMPLETING_REBALANCE)) prepareRebalance(shard, g, fx);
  else if (g.is(ClassicState.PREPARING_REBALANCE)) maybeCompleteJoin(shard, g, fx);
}

export function prepareRebalance(shard: GroupShard, g: ClassicGroup, fx: Effects): void {
  const { timer, config } = shard.env;
  if (g.is(ClassicState.COMPLETING_REBALANCE)) {
    // The assignment being computed is for a generation that will never be used.
    for (const m of g.members.values()) {
      if (m.awaitingSync !== null) fx.reply(m.awaitingSync, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      m.awaitingSync = null;
      m.assignment = EMPTY;
    }
  }
  timer.cancel(syncTimerKey(g.groupId));
  g.pendingSync.clear();
  const initial = g.is(ClassicState.EMPTY) && config.initialRebalanceDelayMs > 0;
  g.transitionTo(ClassicState.PREPARING_REBALANCE, timer.now());
  const groupId = g.groupId;
  const rebalanceTimeout = g.maxRebalanceTimeoutMs();
  if (initial) {
    const delay = Math.min(config.initialRebalanceDelayMs, rebalanceTimeout);
    g.initialDelayActive = true;
    g.newMemberAdded = false;
    timer.schedule(joinTimerKey(groupId), delay, () => onInitialDelay(shard, groupId, Math.max(rebalanceTimeout - config.initialRebalanceDelayMs, 0)));
  } else {
    g.initialDelayActive = false;
    timer.schedule(joinTimerKey(groupId), rebalanceTimeout, () => onJoinTimeout(shard, groupId));
    maybeCompleteJoin(shard, g, fx);
  }
}

function onInitialDelay(shard: GroupShard, groupId: string, remainingMs: number): Result<void> {
  const fx = new Effects();
  const g = shard.classicGroup(groupId);
  if (g === undefined || !g.is(ClassicState.PREPARING_REBALANCE)) return fx.result(undefined);
  if (g.newMemberAdded && remainingMs > 0) {
    g.newMemberAdded = false;
    const delay = Math.min(shard.env.config.initialRebalanceDelayMs, remainingMs);
    shard.env.timer.schedule(joinTimerKey(groupId), delay, () => onInitialDelay(shard, groupId, Math.max(remainingMs - delay, 0)));
    return fx.result(undefined);
  }
  completeJoin(shard, g, fx);
  return fx.result(undefined);
}

function onJoinTimeout(shard: GroupShard, groupId: string): Result<void> {
  const fx = new Effects();
  const g = shard.classicGroup(groupId);
  if (g !== undefined && g.is(ClassicState.PREPARING_REBALANCE)) completeJoin(shard, g, fx);
  return fx.result(undefined);
}

export function maybeCompleteJoin(shard: GroupShard, g: ClassicGroup, fx: Effects): void {
  if (g.is(ClassicState.PREPARING_REBALANCE) && !g.initialDelayActive && g.allMembersJoined()) completeJoin(shard, g, fx);
}

function completeJoin(shard: GroupShard, g: ClassicGroup, fx: Effects): void {
  const { timer } = shard.env;
  const now = timer.now();
  timer.cancel(joinTimerKey(g.groupId));
  g.initialDelayActive = false;
  for (const m of [...g.members.values()]) {
    if (m.awaitingJoin === null) {
      g.remove(m.memberId);
      timer.cancel(sessionTimerKey(g.groupId, m.memberId));
    }
  }
  const protocol = g.size === 0 ? null : g.selectProtocol();
  if (protocol === null) {
    for (const m of [...g.members.values()]) {
      fx.reply(m.awaitingJoin!.reply, joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, m.memberId, m.awaitingJoin!.version));
      m.awaitingJoin = null;
      g.remove(m.memberId);
      timer.cancel(sessionTimerKey(g.groupId, m.memberId));
    }
    g.generationId++;
    g.protocolName = null;
    g.leaderId = null;
    g.transitionTo(ClassicState.EMPTY, now);
    fx.records.push(groupMetadataRecord(g.groupId, groupSnapshot(g, now)));
    return;
  }
  g.generationId++;
  g.protocolName = protocol;
  if (g.leaderId === null || !g.members.has(g.leaderId)) g.leaderId = g.members.keys().next().value!;
  g.transitionTo(ClassicState.COMPLETING_REBALANCE, now);
  const members = memberList(g);
  for (const m of g.members.values()) {
    const parked = m.awaitingJoin!;
    fx.reply(parked.reply, joinResponse(g, m.memberId, parked.version, m.memberId === g.leaderId ? members : []));
    m.awaitingJoin = null;
    m.isNew = false;
    g.pendingSync.add(m.memberId);
    scheduleSession(shard, g, m);
  }
  const { groupId, generationId } = g;
  timer.schedule(syncTimerKey(groupId), g.maxRebalanceTimeoutMs(), () => onSyncTimeout(shard, groupId, generationId));
}

function onSyncTimeout(shard: GroupShard, groupId: string, generationId: number): Result<void> {
  const fx = new Effects();
  const g = shard.classicGroup(groupId);
  if (g === undefined || g.generationId !== generationId) return fx.result(undefined);
  if (!g.is(ClassicState.COMPLETING_REBALANCE) && !g.is(ClassicState.STABLE)) return fx.result(undefined);
  for (const id of [...g.pendingSync]) {
    const m = g.members.get(id);
    if (m !== undefined) {
      shard.env.log(`group ${groupId}: member ${id} did not send SyncGroup in time`);
      removeMemberAndUpdate(shard, g, m, fx);
    }
  }
  return fx.result(undefined);
}
