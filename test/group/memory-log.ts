// An in-memory CoordinatorLog for ShardRuntime tests: assigns offsets, can hold appends until
// flush() (to see what happens before durability) and fail the next append.
import type { CoordinatorLog } from '../../src/group/runtime.ts';
import { lastOffsetOf } from '../../src/protocol/record-batch.ts';

export class MemoryLog implements CoordinatorLog {
  logStartOffset = 0;
  batches: Buffer[] = [];
  next = 0;
  /** Pending `done` resolutions, released by `flush()`. */
  waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  autoFlush = true;
  failNext = false;

  get highWatermark(): number {
    return this.next;
  }

  append(records: Buffer): { baseOffset: number; done: Promise<void> } {
    const baseOffset = this.next;
    records.writeBigInt64BE(BigInt(baseOffset), 0);
    const copy = Buffer.from(records);
    this.next = lastOffsetOf(copy, 0) + 1;
    if (this.failNext) {
      this.failNext = false;
      this.next = baseOffset;
      return { baseOffset, done: Promise.reject(new Error('disk on fire')) };
    }
    this.batches.push(copy);
    if (this.autoFlush) return { baseOffset, done: Promise.resolve() };
    return { baseOffset, done: new Promise((resolve, reject) => this.waiting.push({ resolve, reject })) };
  }

  flush(): void {
    for (const w of this.waiting.splice(0)) w.resolve();
  }

  async read(offset: number): Promise<{ records: Buffer }> {
    const out = this.batches.filter((b) => lastOffsetOf(b, 0) >= offset);
    return { records: Buffer.concat(out) };
  }
}
