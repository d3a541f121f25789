// The KIP-848 consumer group model (group.protocol=consumer). The coordinator owns the
// assignment: each heartbeat may bump the group epoch (membership or subscription changed), the
// target assignment is recomputed by a server-side assignor for that epoch, and each member
// reconciles towards its target: partitions still owned by another member are held back until
// that member has revoked them, and a member's epoch advances to the assignment epoch once it owns
// no partition it must give up.
//
// All of it is durable (ConsumerGroup* records, key versions 3–8) and changes only in replay.
// Volatile: session and rebalance-timeout deadlines.

export const ConsumerGroupState = {
  EMPTY: 'Empty',
  ASSIGNING: 'Assigning',
  RECONCILING: 'Reconciling',
  STABLE: 'Stable',
} as const;
export type ConsumerGroupStateName = (typeof ConsumerGroupState)[keyof typeof ConsumerGroupState];

/** ConsumerGroupMember.MemberState as stored in ConsumerGroupCurrentMemberAssignmentValue.State. */
export const MemberState = {
  STABLE: 0,
  UNREVOKED_PARTITIONS: 1,
  UNRELEASED_PARTITIONS: 2,
  UNKNOWN: 127,
} as const;

/** topic id → sorted partition indexes. */
export type Assignment = Map<string, number[]>;

export interface ConsumerMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
  memberEpoch: number;
  previousMemberEpoch: number;
  state: number;
  assigned: Assignment;
  pendingRevocation: Assignment;
}

export function newConsumerMember(memberId: string): ConsumerMember {
  return {
    memberId, instanceId: null, rackId: null, clientId: '', clientHost: '', subscribedTopicNames: [],
    subscribedTopicRegex: null, rebalanceTimeoutMs: -1, serverAssignor: null, memberEpoch: 0,
    previousMemberEpoch: -1, state: MemberState.STABLE, assigned: new Map(), pendingRevocation: new Map(),
  };
}

export interface SubscribedTopic {
  id: string;
  name: string;
  numPartitions: number;
}

export class ConsumerGroup {
  readonly type = 'consumer' as const;
  readonly groupId: string;
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerMember>();
  /** memberId → target assignment of the assignment epoch. */
  readonly targetAssignment = new Map<string, Assignment>();
  /** The subscribed topics as of the last group epoch bump, by name (ConsumerGroupPartitionMetadata). */
  subscriptionMetadata = new Map<string, SubscribedTopic>();
  /** When the group last became empty (offset retention). */
  emptySince: number;

  constructor(groupId: string, now: number) {
    this.groupId = groupId;
    this.emptySince = now;
  }

  get state(): ConsumerGroupStateName {
    if (this.members.size === 0) return ConsumerGroupState.EMPTY;
    if (this.groupEpoch > this.assignmentEpoch) return ConsumerGroupState.ASSIGNING;
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== MemberState.STABLE) return ConsumerGroupState.RECONCILING;
    }
    return ConsumerGroupState.STABLE;
  }

  /** Topic names any member subscribes to. */
  subscribedTopicNames(): Set<string> {
    const s = new Set<string>();
    for (const m of this.members.values()) for (const t of m.subscribedTopicNames) s.add(t);
    return s;
  }

  memberByInstance(instanceId: string): ConsumerMember | undefined {
    for (const m of this.members.values()) if (m.instanceId === instanceId) return m;
    return undefined;
  }
}
