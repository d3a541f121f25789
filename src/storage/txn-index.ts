// Aborted-transaction index of one segment (<base>.txnindex), Kafka's TransactionIndex (KIP-98):
// one entry per ABORT marker held by the segment, in marker-offset order. Entry format (34 bytes,
// big-endian), as Kafka's AbortedTxn:
//   version:int16 (0)  producerId:int64  firstOffset:int64  lastOffset:int64  lastStableOffset:int64
// firstOffset is the transaction's first offset in the partition (it may lie in an earlier segment),
// lastOffset the ABORT marker's offset, lastStableOffset the partition's LSO right after the marker.
//
// Durability: the file is written with the segment's other indexes — at a checkpoint for every
// segment before the one holding the recovery point, at close, by compaction and truncation — so
// the entries of every segment recovery does not re-scan are on disk. Those of the re-scanned
// segments are rebuilt by the transaction layer's replay of producer state (see
// PartitionLog.txnIndexRebuildFrom): unlike the other indexes, entries cannot be derived from the
// segment alone. A missing file means no entries (files are created lazily, as Kafka does).

import { posix } from 'node:path';
import { readFileIfExists } from './checkpoint-file.ts';
import type { FileSystem } from './fs.ts';

export const TXN_ENTRY_SIZE = 34;
export const TXN_INDEX_VERSION = 0;

export interface AbortedTxn {
  producerId: bigint;
  /** First offset of the aborted transaction. */
  firstOffset: number;
  /** Offset of the ABORT marker. */
  lastOffset: number;
  /** The partition's LSO right after the marker: no later entry matters to a fetch ending at or below it. */
  lastStableOffset: number;
}

export function encodeTxnEntries(entries: readonly AbortedTxn[], from = 0, to = entries.length): Buffer {
  const out = Buffer.allocUnsafe((to - from) * TXN_ENTRY_SIZE);
  for (let i = from, o = 0; i < to; i++, o += TXN_ENTRY_SIZE) {
    const e = entries[i];
    out.writeInt16BE(TXN_INDEX_VERSION, o);
    out.writeBigInt64BE(e.producerId, o + 2);
    out.writeBigInt64BE(BigInt(e.firstOffset), o + 10);
    out.writeBigInt64BE(BigInt(e.lastOffset), o + 18);
    out.writeBigInt64BE(BigInt(e.lastStableOffset), o + 26);
  }
  return out;
}

/**
 * Parses .txnindex bytes of the segment [baseOffset, endOffset). Returns the entries of the valid
 * prefix and whether the whole file was valid (a torn last entry, an unknown version, markers out of
 * order or outside the segment end the prefix).
 */
export function decodeTxnEntries(data: Buffer, baseOffset: number, endOffset = Number.MAX_SAFE_INTEGER): { entries: AbortedTxn[]; valid: boolean } {
  const entries: AbortedTxn[] = [];
  let last = baseOffset - 1;
  for (let o = 0; o + TXN_ENTRY_SIZE <= data.length; o += TXN_ENTRY_SIZE) {
    if (data.readInt16BE(o) !== TXN_INDEX_VERSION) return { entries, valid: false };
    const e: AbortedTxn = {
      producerId: data.readBigInt64BE(o + 2),
      firstOffset: Number(data.readBigInt64BE(o + 10)),
      lastOffset: Number(data.readBigInt64BE(o + 18)),
      lastStableOffset: Number(data.readBigInt64BE(o + 26)),
    };
    if (e.lastOffset <= last || e.lastOffset >= endOffset || e.firstOffset < 0 || e.firstOffset > e.lastOffset || e.lastStableOffset < 0) {
      return { entries, valid: false };
    }
    entries.push(e);
    last = e.lastOffset;
  }
  return { entries, valid: data.length % TXN_ENTRY_SIZE === 0 };
}

/** The entries of one segment, kept in memory; the file follows at each persist. */
export class TxnIndex {
  readonly baseOffset: number;
  #entries: AbortedTxn[] = [];
  /** Leading entries the file holds exactly as in memory. */
  #persisted = 0;
  #dirty = false;
  /** Lowest entry position changed while a persist runs (it must not count as persisted). */
  #changedFrom = Number.POSITIVE_INFINITY;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(baseOffset: number, entries: AbortedTxn[] = [], persisted = true) {
    this.baseOffset = baseOffset;
    this.#entries = entries;
    this.#persisted = persisted ? entries.length : 0;
    this.#dirty = !persisted;
  }

  get entries(): readonly AbortedTxn[] {
    return this.#entries;
  }

  get count(): number {
    return this.#entries.length;
  }

  /** Entries not yet written to the file (or a file holding more than memory). */
  get dirty(): boolean {
    return this.#dirty;
  }

  #changed(at: number): void {
    this.#dirty = true;
    if (at < this.#persisted) this.#persisted = at;
    if (at < this.#changedFrom) this.#changedFrom = at;
  }

  /**
   * Adds the entry of an ABORT marker. An entry for the same marker offset already present is kept
   * (recovery replays markers whose entries may have survived), so adding is idempotent.
   */
  add(e: AbortedTxn): boolean {
    const list = this.#entries;
    const n = list.length;
    if (n === 0 || list[n - 1].lastOffset < e.lastOffset) {
      list.push({ ...e });
      this.#changed(n);
      return true;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].lastOffset < e.lastOffset) lo = mid + 1;
      else hi = mid;
    }
    if (list[lo].lastOffset === e.lastOffset) return false;
    list.splice(lo, 0, { ...e });
    this.#changed(lo);
    return true;
  }

  /** Drops entries whose marker is at or after `offset` (log truncation). */
  truncateTo(offset: number): void {
    let n = this.#entries.length;
    while (n > 0 && this.#entries[n - 1].lastOffset >= offset) n--;
    if (n === this.#entries.length) return;
    this.#entries.length = n;
    this.#changed(n);
  }

  /** Forgets every entry; the file is rewritten at the next persist (recovery re-scan). */
  reset(): void {
    this.#entries = [];
    this.#changed(0);
  }

  /**
   * Kafka's TransactionIndex.collectAbortedTxns: appends to `out` the entries whose marker is at or
   * after `fetchOffset` and whose data starts below `upperBound`; returns true once an entry's
   * lastStableOffset reaches `upperBound` (every later abort started at or after it: the search is
   * complete).
   */
  collect(fetchOffset: number, upperBound: number, out: AbortedTxn[]): boolean {
    const list = this.#entries;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].lastOffset < fetchOffset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length; i++) {
      const e = list[i];
      if (e.firstOffset < upperBound) out.push(e);
      if (e.lastStableOffset >= upperBound) return true;
    }
    return false;
  }

  /** Writes what the file lacks (appending when it holds a prefix), trims it and fdatasyncs it. */
  persist(fs: FileSystem, path: string): Promise<void> {
    const run = this.#writing.then(() => this.#persist(fs, path));
    this.#writing = run.catch(() => {});
    return run;
  }

  /**
   * No more writes (its segment is being deleted or replaced: the path may soon name another
   * segment's file); resolves once a write in progress has finished.
   */
  close(): Promise<void> {
    this.#closed = true;
    return this.#writing;
  }

  async #persist(fs: FileSystem, path: string): Promise<void> {
    if (!this.#dirty || this.#closed) return;
    this.#changedFrom = Number.POSITIVE_INFINITY;
    const entries = this.#entries.slice();
    const count = entries.length;
    let from = this.#persisted;
    const exists = (await fs.stat(path)) !== null;
    if (!exists && count > 0) {
      const h = await fs.open(path, 'w+');
      try {
        await h.writev([encodeTxnEntries(entries, 0, count)], 0);
        await h.datasync();
      } finally {
        await h.close();
      }
      // A new file's directory entry: unlike the other indexes, this one cannot be rebuilt from the segment.
      await fs.syncDir(posix.dirname(path));
    } else if (exists) {
      const h = await fs.open(path, 'r+');
      try {
        if ((await h.size()) < from * TXN_ENTRY_SIZE) from = 0;
        if (count > from) await h.writev([encodeTxnEntries(entries, from, count)], from * TXN_ENTRY_SIZE);
        await h.truncate(count * TXN_ENTRY_SIZE);
        await h.datasync();
      } finally {
        await h.close();
      }
    }
    // The file holds `entries`; memory may have changed meanwhile from position `changed` on.
    const changed = this.#changedFrom;
    this.#changedFrom = Number.POSITIVE_INFINITY;
    this.#persisted = Math.min(count, changed);
    this.#dirty = this.#persisted !== this.#entries.length || changed !== Number.POSITIVE_INFINITY;
  }

  /** Writes every entry to a new file at `path` (compaction output) and fdatasyncs it. */
  async writeNew(fs: FileSystem, path: string): Promise<void> {
    const h = await fs.open(path, 'w+');
    try {
      await h.writev([encodeTxnEntries(this.#entries)], 0);
      await h.datasync();
    } finally {
      await h.close();
    }
  }

  /** The file at `path` now holds exactly the entries in memory (renamed into place). */
  markPersisted(): void {
    this.#persisted = this.#entries.length;
    this.#dirty = false;
  }

  /** Loads `<base>.txnindex` (no file: no entries). An invalid tail is dropped and the file rewritten. */
  static async load(fs: FileSystem, path: string, baseOffset: number, endOffset?: number): Promise<TxnIndex> {
    const data = await readFileIfExists(fs, path);
    if (data === null) return new TxnIndex(baseOffset);
    const { entries, valid } = decodeTxnEntries(data, baseOffset, endOffset);
    return new TxnIndex(baseOffset, entries, valid);
  }
}

/**
 * Kafka's UnifiedLog.collectAbortedTransactions: the aborted transactions a read_committed fetch of
 * [fetchOffset, upperBound) must be told about, from the txn indexes of the segment holding
 * fetchOffset and the ones after it (a transaction starting below upperBound may be aborted by a
 * marker in any later segment), until an entry's lastStableOffset says no later one can matter.
 */
export function collectAbortedTxns(indexes: Iterable<TxnIndex>, fetchOffset: number, upperBound: number): AbortedTxn[] {
  const out: AbortedTxn[] = [];
  for (const idx of indexes) {
    if (idx.collect(fetchOffset, upperBound, out)) break;
  }
  return out;
}
