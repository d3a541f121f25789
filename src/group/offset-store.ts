// Committed offsets of the groups of one __consumer_offsets partition: group → topic → partition.
// Written only by GroupShard.replay (OffsetCommit records and their tombstones).

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** Explicit expiry from OffsetCommit v2–v4 retention_time_ms (value v1), else -1. */
  expireTimestamp: number;
}

export class OffsetStore {
  readonly #groups = new Map<string, Map<string, Map<number, CommittedOffset>>>();

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.#groups.get(group)?.get(topic)?.get(partition);
  }

  set(group: string, topic: string, partition: number, o: CommittedOffset): void {
    let g = this.#groups.get(group);
    if (g === undefined) this.#groups.set(group, (g = new Map()));
    let t = g.get(topic);
    if (t === undefined) g.set(topic, (t = new Map()));
    t.set(partition, o);
  }

  delete(group: string, topic: string, partition: number): boolean {
    const g = this.#groups.get(group);
    const t = g?.get(topic);
    if (g === undefined || t === undefined || !t.delete(partition)) return false;
    if (t.size === 0) g.delete(topic);
    if (g.size === 0) this.#groups.delete(group);
    return true;
  }

  has(group: string): boolean {
    return this.#groups.has(group);
  }

  /** topic → partition → offset, for one group (empty map when it has none). */
  of(group: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>> {
    return this.#groups.get(group) ?? new Map();
  }

  groupIds(): IterableIterator<string> {
    return this.#groups.keys();
  }

  clear(): void {
    this.#groups.clear();
  }
}
