// Leader epoch → start offset (KIP-101): the first offset written in each leader epoch. Followers ask
// OffsetForLeaderEpoch for the end offset of their last epoch and truncate to it instead of to the
// high watermark, which is what stops divergent logs after a leader change. Persisted as
// leader-epoch-checkpoint in Kafka's text format: "0\n<count>\n<epoch> <startOffset>\n...".

import { formatCheckpoint, parseCheckpoint, SerialFileWriter } from './checkpoint-file.ts';
import type { FileSystem } from './fs.ts';

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  entries: EpochEntry[] = [];

  latestEpoch(): number {
    return this.entries.length === 0 ? -1 : this.entries[this.entries.length - 1].epoch;
  }

  /**
   * Records that `epoch` starts at `startOffset`. Entries that would no longer be monotonic (an epoch
   * >= this one, or a start offset >= this one) are dropped first, as Kafka does. Returns whether the
   * cache changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0) return false;
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined && last.epoch === epoch && last.startOffset <= startOffset) return false;
    while (this.entries.length > 0) {
      const e = this.entries[this.entries.length - 1];
      if (e.epoch >= epoch || e.startOffset >= startOffset) this.entries.pop();
      else break;
    }
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /** Log truncated to `endOffset`: epochs starting at or after it are gone. */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.startOffset < endOffset);
    return this.entries.length !== before;
  }

  /** Log start moved to `startOffset`: earlier epochs collapse into the one covering it. */
  truncateFromStart(startOffset: number): boolean {
    let i = 0;
    while (i + 1 < this.entries.length && this.entries[i + 1].startOffset <= startOffset) i++;
    if (i === 0 && (this.entries.length === 0 || this.entries[0].startOffset >= startOffset)) return false;
    const kept = this.entries.slice(i);
    kept[0] = { epoch: kept[0].epoch, startOffset: Math.max(kept[0].startOffset, startOffset) };
    this.entries = kept;
    return true;
  }

  /**
   * OffsetForLeaderEpoch (KIP-101, KIP-279): the largest epoch <= `epoch` and the start offset of the
   * epoch after it (the log end offset when it is the latest). {-1, -1} when `epoch` precedes all.
   */
  endOffsetFor(epoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    let i = this.entries.length - 1;
    while (i >= 0 && this.entries[i].epoch > epoch) i--;
    if (i < 0) return { epoch: -1, endOffset: -1 };
    const next = this.entries[i + 1];
    return { epoch: this.entries[i].epoch, endOffset: next === undefined ? logEndOffset : next.startOffset };
  }

  encode(): Buffer {
    return formatCheckpoint(this.entries.map((e) => [e.epoch, e.startOffset]));
  }

  /** Parses a checkpoint; malformed or non-monotonic content yields an empty cache. */
  static decode(data: Buffer | null): LeaderEpochCache {
    const cache = new LeaderEpochCache();
    if (data === null) return cache;
    const rows = parseCheckpoint(data, 2);
    if (rows === null) return cache;
    for (const [e, o] of rows) {
      const epoch = Number(e);
      const startOffset = Number(o);
      if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(startOffset)) return new LeaderEpochCache();
      cache.assign(epoch, startOffset);
    }
    return cache;
  }
}

/** Writes a cache's leader-epoch-checkpoint in the background; `pending` is the write in progress. */
export class EpochCheckpoint {
  readonly #writer: SerialFileWriter;
  pending: Promise<void> | null = null;

  constructor(fs: FileSystem, path: string) {
    this.#writer = new SerialFileWriter(fs, path);
  }

  persist(cache: LeaderEpochCache, onError: (err: unknown) => void): void {
    const write = this.#writer.write(() => cache.encode());
    this.pending = write;
    write.then(() => {
      if (this.pending === write) this.pending = null;
    }, onError);
  }
}
