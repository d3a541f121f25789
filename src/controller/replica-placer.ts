// Replica placement for new partitions, in the spirit of Kafka's StripedReplicaPlacer (KIP-660
// era KRaft placer) and the rack-aware assignment of KIP-36:
//
// - only usable brokers (registered, unfenced, not in controlled shutdown) receive replicas;
// - brokers are laid out in a "striped" ring that alternates racks (rack order and the order inside
//   each rack shuffled by the injected random source), so neighbours in the ring sit on different
//   racks whenever there are several;
// - the leader (first replica) of consecutive partitions walks the ring from a random start, so
//   leadership is spread evenly: over k*n partitions every broker leads exactly k;
// - followers are taken further along the ring, first from racks the partition does not use yet,
//   then from any broker not already chosen; the distance to the first follower grows every full
//   turn of the ring, so follower sets vary as well.
//
// Brokers without a rack are treated as one rack when some brokers have racks (as Kafka does), and
// each as its own rack when none do (plain round robin).

import { KafkaError, ErrorCode } from '../protocol/errors.ts';
import { shuffled, type RandomSource } from './ids.ts';

export interface PlacementBroker {
  readonly id: number;
  readonly rack: string | null;
}

/** The placement rack of a broker: its rack, or itself when no broker has a rack. */
function rackKey(b: PlacementBroker, anyRack: boolean): string {
  return anyRack ? `r:${b.rack ?? ''}` : `b:${b.id}`;
}

export function stripedRing(brokers: readonly PlacementBroker[], random: RandomSource): PlacementBroker[] {
  const anyRack = brokers.some((b) => b.rack !== null);
  const byRack = new Map<string, PlacementBroker[]>();
  const sorted = brokers.slice().sort((a, b) => a.id - b.id);
  for (const b of sorted) {
    const key = rackKey(b, anyRack);
    let list = byRack.get(key);
    if (list === undefined) byRack.set(key, (list = []));
    list.push(b);
  }
  const racks = shuffled([...byRack.keys()].sort(), random).map((k) => shuffled(byRack.get(k)!, random));
  const ring: PlacementBroker[] = [];
  const deepest = Math.max(0, ...racks.map((r) => r.length));
  for (let i = 0; i < deepest; i++) for (const r of racks) if (i < r.length) ring.push(r[i]);
  return ring;
}

/**
 * Replica lists for `count` new partitions with `replicationFactor` replicas each.
 * Throws KafkaError(INVALID_REPLICATION_FACTOR) when there are not enough usable brokers.
 */
export function placeReplicas(
  brokers: readonly PlacementBroker[],
  count: number,
  replicationFactor: number,
  random: RandomSource,
): number[][] {
  if (brokers.length === 0) {
    throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'There are no usable (registered and unfenced) brokers.');
  }
  if (replicationFactor > brokers.length) {
    throw new KafkaError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      `Unable to replicate the partition ${replicationFactor} time(s): the target replication factor of ` +
        `${replicationFactor} cannot be reached because only ${brokers.length} broker(s) are usable.`,
    );
  }
  const ring = stripedRing(brokers, random);
  const n = ring.length;
  const anyRack = brokers.some((b) => b.rack !== null);
  const rackOf = (b: PlacementBroker) => rackKey(b, anyRack);
  const start = Math.floor(random() * n);
  const shiftStart = Math.floor(random() * n);
  const out: number[][] = [];
  for (let p = 0; p < count; p++) {
    const leaderPos = (start + p) % n;
    const chosen: PlacementBroker[] = [ring[leaderPos]];
    const usedRacks = new Set([rackOf(ring[leaderPos])]);
    const shift = n > 1 ? (shiftStart + Math.floor(p / n)) % (n - 1) : 0;
    // Pass 0 only takes brokers on racks not used yet; pass 1 takes whatever is left.
    for (let pass = 0; pass < 2 && chosen.length < replicationFactor; pass++) {
      for (let k = 0; k < n - 1 && chosen.length < replicationFactor; k++) {
        const b = ring[(leaderPos + 1 + ((shift + k) % (n - 1))) % n];
        if (chosen.includes(b)) continue;
        if (pass === 0 && usedRacks.has(rackOf(b))) continue;
        chosen.push(b);
        usedRacks.add(rackOf(b));
      }
    }
    out.push(chosen.map((b) => b.id));
  }
  return out;
}
