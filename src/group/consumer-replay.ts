// Replay of the KIP-848 ConsumerGroup* records (key versions 3–8) into ConsumerGroup state, and
// the tombstones that delete a whole group (members first, the group metadata last, as Kafka
// writes them, so a reader never sees members of a deleted group).
import { ConsumerGroup, newConsumerMember, type Assignment } from './consumer-group.ts';
import type { CoordinatorRecord } from './records.ts';
import type { GroupShard } from './shard.ts';

function toAssignment(tps: readonly { topicId: string; partitions: number[] }[]): Assignment {
  const a: Assignment = new Map();
  for (const tp of tps) if (tp.partitions.length > 0) a.set(tp.topicId, [...tp.partitions].sort((x, y) => x - y));
  return a;
}

export function fromAssignment(a: Assignment): { topicId: string; partitions: number[] }[] {
  return [...a].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions] }));
}

function groupFor(shard: GroupShard, groupId: string, create: boolean): ConsumerGroup | undefined {
  const g = shard.groups.get(groupId);
  if (g?.type === 'consumer') return g;
  if (!create) return undefined;
  // A classic group of the same id is replaced (only possible when it had no members).
  const cg = new ConsumerGroup(groupId, shard.env.timer.now());
  shard.groups.set(groupId, cg);
  return cg;
}

export function replayConsumerGroupRecord(shard: GroupShard, r: CoordinatorRecord): void {
  if (r.type === 'offset-commit' || r.type === 'group-metadata') return;
  const g = groupFor(shard, r.groupId, r.value !== null);
  if (g === undefined) return;
  switch (r.type) {
    case 'consumer-group-metadata':
      if (r.value === null) shard.groups.delete(r.groupId);
      else g.groupEpoch = r.value.epoch;
      return;
    case 'consumer-group-partition-metadata':
      g.subscriptionMetadata = new Map((r.value?.topics ?? []).map((t) => [t.topicName, { id: t.topicId, name: t.topicName, numPartitions: t.numPartitions }]));
      return;
    case 'consumer-group-member-metadata': {
      if (r.value === null) {
        if (g.members.delete(r.memberId) && g.members.size === 0) g.emptySince = shard.env.timer.now();
        return;
      }
      const m = g.members.get(r.memberId) ?? newConsumerMember(r.memberId);
      const v = r.value;
      m.instanceId = v.instanceId;
      m.rackId = v.rackId;
      m.clientId = v.clientId;
      m.clientHost = v.clientHost;
      m.subscribedTopicNames = [...v.subscribedTopicNames];
      m.subscribedTopicRegex = v.subscribedTopicRegex;
      m.rebalanceTimeoutMs = v.rebalanceTimeoutMs;
      m.serverAssignor = v.serverAssignor;
      g.members.set(r.memberId, m);
      return;
    }
    case 'consumer-group-target-assignment-metadata':
      g.assignmentEpoch = r.value?.assignmentEpoch ?? 0;
      return;
    case 'consumer-group-target-assignment-member':
      if (r.value === null) g.targetAssignment.delete(r.memberId);
      else g.targetAssignment.set(r.memberId, toAssignment(r.value.topicPartitions));
      return;
    case 'consumer-group-current-member-assignment': {
      const m = g.members.get(r.memberId);
      if (m === undefined) return;
      if (r.value === null) {
        m.memberEpoch = -1;
        m.previousMemberEpoch = -1;
        m.assigned = new Map();
        m.pendingRevocation = new Map();
        return;
      }
      m.memberEpoch = r.value.memberEpoch;
      m.previousMemberEpoch = r.value.previousMemberEpoch;
      m.state = r.value.state;
      m.assigned = toAssignment(r.value.assignedPartitions);
      m.pendingRevocation = toAssignment(r.value.partitionsPendingRevocation);
      return;
    }
  }
}

/** Tombstones of one member's three records. */
export function memberTombstones(groupId: string, memberId: string): CoordinatorRecord[] {
  return [
    { type: 'consumer-group-current-member-assignment', groupId, memberId, value: null },
    { type: 'consumer-group-target-assignment-member', groupId, memberId, value: null },
    { type: 'consumer-group-member-metadata', groupId, memberId, value: null },
  ];
}

export function consumerGroupTombstones(g: ConsumerGroup): CoordinatorRecord[] {
  const out: CoordinatorRecord[] = [];
  for (const id of g.members.keys()) out.push(...memberTombstones(g.groupId, id));
  out.push(
    { type: 'consumer-group-target-assignment-metadata', groupId: g.groupId, value: null },
    { type: 'consumer-group-partition-metadata', groupId: g.groupId, value: null },
    { type: 'consumer-group-metadata', groupId: g.groupId, value: null },
  );
  return out;
}
