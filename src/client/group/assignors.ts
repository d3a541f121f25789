// Partition assignors run by the group leader (client-side assignment of the classic protocol).
//
// range (Kafka's RangeAssignor, EAGER): per topic, the subscribed members sorted by member id get
// contiguous ranges; the first (partitions % members) get one extra.
//
// cooperative-sticky (KIP-429, COOPERATIVE): keeps each member's owned partitions where the result
// stays balanced, hands out the rest to the least-loaded subscribed member, then moves partitions
// from members holding two or more above another eligible member. A partition that changes owner is
// left out of this generation's assignment: its previous owner revokes it and rejoins, and the
// following rebalance gives it to its new owner, so no partition is ever owned twice.
import type { Assignment, Subscription } from './consumer-protocol.ts';

export type RebalanceProtocol = 'eager' | 'cooperative';

export interface MemberSubscription extends Subscription {
  memberId: string;
}

export interface Assignor {
  readonly name: string;
  readonly protocol: RebalanceProtocol;
  /** partitionCounts: topic → number of partitions, for every topic some member subscribes to. */
  assign(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Map<string, Assignment>;
}

const byId = (a: { memberId: string }, b: { memberId: string }): number => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);

function emptyAssignments(members: readonly MemberSubscription[]): Map<string, Assignment> {
  return new Map(members.map((m) => [m.memberId, new Map()]));
}

function add(a: Assignment, topic: string, partition: number): void {
  const list = a.get(topic);
  if (list === undefined) a.set(topic, [partition]);
  else list.push(partition);
}

export const rangeAssignor: Assignor = {
  name: 'range',
  protocol: 'eager',
  assign(members, partitionCounts) {
    const out = emptyAssignments(members);
    for (const [topic, n] of [...partitionCounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const subs = members.filter((m) => m.topics.includes(topic)).sort(byId);
      if (subs.length === 0) continue;
      const per = Math.floor(n / subs.length);
      const extra = n % subs.length;
      subs.forEach((m, i) => {
        const start = i * per + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        for (let p = start; p < start + length; p++) add(out.get(m.memberId)!, topic, p);
      });
    }
    return out;
  },
};

type Tp = string;
const tp = (topic: string, partition: number): Tp => `${partition}\u0000${topic}`;
const parseTp = (key: Tp): [string, number] => {
  const i = key.indexOf('\u0000');
  return [key.slice(i + 1), Number(key.slice(0, i))];
};

export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  protocol: 'cooperative',
  assign(members, partitionCounts) {
    const sorted = [...members].sort(byId);
    const all: Tp[] = [];
    for (const [topic, n] of [...partitionCounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!sorted.some((m) => m.topics.includes(topic))) continue;
      for (let p = 0; p < n; p++) all.push(tp(topic, p));
    }
    const eligible = (m: MemberSubscription, key: Tp): boolean => m.topics.includes(parseTp(key)[0]);

    // 1. Previous owners, as claimed; on a conflict the claim from the highest generation wins.
    const previousOwner = new Map<Tp, string>();
    const claimants = [...sorted].sort((a, b) => b.generationId - a.generationId || byId(a, b));
    for (const m of claimants) {
      for (const [topic, ps] of m.ownedPartitions) {
        for (const p of ps) {
          const key = tp(topic, p);
          if (p < (partitionCounts.get(topic) ?? 0) && m.topics.includes(topic) && !previousOwner.has(key)) previousOwner.set(key, m.memberId);
        }
      }
    }
    const held = new Map<string, Tp[]>(sorted.map((m) => [m.memberId, []]));
    for (const key of all) {
      const owner = previousOwner.get(key);
      if (owner !== undefined) held.get(owner)!.push(key);
    }

    // 2. Unowned partitions to the least-loaded eligible member.
    for (const key of all) {
      if (previousOwner.has(key)) continue;
      let best: MemberSubscription | null = null;
      for (const m of sorted) {
        if (!eligible(m, key)) continue;
        if (best === null || held.get(m.memberId)!.length < held.get(best.memberId)!.length) best = m;
      }
      if (best !== null) held.get(best.memberId)!.push(key);
    }

    // 3. Balance: move from the most loaded member to an eligible one with at least two fewer.
    for (let moves = 0; moves < all.length * Math.max(1, sorted.length); moves++) {
      let moved = false;
      const load = (m: MemberSubscription): number => held.get(m.memberId)!.length;
      const byLoad = [...sorted].sort((a, b) => load(b) - load(a) || byId(a, b));
      const ascending = [...byLoad].reverse();
      for (const from of byLoad) {
        const mine = held.get(from.memberId)!;
        for (let i = mine.length - 1; i >= 0 && !moved; i--) {
          const key = mine[i];
          const to = ascending.find((m) => m !== from && eligible(m, key) && load(m) <= mine.length - 2);
          if (to !== undefined) {
            mine.splice(i, 1);
            held.get(to.memberId)!.push(key);
            moved = true;
          }
        }
        if (moved) break;
      }
      if (!moved) break;
    }

    // 4. Cooperative: a partition still owned by another member is withheld for one generation.
    const out = emptyAssignments(sorted);
    for (const m of sorted) {
      for (const key of held.get(m.memberId)!.sort()) {
        const owner = previousOwner.get(key);
        if (owner !== undefined && owner !== m.memberId) continue;
        const [topic, p] = parseTp(key);
        add(out.get(m.memberId)!, topic, p);
      }
      for (const ps of out.get(m.memberId)!.values()) ps.sort((a, b) => a - b);
    }
    return out;
  },
};

export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map([rangeAssignor, cooperativeStickyAssignor].map((a) => [a.name, a]));

/**
 * The rebalance protocol a member follows with these assignors: cooperative only when every one
 * of them supports it (Kafka's rule, so a group can move from range to cooperative-sticky in two
 * rolling restarts).
 */
export function rebalanceProtocolOf(assignors: readonly Assignor[]): RebalanceProtocol {
  return assignors.every((a) => a.protocol === 'cooperative') ? 'cooperative' : 'eager';
}
