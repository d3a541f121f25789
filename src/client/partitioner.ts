// Kafka's default partitioning, so that Brook's producer puts a key where the Java client (and
// librdkafka's `murmur2_random`) would: partition = toPositive(murmur2(keyBytes)) % numPartitions,
// over all partitions whether or not they have a leader. Records without a key use the sticky
// partitioner (KIP-480): every keyless record for a topic goes to one partition, chosen at random
// among those with a leader, until the producer closes that partition's batch, and then another
// one is chosen (a different one when there is a choice).

const M = 0x5bd1e995;

/** Kafka's `Utils.murmur2`: 32-bit MurmurHash2 with seed 0x9747b28c, as a signed int32. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = length & ~3;
  switch (length & 3) {
    case 3:
      h ^= data[tail + 2] << 16;
    // falls through
    case 2:
      h ^= data[tail + 1] << 8;
    // falls through
    case 1:
      h ^= data[tail];
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not Math.abs, which fails for MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition Kafka's default partitioner picks for a non-null key. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions;
}

export class StickyPartitioner {
  private readonly sticky = new Map<string, number>();
  private readonly random: () => number;

  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  /** The current sticky partition for keyless records of `topic`. */
  partition(topic: string, available: readonly number[], numPartitions: number): number {
    const current = this.sticky.get(topic);
    if (current !== undefined && current < numPartitions && (available.length === 0 || available.includes(current))) return current;
    return this.choose(topic, available, numPartitions, current);
  }

  /** Called when the batch of `topic`'s sticky partition `closed` is closed: moves on. */
  batchClosed(topic: string, closed: number, available: readonly number[], numPartitions: number): void {
    if (this.sticky.get(topic) === closed) this.choose(topic, available, numPartitions, closed);
  }

  private choose(topic: string, available: readonly number[], numPartitions: number, avoid: number | undefined): number {
    const pool = available.length > 0 ? available : Array.from({ length: numPartitions }, (_, i) => i);
    const others = pool.length > 1 && avoid !== undefined ? pool.filter((p) => p !== avoid) : pool;
    const chosen = others[Math.floor(this.random() * others.length) % others.length];
    this.sticky.set(topic, chosen);
    return chosen;
  }
}
