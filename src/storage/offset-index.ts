// Sparse offset index of one segment (.index): entries of (offset - segment base: int32, file
// position: int32), big-endian, one every index.interval.bytes of log data. Kafka indexes a batch by
// its last offset; Brook stores the batch's *base* offset, so an entry always names the first offset
// of the batch that starts at that position, which recovery can verify by reading the batch header.
// Entries are kept in memory (typed arrays) and written to the file at segment roll, checkpoint and
// close; the file is never authoritative for data after the recovery point.

export const OFFSET_ENTRY_SIZE = 8;

export class OffsetIndex {
  readonly baseOffset: number;
  readonly maxEntries: number;
  #rel: Int32Array;
  #pos: Int32Array;
  count = 0;
  /** Entries already written to the .index file. */
  persisted = 0;

  constructor(baseOffset: number, maxEntries: number, capacity = 16) {
    this.baseOffset = baseOffset;
    this.maxEntries = Math.max(1, maxEntries);
    this.#rel = new Int32Array(capacity);
    this.#pos = new Int32Array(capacity);
  }

  isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /** Adds an entry; offsets and positions must increase strictly. */
  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (this.count > 0 && (rel <= this.#rel[this.count - 1] || position <= this.#pos[this.count - 1])) return;
    if (this.count === this.#rel.length) {
      const n = this.#rel.length * 2;
      const r = new Int32Array(n);
      const p = new Int32Array(n);
      r.set(this.#rel);
      p.set(this.#pos);
      this.#rel = r;
      this.#pos = p;
    }
    this.#rel[this.count] = rel;
    this.#pos[this.count] = position;
    this.count++;
  }

  offsetAt(i: number): number {
    return this.baseOffset + this.#rel[i];
  }

  positionAt(i: number): number {
    return this.#pos[i];
  }

  /** Index of the last entry with offset <= `offset`, or -1. */
  floorIndex(offset: number): number {
    const rel = offset - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#rel[mid] <= rel) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** File position of a batch at or before the batch holding `offset` (0 when no entry precedes it). */
  lookup(offset: number): number {
    const i = this.floorIndex(offset);
    return i < 0 ? 0 : this.#pos[i];
  }

  /** Drops entries for offsets >= `offset`. */
  truncateToOffset(offset: number): void {
    this.count = this.floorIndex(offset - 1) + 1;
    if (this.persisted > this.count) this.persisted = this.count;
  }

  /** Drops entries at positions >= `position`. */
  truncateToPosition(position: number): void {
    while (this.count > 0 && this.#pos[this.count - 1] >= position) this.count--;
    if (this.persisted > this.count) this.persisted = this.count;
  }

  encode(from = 0, to = this.count): Buffer {
    const out = Buffer.allocUnsafe((to - from) * OFFSET_ENTRY_SIZE);
    for (let i = from, o = 0; i < to; i++, o += OFFSET_ENTRY_SIZE) {
      out.writeInt32BE(this.#rel[i], o);
      out.writeInt32BE(this.#pos[i], o + 4);
    }
    return out;
  }

  /**
   * Parses index file bytes. Returns null when they cannot be a valid index for a log of `logSize`
   * bytes (a partial entry, offsets or positions not increasing, a position past the end).
   */
  static decode(baseOffset: number, maxEntries: number, data: Buffer, logSize: number): OffsetIndex | null {
    if (data.length % OFFSET_ENTRY_SIZE !== 0) return null;
    const n = data.length / OFFSET_ENTRY_SIZE;
    const idx = new OffsetIndex(baseOffset, Math.max(maxEntries, n), Math.max(16, n));
    let lastRel = -1;
    let lastPos = -1;
    for (let o = 0; o < data.length; o += OFFSET_ENTRY_SIZE) {
      const rel = data.readInt32BE(o);
      const pos = data.readInt32BE(o + 4);
      if (rel <= lastRel || pos <= lastPos || pos >= logSize || rel < 0) return null;
      if (idx.count === 0 && rel === 0 && pos !== 0) return null;
      idx.#rel[idx.count] = rel;
      idx.#pos[idx.count] = pos;
      idx.count++;
      lastRel = rel;
      lastPos = pos;
    }
    idx.persisted = idx.count;
    return idx;
  }
}
