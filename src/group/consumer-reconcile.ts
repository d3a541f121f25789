// KIP-848 reconciliation: how a member's current assignment moves towards its target (Kafka's
// CurrentAssignmentBuilder). A member first gives up what is no longer its own
// (UNREVOKED_PARTITIONS: its epoch stays until it reports, in a heartbeat, that it owns none of
// them); then it gets the target's new partitions that no other member still holds
// (UNRELEASED_PARTITIONS while some are held) and its epoch becomes the target's.
import { MemberState, type Assignment } from './consumer-group.ts';

export interface MemberAssignmentState {
  memberEpoch: number;
  previousMemberEpoch: number;
  state: number;
  assigned: Assignment;
  pendingRevocation: Assignment;
}

export type OwnedElsewhere = (topicId: string, partition: number) => boolean;

export function toAssignment(tps: readonly { topicId: string; partitions: readonly number[] }[]): Assignment {
  const a: Assignment = new Map();
  for (const tp of tps) {
    if (tp.partitions.length === 0) continue;
    const ps = new Set([...(a.get(tp.topicId) ?? []), ...tp.partitions]);
    a.set(tp.topicId, [...ps].sort((x, y) => x - y));
  }
  return a;
}

export function sameAssignment(a: Assignment, b: Assignment): boolean {
  const keys = (x: Assignment) => [...x].filter(([, ps]) => ps.length > 0);
  const ka = keys(a);
  if (ka.length !== keys(b).length) return false;
  return ka.every(([t, ps]) => {
    const qs = b.get(t) ?? [];
    return ps.length === qs.length && ps.every((p, i) => p === qs[i]);
  });
}

export function hasPartition(a: Assignment, topicId: string, partition: number): boolean {
  return a.get(topicId)?.includes(partition) ?? false;
}

export function intersects(a: Assignment, b: Assignment): boolean {
  for (const [t, ps] of a) for (const p of ps) if (hasPartition(b, t, p)) return true;
  return false;
}

/** Partitions of `a` that `keep(t, p)` accepts. */
export function filterAssignment(a: Assignment, keep: (topicId: string, p: number) => boolean): Assignment {
  const out: Assignment = new Map();
  for (const [t, ps] of a) {
    const kept = ps.filter((p) => keep(t, p));
    if (kept.length > 0) out.set(t, kept);
  }
  return out;
}

function union(a: Assignment, b: Assignment): Assignment {
  const out: Assignment = new Map();
  for (const x of [a, b]) for (const [t, ps] of x) out.set(t, [...new Set([...(out.get(t) ?? []), ...ps])].sort((p, q) => p - q));
  return out;
}

export function partitionCount(a: Assignment): number {
  let n = 0;
  for (const ps of a.values()) n += ps.length;
  return n;
}

function advance(m: MemberAssignmentState, target: Assignment, targetEpoch: number, ownedElsewhere: OwnedElsewhere): MemberAssignmentState {
  const kept = filterAssignment(m.assigned, (t, p) => hasPartition(target, t, p));
  const revoke = filterAssignment(m.assigned, (t, p) => !hasPartition(target, t, p));
  if (partitionCount(revoke) > 0) {
    return { memberEpoch: m.memberEpoch, previousMemberEpoch: m.previousMemberEpoch, state: MemberState.UNREVOKED_PARTITIONS, assigned: kept, pendingRevocation: revoke };
  }
  const wanted = filterAssignment(target, (t, p) => !hasPartition(m.assigned, t, p));
  const free = filterAssignment(wanted, (t, p) => !ownedElsewhere(t, p));
  const held = partitionCount(wanted) - partitionCount(free);
  return {
    memberEpoch: targetEpoch,
    previousMemberEpoch: m.memberEpoch !== targetEpoch ? m.memberEpoch : m.previousMemberEpoch,
    state: held > 0 ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE,
    assigned: union(kept, free),
    pendingRevocation: new Map(),
  };
}

/**
 * The member's next state. `owned` is what the member reported owning in this heartbeat (null:
 * unchanged since its last report).
 */
export function reconcile(
  m: MemberAssignmentState,
  target: Assignment,
  targetEpoch: number,
  owned: Assignment | null,
  ownedElsewhere: OwnedElsewhere,
): MemberAssignmentState {
  switch (m.state) {
    case MemberState.UNREVOKED_PARTITIONS:
      if (owned === null || intersects(owned, m.pendingRevocation)) return m;
      return advance({ ...m, pendingRevocation: new Map() }, target, targetEpoch, ownedElsewhere);
    case MemberState.UNRELEASED_PARTITIONS:
      return advance(m, target, targetEpoch, ownedElsewhere);
    default:
      if (m.memberEpoch === targetEpoch && sameAssignment(m.assigned, target)) return m;
      return advance(m, target, targetEpoch, ownedElsewhere);
  }
}

export function sameState(a: MemberAssignmentState, b: MemberAssignmentState): boolean {
  return a.memberEpoch === b.memberEpoch && a.previousMemberEpoch === b.previousMemberEpoch && a.state === b.state
    && sameAssignment(a.assigned, b.assigned) && sameAssignment(a.pendingRevocation, b.pendingRevocation);
}
