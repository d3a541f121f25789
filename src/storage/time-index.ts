// Time index of one segment (.timeindex): entries of (timestamp: int64, offset - segment base: int32).
// An entry (T, o) says: the largest batch max timestamp among batches with base offset <= o in this
// segment is T. Entries are added with offset-index entries when T grew, and once more when the
// segment is sealed, so the last entry carries the segment's max timestamp (retention.ms reads it).

export const TIME_ENTRY_SIZE = 12;

export class TimeIndex {
  readonly baseOffset: number;
  readonly maxEntries: number;
  #ts: Float64Array;
  #rel: Int32Array;
  count = 0;
  persisted = 0;

  constructor(baseOffset: number, maxEntries: number, capacity = 16) {
    this.baseOffset = baseOffset;
    this.maxEntries = Math.max(1, maxEntries);
    this.#ts = new Float64Array(capacity);
    this.#rel = new Int32Array(capacity);
  }

  isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  lastTimestamp(): number {
    return this.count === 0 ? -1 : this.#ts[this.count - 1];
  }

  lastOffset(): number {
    return this.count === 0 ? -1 : this.baseOffset + this.#rel[this.count - 1];
  }

  /** Adds (timestamp, offset) when the timestamp grew; an equal offset replaces the last entry. */
  maybeAppend(timestamp: number, offset: number): void {
    if (timestamp <= this.lastTimestamp()) return;
    const rel = offset - this.baseOffset;
    if (this.count > 0 && rel < this.#rel[this.count - 1]) return;
    if (this.count > 0 && rel === this.#rel[this.count - 1]) {
      if (this.persisted === this.count) this.persisted--;
      this.#ts[this.count - 1] = timestamp;
      return;
    }
    if (this.count === this.#ts.length) {
      const n = this.#ts.length * 2;
      const t = new Float64Array(n);
      const r = new Int32Array(n);
      t.set(this.#ts);
      r.set(this.#rel);
      this.#ts = t;
      this.#rel = r;
    }
    this.#ts[this.count] = timestamp;
    this.#rel[this.count] = rel;
    this.count++;
  }

  /** Base offset to start a search for the first batch with max timestamp >= `target`. */
  searchStart(target: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#ts[mid] < target) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans < 0 ? this.baseOffset : this.baseOffset + this.#rel[ans];
  }

  truncateToOffset(offset: number): void {
    while (this.count > 0 && this.baseOffset + this.#rel[this.count - 1] >= offset) this.count--;
    if (this.persisted > this.count) this.persisted = this.count;
  }

  encode(from = 0, to = this.count): Buffer {
    const out = Buffer.allocUnsafe((to - from) * TIME_ENTRY_SIZE);
    for (let i = from, o = 0; i < to; i++, o += TIME_ENTRY_SIZE) {
      out.writeBigInt64BE(BigInt(this.#ts[i]), o);
      out.writeInt32BE(this.#rel[i], o + 8);
    }
    return out;
  }

  /** Parses .timeindex bytes; null when not a valid index (partial entry, decreasing fields). */
  static decode(baseOffset: number, maxEntries: number, data: Buffer): TimeIndex | null {
    if (data.length % TIME_ENTRY_SIZE !== 0) return null;
    const n = data.length / TIME_ENTRY_SIZE;
    const idx = new TimeIndex(baseOffset, Math.max(maxEntries, n), Math.max(16, n));
    let lastTs = Number.NEGATIVE_INFINITY;
    let lastRel = -1;
    for (let o = 0; o < data.length; o += TIME_ENTRY_SIZE) {
      const ts = Number(data.readBigInt64BE(o));
      const rel = data.readInt32BE(o + 8);
      if (ts <= lastTs || rel < lastRel || rel < 0) return null;
      idx.#ts[idx.count] = ts;
      idx.#rel[idx.count] = rel;
      idx.count++;
      lastTs = ts;
      lastRel = rel;
    }
    idx.persisted = idx.count;
    return idx;
  }
}
