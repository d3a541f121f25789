// Server-side assignors of KIP-848 consumer groups: they compute the target assignment of a group
// epoch from the members' subscriptions and the topics' partition counts.
//  - "uniform" (Kafka's default): spreads all partitions so member counts differ by at most one
//    among members with the same subscription, keeping each member's current partitions where the
//    balance allows (sticky), so a membership change moves as few partitions as possible.
//  - "range": per topic, the subscribed members sorted by id get contiguous ranges, the first
//    (partitions % members) one partition more — what clients of the classic "range" expect.
// Deterministic: members and topics are visited in sorted order.
import type { Assignment } from './consumer-group.ts';

export interface AssignorMember {
  memberId: string;
  /** Subscribed topic ids (topics that exist). */
  topics: readonly string[];
  /** The member's target assignment of the previous epoch (for stickiness). */
  current: Assignment;
}

export interface AssignorTopic {
  id: string;
  numPartitions: number;
}

export type Assignor = (members: readonly AssignorMember[], topics: ReadonlyMap<string, AssignorTopic>) => Map<string, Assignment>;

const byId = <T extends { memberId: string }>(a: T, b: T): number => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);

function add(a: Assignment, topicId: string, partition: number): void {
  const ps = a.get(topicId);
  if (ps === undefined) a.set(topicId, [partition]);
  else ps.push(partition);
}

function normalize(a: Assignment): Assignment {
  for (const [t, ps] of a) {
    if (ps.length === 0) a.delete(t);
    else ps.sort((x, y) => x - y);
  }
  return a;
}

export const rangeAssignor: Assignor = (members, topics) => {
  const out = new Map<string, Assignment>(members.map((m) => [m.memberId, new Map()]));
  for (const topicId of [...topics.keys()].sort()) {
    const subscribers = members.filter((m) => m.topics.includes(topicId)).sort(byId);
    if (subscribers.length === 0) continue;
    const n = topics.get(topicId)!.numPartitions;
    const base = Math.floor(n / subscribers.length);
    const extra = n % subscribers.length;
    let next = 0;
    subscribers.forEach((m, i) => {
      const count = base + (i < extra ? 1 : 0);
      for (let k = 0; k < count; k++) add(out.get(m.memberId)!, topicId, next++);
    });
  }
  for (const a of out.values()) normalize(a);
  return out;
};

export const uniformAssignor: Assignor = (members, topics) => {
  const sorted = [...members].sort(byId);
  const out = new Map<string, Assignment>(sorted.map((m) => [m.memberId, new Map()]));
  const load = new Map<string, number>(sorted.map((m) => [m.memberId, 0]));
  // Each partition's eligible members; quotas balance members that share a subscription.
  const partitions: [string, number][] = [];
  for (const topicId of [...topics.keys()].sort()) {
    for (let p = 0; p < topics.get(topicId)!.numPartitions; p++) partitions.push([topicId, p]);
  }
  const eligible = (topicId: string) => sorted.filter((m) => m.topics.includes(topicId));
  const total = partitions.filter(([t]) => eligible(t).length > 0).length;
  const quota = sorted.length === 0 ? 0 : Math.ceil(total / sorted.length);
  const taken = new Set<string>();
  const key = (t: string, p: number) => `${t}:${p}`;
  // 1. Stickiness: keep current partitions, up to the quota.
  for (const m of sorted) {
    for (const [topicId, ps] of m.current) {
      const topic = topics.get(topicId);
      if (topic === undefined || !m.topics.includes(topicId)) continue;
      for (const p of ps) {
        if (p >= topic.numPartitions || taken.has(key(topicId, p)) || load.get(m.memberId)! >= quota) continue;
        taken.add(key(topicId, p));
        add(out.get(m.memberId)!, topicId, p);
        load.set(m.memberId, load.get(m.memberId)! + 1);
      }
    }
  }
  // 2. The rest to the least loaded eligible member (ties: smallest member id).
  for (const [topicId, p] of partitions) {
    if (taken.has(key(topicId, p))) continue;
    const candidates = eligible(topicId);
    if (candidates.length === 0) continue;
    let best = candidates[0];
    for (const c of candidates) if (load.get(c.memberId)! < load.get(best.memberId)!) best = c;
    taken.add(key(topicId, p));
    add(out.get(best.memberId)!, topicId, p);
    load.set(best.memberId, load.get(best.memberId)! + 1);
  }
  // 3. Stickiness may leave a member over others by more than one: move the excess.
  for (;;) {
    let max = sorted[0];
    let min = sorted[0];
    for (const m of sorted) {
      if (load.get(m.memberId)! > load.get(max.memberId)!) max = m;
      if (load.get(m.memberId)! < load.get(min.memberId)!) min = m;
    }
    if (max === undefined || load.get(max.memberId)! - load.get(min.memberId)! <= 1) break;
    const from = out.get(max.memberId)!;
    const movable = [...from].find(([t, ps]) => ps.length > 0 && min.topics.includes(t));
    if (movable === undefined) break;
    const p = movable[1].pop()!;
    add(out.get(min.memberId)!, movable[0], p);
    load.set(max.memberId, load.get(max.memberId)! - 1);
    load.set(min.memberId, load.get(min.memberId)! + 1);
  }
  for (const a of out.values()) normalize(a);
  return out;
};

export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map([
  ['uniform', uniformAssignor],
  ['range', rangeAssignor],
]);
