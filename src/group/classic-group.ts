// The classic group protocol's model (JoinGroup/SyncGroup/Heartbeat/LeaveGroup): members, the
// generation, the chosen protocol and the rebalance state machine
//   Empty → PreparingRebalance → CompletingRebalance → Stable → PreparingRebalance ...
// Dead is the state of a deleted group (never stored; a removed group is simply absent).
//
// What is durable (GroupMetadataValue: generation, protocol, leader, members with the metadata of
// the chosen protocol and their assignments) changes in GroupShard.replay. Who is waiting on a
// JoinGroup or SyncGroup, pending member ids (KIP-394) and session deadlines are volatile, as in
// Kafka: when the coordinator moves, members rejoin.
import type { JoinGroupResponse } from '../protocol/generated/join-group-response.ts';
import type { SyncGroupResponse } from '../protocol/generated/sync-group-response.ts';
import type { Reply } from './result.ts';

export const ClassicState = {
  EMPTY: 'Empty',
  PREPARING_REBALANCE: 'PreparingRebalance',
  COMPLETING_REBALANCE: 'CompletingRebalance',
  STABLE: 'Stable',
  DEAD: 'Dead',
} as const;
export type ClassicStateName = (typeof ClassicState)[keyof typeof ClassicState];

export interface ClassicProtocol {
  name: string;
  metadata: Buffer;
}

export interface ParkedJoin {
  reply: Reply<JoinGroupResponse>;
  version: number;
}

export interface ClassicMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  /** In the member's order of preference. */
  protocols: ClassicProtocol[];
  assignment: Buffer;
  /** A JoinGroup waiting for the join phase to end. */
  awaitingJoin: ParkedJoin | null;
  /** A SyncGroup waiting for the leader's assignment. */
  awaitingSync: Reply<SyncGroupResponse> | null;
  /** Joined during the current rebalance (its session is not yet established). */
  isNew: boolean;
}

const EMPTY = Buffer.alloc(0);

export function newClassicMember(init: Partial<ClassicMember> & { memberId: string }): ClassicMember {
  return {
    groupInstanceId: null, clientId: '', clientHost: '', rebalanceTimeoutMs: -1, sessionTimeoutMs: 0,
    protocols: [], assignment: EMPTY, awaitingJoin: null, awaitingSync: null, isNew: false,
    ...init,
  };
}

export class ClassicGroup {
  readonly type = 'classic' as const;
  readonly groupId: string;
  state: ClassicStateName = ClassicState.EMPTY;
  /** When the group entered its current state (GroupMetadataValue.currentStateTimestamp). */
  stateTimestamp: number;
  generationId = 0;
  /** Kept when the group empties: offsets retention depends on it (KIP-211). */
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, ClassicMember>();
  /** group.instance.id → member id (KIP-345). */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined (KIP-394). */
  readonly pendingMembers = new Set<string>();
  /** Members of this generation that have not sent SyncGroup yet. */
  readonly pendingSync = new Set<string>();
  /** The join phase is held open by group.initial.rebalance.delay.ms (the group was empty). */
  initialDelayActive = false;
  /** A new member joined while the initial rebalance delay ran. */
  newMemberAdded = false;

  constructor(groupId: string, now: number) {
    this.groupId = groupId;
    this.stateTimestamp = now;
  }

  transitionTo(state: ClassicStateName, now: number): void {
    this.state = state;
    this.stateTimestamp = now;
  }

  is(state: ClassicStateName): boolean {
    return this.state === state;
  }

  get size(): number {
    return this.members.size;
  }

  memberByInstance(instanceId: string): ClassicMember | undefined {
    const id = this.staticMembers.get(instanceId);
    return id === undefined ? undefined : this.members.get(id);
  }

  add(member: ClassicMember): void {
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    if (this.leaderId === null) this.leaderId = member.memberId;
  }

  remove(memberId: string): ClassicMember | undefined {
    const m = this.members.get(memberId);
    if (m === undefined) return undefined;
    this.members.delete(memberId);
    this.pendingSync.delete(memberId);
    if (m.groupInstanceId !== null && this.staticMembers.get(m.groupInstanceId) === memberId) {
      this.staticMembers.delete(m.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      // Prefer a member already waiting in the join phase, so the new leader gets the member list.
      let next: string | null = null;
      for (const o of this.members.values()) {
        if (o.awaitingJoin !== null) { next = o.memberId; break; }
      }
      this.leaderId = next ?? this.members.keys().next().value ?? null;
    }
    return m;
  }

  /** Moves a static member to a new member id (KIP-345: a restarted instance fences the old id). */
  replaceStaticMember(instanceId: string, oldMemberId: string, newMemberId: string): ClassicMember {
    const m = this.members.get(oldMemberId)!;
    this.members.delete(oldMemberId);
    m.memberId = newMemberId;
    this.members.set(newMemberId, m);
    this.staticMembers.set(instanceId, newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    if (this.pendingSync.delete(oldMemberId)) this.pendingSync.add(newMemberId);
    return m;
  }

  /** Protocol names every member supports. */
  commonProtocols(): Set<string> {
    let common: Set<string> | null = null;
    for (const m of this.members.values()) {
      const names = new Set(m.protocols.map((p) => p.name));
      if (common === null) common = names;
      else for (const n of common) if (!names.has(n)) common.delete(n);
    }
    return common ?? new Set();
  }

  /**
   * Whether a (new or rejoining) member with these protocols may be in the group: the protocol
   * type must match and some protocol must be supported by it and by every other member.
   * An empty group accepts any non-empty protocol list.
   */
  supportsProtocols(protocolType: string, protocols: readonly ClassicProtocol[], exceptMemberId?: string): boolean {
    if (protocolType === '' || protocols.length === 0) return false;
    const others = [...this.members.values()].filter((m) => m.memberId !== exceptMemberId);
    if (others.length === 0) return true;
    if (this.protocolType !== protocolType) return false;
    return protocols.some((p) => others.every((m) => m.protocols.some((q) => q.name === p.name)));
  }

  /**
   * Kafka's vote: among the protocols all members support, each member votes for the first in its
   * own preference order; most votes wins (ties go to the leader's preference order).
   */
  selectProtocol(): string | null {
    const candidates = this.commonProtocols();
    if (candidates.size === 0) return null;
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    const leader = (this.leaderId !== null ? this.members.get(this.leaderId) : undefined) ?? this.members.values().next().value!;
    let best: string | null = null;
    let bestVotes = -1;
    for (const p of leader.protocols) {
      const v = votes.get(p.name) ?? 0;
      if (candidates.has(p.name) && v > bestVotes) {
        best = p.name;
        bestVotes = v;
      }
    }
    return best;
  }

  /** The member's metadata for the group's chosen protocol. */
  metadataOf(m: ClassicMember, protocol: string | null = this.protocolName): Buffer {
    return m.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }

  allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const m of this.members.values()) if (m.awaitingJoin === null) return false;
    return true;
  }

  maxRebalanceTimeoutMs(): number {
    let t = 0;
    for (const m of this.members.values()) t = Math.max(t, m.rebalanceTimeoutMs);
    return t;
  }
}
