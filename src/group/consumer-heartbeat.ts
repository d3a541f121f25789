// ConsumerGroupHeartbeat (KIP-848). Member epoch 0 joins (the coordinator hands out the member
// id), -1 leaves, -2 leaves for now keeping a static member's partitions until its session ends
// (a new member with the same group.instance.id takes them over), > 0 heartbeats. Any change of
// membership, subscriptions or subscribed topics' partition counts bumps the group epoch; the
// target assignment of that epoch is recomputed at once by the server-side assignor; then the
// member reconciles (consumer-reconcile.ts). A heartbeat with an older epoch is accepted only
// when it is the member's previous epoch and it owns nothing beyond its assignment (the answer to
// the bump was lost); otherwise FENCED_MEMBER_EPOCH and the member rejoins with epoch 0.
// Members that stop heartbeating for group.consumer.session.timeout.ms, or do not revoke within
// their rebalance timeout, are removed.
import { ErrorCode } from '../protocol/errors.ts';
import type { ConsumerGroupHeartbeatRequest } from '../protocol/generated/consumer-group-heartbeat-request.ts';
import type { ConsumerGroupHeartbeatResponse } from '../protocol/generated/consumer-group-heartbeat-response.ts';
import { ClassicState } from './classic-group.ts';
import { MemberState, newConsumerMember, type Assignment, type ConsumerGroup, type ConsumerMember, type SubscribedTopic } from './consumer-group.ts';
import { reconcile, sameAssignment, sameState, toAssignment, hasPartition, type MemberAssignmentState } from './consumer-reconcile.ts';
import { fromAssignment, memberTombstones } from './consumer-replay.ts';
import { ASSIGNORS } from './assignors.ts';
import type { CoordinatorRecord } from './records.ts';
import { Effects, type Result } from './result.ts';
import type { GroupShard, RequestMeta } from './shard.ts';

export const LEAVE_EPOCH = -1;
export const STATIC_LEAVE_EPOCH = -2;
const SEP = '\u0000';
const sessionKey = (g: string, m: string) => `cg-session${SEP}${g}${SEP}${m}`;
const rebalanceKey = (g: string, m: string) => `cg-rebalance${SEP}${g}${SEP}${m}`;

type Response = ConsumerGroupHeartbeatResponse;

function answer(errorCode: number, errorMessage: string | null = null): Response {
  return { throttleTimeMs: 0, errorCode, errorMessage, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null };
}

function validate(req: ConsumerGroupHeartbeatRequest): [number, string] | null {
  if (req.groupId === '') return [ErrorCode.INVALID_REQUEST, 'GroupId can\'t be empty.'];
  if (req.memberEpoch === 0) {
    if (req.rebalanceTimeoutMs === -1) return [ErrorCode.INVALID_REQUEST, 'RebalanceTimeoutMs must be provided in first request.'];
    if (req.topicPartitions === null || req.topicPartitions.length > 0) return [ErrorCode.INVALID_REQUEST, 'TopicPartitions must be empty when (re-)joining.'];
    if (req.subscribedTopicNames === null || req.subscribedTopicNames.length === 0) return [ErrorCode.INVALID_REQUEST, 'SubscribedTopicNames must be set in first request.'];
  } else if (req.memberEpoch > 0 || req.memberEpoch === LEAVE_EPOCH || req.memberEpoch === STATIC_LEAVE_EPOCH) {
    if (req.memberId === '') return [ErrorCode.INVALID_REQUEST, 'MemberId can\'t be empty.'];
    if (req.memberEpoch === STATIC_LEAVE_EPOCH && req.instanceId === null) return [ErrorCode.INVALID_REQUEST, 'InstanceId can\'t be null.'];
  } else {
    return [ErrorCode.INVALID_REQUEST, `MemberEpoch ${req.memberEpoch} is invalid.`];
  }
  if (req.serverAssignor !== null && !ASSIGNORS.has(req.serverAssignor)) return [ErrorCode.UNSUPPORTED_ASSIGNOR, `ServerAssignor ${req.serverAssignor} is not supported.`];
  return null;
}

/** The member's records as they would be stored. */
function memberMetadataRecord(groupId: string, m: ConsumerMember): CoordinatorRecord {
  return {
    type: 'consumer-group-member-metadata', groupId, memberId: m.memberId, value: {
      instanceId: m.instanceId, rackId: m.rackId, clientId: m.clientId, clientHost: m.clientHost,
      subscribedTopicNames: m.subscribedTopicNames, subscribedTopicRegex: m.subscribedTopicRegex,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs, serverAssignor: m.serverAssignor, classicMemberMetadata: null,
    },
  };
}

function currentAssignmentRecord(groupId: string, memberId: string, s: MemberAssignmentState): CoordinatorRecord {
  return {
    type: 'consumer-group-current-member-assignment', groupId, memberId, value: {
      memberEpoch: s.memberEpoch, previousMemberEpoch: s.previousMemberEpoch, state: s.state,
      assignedPartitions: fromAssignment(s.assigned), partitionsPendingRevocation: fromAssignment(s.pendingRevocation),
    },
  };
}

/** The group's assignor: the one most members ask for, else the configured default. */
export function groupAssignor(shard: GroupShard, members: Iterable<ConsumerMember>): string {
  const votes = new Map<string, number>();
  for (const m of members) if (m.serverAssignor !== null) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
  let best = shard.env.config.consumerAssignors[0] ?? 'uniform';
  let n = 0;
  for (const [name, v] of votes) if (v > n) [best, n] = [name, v];
  return best;
}

/**
 * Emits the records that move a group to `members` (the full membership after this operation):
 * a bumped group epoch when `bump` or the subscribed topics changed, and the new target assignment.
 * Returns the target assignment and its epoch.
 */
function updateGroup(shard: GroupShard, g: ConsumerGroup | undefined, groupId: string, members: Map<string, ConsumerMember>, bump: boolean, fx: Effects): { target: Map<string, Assignment>; epoch: number } {
  const subscribed = new Map<string, SubscribedTopic>();
  for (const m of members.values()) {
    for (const name of m.subscribedTopicNames) {
      const t = shard.env.topics.byName(name);
      if (t !== undefined) subscribed.set(name, { id: t.id, name, numPartitions: t.numPartitions });
    }
  }
  const before = g?.subscriptionMetadata ?? new Map<string, SubscribedTopic>();
  const metadataChanged = subscribed.size !== before.size
    || [...subscribed].some(([name, t]) => before.get(name)?.id !== t.id || before.get(name)?.numPartitions !== t.numPartitions);
  if (metadataChanged) {
    fx.records.push({ type: 'consumer-group-partition-metadata', groupId, value: { topics: [...subscribed.values()].map((t) => ({ topicId: t.id, topicName: t.name, numPartitions: t.numPartitions, partitionMetadata: [] })) } });
  }
  let groupEpoch = g?.groupEpoch ?? 0;
  if (bump || metadataChanged || g === undefined) {
    groupEpoch++;
    fx.records.push({ type: 'consumer-group-metadata', groupId, value: { epoch: groupEpoch } });
  }
  const current = g?.targetAssignment ?? new Map<string, Assignment>();
  if (g !== undefined && groupEpoch === g.assignmentEpoch) return { target: current, epoch: g.assignmentEpoch };
  const topics = new Map([...subscribed.values()].map((t) => [t.id, { id: t.id, numPartitions: t.numPartitions }]));
  const assign = ASSIGNORS.get(groupAssignor(shard, members.values())) ?? ASSIGNORS.get('uniform')!;
  const target = assign(
    [...members.values()].map((m) => ({
      memberId: m.memberId,
      topics: m.subscribedTopicNames.flatMap((n) => (subscribed.has(n) ? [subscribed.get(n)!.id] : [])),
      current: current.get(m.memberId) ?? new Map(),
    })),
    topics,
  );
  for (const [id, a] of target) {
    if (!sameAssignment(a, current.get(id) ?? new Map())) {
      fx.records.push({ type: 'consumer-group-target-assignment-member', groupId, memberId: id, value: { topicPartitions: fromAssignment(a) } });
    }
  }
  fx.records.push({ type: 'consumer-group-target-assignment-metadata', groupId, value: { assignmentEpoch: groupEpoch } });
  return { target, epoch: groupEpoch };
}

function scheduleSession(shard: GroupShard, groupId: string, memberId: string): void {
  shard.env.timer.schedule(sessionKey(groupId, memberId), shard.env.config.consumerSessionTimeoutMs, () => {
    const fx = new Effects();
    const g = shard.consumerGroup(groupId);
    if (g?.members.has(memberId)) {
      shard.env.log(`consumer group ${groupId}: member ${memberId} session expired`);
      removeMember(shard, g, memberId, fx);
    }
    return fx.result(undefined);
  });
}

function cancelTimers(shard: GroupShard, groupId: string, memberId: string): void {
  shard.env.timer.cancel(sessionKey(groupId, memberId));
  shard.env.timer.cancel(rebalanceKey(groupId, memberId));
}

/** Fences a member out: its records go, the group epoch is bumped, the rest get a new target. */
function removeMember(shard: GroupShard, g: ConsumerGroup, memberId: string, fx: Effects): void {
  cancelTimers(shard, g.groupId, memberId);
  fx.records.push(...memberTombstones(g.groupId, memberId));
  const rest = new Map(g.members);
  rest.delete(memberId);
  updateGroup(shard, g, g.groupId, rest, true, fx);
}

export function scheduleConsumerSessions(shard: GroupShard): void {
  for (const g of shard.groups.values()) {
    if (g.type === 'consumer') for (const id of g.members.keys()) scheduleSession(shard, g.groupId, id);
  }
}

export function consumerGroupHeartbeat(shard: GroupShard, req: ConsumerGroupHeartbeatRequest, meta: RequestMeta): Result<Response> {
  const fx = new Effects();
  const invalid = validate(req);
  if (invalid !== null) return fx.result(answer(...invalid));
  const existing = shard.groups.get(req.groupId);
  if (existing?.type === 'classic' && !(existing.is(ClassicState.EMPTY) && existing.pendingMembers.size === 0)) {
    return fx.result(answer(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a consumer group.`));
  }
  const g = shard.consumerGroup(req.groupId);
  const old = req.memberId === '' ? undefined : g?.members.get(req.memberId);

  if (req.memberEpoch === LEAVE_EPOCH || req.memberEpoch === STATIC_LEAVE_EPOCH) {
    if (g === undefined || old === undefined) return fx.result(answer(ErrorCode.UNKNOWN_MEMBER_ID));
    if (req.memberEpoch === STATIC_LEAVE_EPOCH) {
      // KIP-848: the partitions stay reserved for the instance until its session ends.
      fx.records.push(currentAssignmentRecord(g.groupId, old.memberId, { ...old, memberEpoch: STATIC_LEAVE_EPOCH, previousMemberEpoch: old.memberEpoch }));
    } else {
      removeMember(shard, g, old.memberId, fx);
    }
    return fx.result({ ...answer(ErrorCode.NONE), memberId: req.memberId, memberEpoch: req.memberEpoch });
  }

  if (req.memberEpoch > 0) {
    if (old === undefined) return fx.result(answer(ErrorCode.UNKNOWN_MEMBER_ID));
    if (req.memberEpoch !== old.memberEpoch) {
      const owned = req.topicPartitions === null ? null : toAssignment(req.topicPartitions);
      const ownsOnlyAssigned = owned !== null && [...owned].every(([t, ps]) => ps.every((p) => hasPartition(old.assigned, t, p)));
      if (!(req.memberEpoch === old.previousMemberEpoch && ownsOnlyAssigned)) {
        return fx.result(answer(ErrorCode.FENCED_MEMBER_EPOCH, `The consumer group member has a greater epoch (${old.memberEpoch}) than the one received (${req.memberEpoch}).`));
      }
    }
  }

  if (existing?.type === 'classic') fx.records.push({ type: 'group-metadata', groupId: req.groupId, value: null });
  const members = new Map(g?.members ?? []);
  let member: ConsumerMember;
  let replaced: ConsumerMember | undefined;
  if (req.memberEpoch === 0) {
    const prior = req.instanceId === null ? undefined : g?.memberByInstance(req.instanceId);
    if (prior !== undefined && prior.memberId !== req.memberId) {
      if (prior.memberEpoch !== STATIC_LEAVE_EPOCH) return fx.result(answer(ErrorCode.UNRELEASED_INSTANCE_ID, `Static member ${req.instanceId} is still in the group.`));
      replaced = prior;
    }
    const memberId = req.memberId !== '' ? req.memberId : shard.env.newUuid();
    member = replaced !== undefined
      ? { ...replaced, memberId, memberEpoch: replaced.previousMemberEpoch, previousMemberEpoch: -1 }
      : { ...newConsumerMember(memberId) };
  } else {
    member = { ...old! };
  }
  // Fields left null (or -1) in a heartbeat are unchanged.
  const next: ConsumerMember = {
    ...member,
    instanceId: req.instanceId ?? member.instanceId,
    rackId: req.rackId ?? member.rackId,
    rebalanceTimeoutMs: req.rebalanceTimeoutMs !== -1 ? req.rebalanceTimeoutMs : member.rebalanceTimeoutMs,
    subscribedTopicNames: req.subscribedTopicNames !== null ? [...req.subscribedTopicNames].sort() : member.subscribedTopicNames,
    serverAssignor: req.serverAssignor ?? member.serverAssignor,
    clientId: meta.clientId,
    clientHost: meta.clientHost,
  };
  const prev = replaced ?? old;
  const subscriptionChanged = prev === undefined
    || next.subscribedTopicNames.join(SEP) !== prev.subscribedTopicNames.join(SEP)
    || next.serverAssignor !== prev.serverAssignor;
  const metadataChanged = old === undefined || subscriptionChanged || next.instanceId !== old.instanceId || next.rackId !== old.rackId
    || next.rebalanceTimeoutMs !== old.rebalanceTimeoutMs || next.clientId !== old.clientId || next.clientHost !== old.clientHost;
  if (replaced !== undefined) {
    cancelTimers(shard, req.groupId, replaced.memberId);
    fx.records.push(...memberTombstones(req.groupId, replaced.memberId));
    members.delete(replaced.memberId);
  }
  if (metadataChanged) fx.records.push(memberMetadataRecord(req.groupId, next));
  members.set(next.memberId, next);

  let { target, epoch } = updateGroup(shard, g, req.groupId, members, subscriptionChanged, fx);
  if (replaced !== undefined) {
    // The new incarnation inherits the instance's target assignment.
    const inherited = target.get(replaced.memberId) ?? new Map();
    target = new Map(target);
    target.delete(replaced.memberId);
    target.set(next.memberId, inherited);
    fx.records.push({ type: 'consumer-group-target-assignment-member', groupId: req.groupId, memberId: next.memberId, value: { topicPartitions: fromAssignment(inherited) } });
  }

  const ownedElsewhere = (t: string, p: number) => {
    for (const o of members.values()) {
      if (o.memberId !== next.memberId && (hasPartition(o.assigned, t, p) || hasPartition(o.pendingRevocation, t, p))) return true;
    }
    return false;
  };
  const owned = req.topicPartitions === null ? null : toAssignment(req.topicPartitions);
  const state = reconcile(next, target.get(next.memberId) ?? new Map(), epoch, owned, ownedElsewhere);
  const isNewMember = old === undefined;
  if (isNewMember || !sameState(state, next)) fx.records.push(currentAssignmentRecord(req.groupId, next.memberId, state));

  scheduleSession(shard, req.groupId, next.memberId);
  if (state.state === MemberState.UNREVOKED_PARTITIONS) {
    if (!shard.env.timer.has(rebalanceKey(req.groupId, next.memberId))) {
      const { groupId } = req;
      const memberId = next.memberId;
      shard.env.timer.schedule(rebalanceKey(groupId, memberId), next.rebalanceTimeoutMs, () => {
        const fx2 = new Effects();
        const cg = shard.consumerGroup(groupId);
        if (cg?.members.get(memberId)?.state === MemberState.UNREVOKED_PARTITIONS) {
          shard.env.log(`consumer group ${groupId}: member ${memberId} did not revoke its partitions in time`);
          removeMember(shard, cg, memberId, fx2);
        }
        return fx2.result(undefined);
      });
    }
  } else {
    shard.env.timer.cancel(rebalanceKey(req.groupId, next.memberId));
  }

  const sendAssignment = req.memberEpoch === 0 || !sameAssignment(state.assigned, next.assigned) || (owned !== null && !sameAssignment(owned, state.assigned));
  return fx.result({
    throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null,
    memberId: next.memberId, memberEpoch: state.memberEpoch,
    heartbeatIntervalMs: shard.env.config.consumerHeartbeatIntervalMs,
    assignment: sendAssignment ? { topicPartitions: fromAssignment(state.assigned) } : null,
  });
}
