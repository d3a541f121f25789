// An in-memory MetadataLog for tests. Records are copied on append so that later changes to the
// caller's buffers cannot alter the log; `failNextAppend` makes the next append reject with
// nothing appended, like a failed fsync in the file log.

import type { MetadataLog } from './metadata-log.ts';

export class MemoryMetadataLog implements MetadataLog {
  readonly records: Buffer[] = [];
  #failNext: Error | null = null;
  #closed = false;

  failNextAppend(err: Error = Object.assign(new Error('injected append failure'), { code: 'EIO' })): void {
    this.#failNext = err;
  }

  async append(records: Buffer[]): Promise<number> {
    if (this.#closed) throw new Error('metadata log is closed');
    if (this.#failNext !== null) {
      const err = this.#failNext;
      this.#failNext = null;
      throw err;
    }
    for (const r of records) this.records.push(Buffer.from(r));
    return this.records.length - 1;
  }

  async replay(cb: (record: Buffer, offset: number) => void): Promise<void> {
    this.records.forEach((r, i) => cb(r, i));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** A new open log over the same records, as after a restart. */
  reopen(): MemoryMetadataLog {
    const log = new MemoryMetadataLog();
    for (const r of this.records) log.records.push(r);
    return log;
  }
}
