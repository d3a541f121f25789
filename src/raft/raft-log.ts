// The core's in-memory view of the replicated log: the latest snapshot plus the entries after it.
// Storage mirrors it through StorageOps; the core never reads storage back while running.
//
// Entries of one epoch are contiguous and epochs only grow along the log, so the end offset of an
// epoch is found by binary search. That is the basis of KIP-595's divergence check (and of
// KIP-101's OffsetForLeaderEpoch before it): two logs that hold an entry with the same offset and
// epoch are identical up to it (Log Matching, Raft §5.3).

import type { Entry, Snapshot, SnapshotId } from './types.ts';

export type FetchValidation =
  | { kind: 'valid' }
  | { kind: 'diverging'; epoch: number; endOffset: number }
  | { kind: 'snapshot'; snapshotId: SnapshotId };

export class RaftLog {
  #snapshot: Snapshot | null;
  #entries: Entry[];

  constructor(snapshot: Snapshot | null, entries: readonly Entry[]) {
    this.#snapshot = snapshot;
    this.#entries = [];
    this.append(entries);
  }

  get snapshot(): Snapshot | null {
    return this.#snapshot;
  }

  /** Offset of the first entry held (the snapshot's end offset, or 0). */
  get startOffset(): number {
    return this.#snapshot?.id.endOffset ?? 0;
  }

  get endOffset(): number {
    return this.startOffset + this.#entries.length;
  }

  /** Epoch of the entry at endOffset - 1 (the snapshot's epoch if there is none; 0 if empty). */
  get lastEpoch(): number {
    const n = this.#entries.length;
    return n > 0 ? this.#entries[n - 1].epoch : (this.#snapshot?.id.epoch ?? 0);
  }

  entryAt(offset: number): Entry | undefined {
    return this.#entries[offset - this.startOffset];
  }

  /** Epoch of the entry at `offset`, also for the snapshot's last offset; undefined if unknown. */
  epochAt(offset: number): number | undefined {
    if (this.#snapshot !== null && offset === this.startOffset - 1) return this.#snapshot.id.epoch;
    return this.entryAt(offset)?.epoch;
  }

  /** Entries in [from, to), clamped to what is held. */
  slice(from: number, to: number): Entry[] {
    const start = this.startOffset;
    return this.#entries.slice(Math.max(0, from - start), Math.max(0, to - start));
  }

  append(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.offset !== this.endOffset) {
        throw new Error(`raft log: entry offset ${e.offset} does not follow end offset ${this.endOffset}`);
      }
      if (e.epoch < this.lastEpoch) {
        throw new Error(`raft log: entry epoch ${e.epoch} at ${e.offset} is below ${this.lastEpoch}`);
      }
      this.#entries.push(e);
    }
  }

  /** Removes every entry at or after `offset`. */
  truncate(offset: number): void {
    if (offset < this.startOffset) throw new Error(`raft log: truncate to ${offset} below start ${this.startOffset}`);
    if (offset < this.endOffset) this.#entries.length = offset - this.startOffset;
  }

  /** Replaces the whole log by a snapshot received from the leader (KIP-630). */
  installSnapshot(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#entries = [];
  }

  /** Keeps `snapshot` (taken locally at a committed offset) and drops the entries it covers. */
  compact(snapshot: Snapshot): void {
    const { endOffset, epoch } = snapshot.id;
    if (endOffset <= this.startOffset || endOffset > this.endOffset || this.epochAt(endOffset - 1) !== epoch) {
      throw new Error(`raft log: snapshot ${endOffset}-${epoch} does not match the log`);
    }
    this.#entries = this.#entries.slice(endOffset - this.startOffset);
    this.#snapshot = snapshot;
  }

  /**
   * The largest epoch <= `epoch` held, and the end offset of its entries (KIP-595's
   * EpochEndOffset). Null when that epoch lies inside the snapshot, where entries are gone.
   * `{epoch: 0, endOffset: 0}` means no entry of any such epoch (epoch 0 never has a leader).
   */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } | null {
    const es = this.#entries;
    let lo = 0;
    let hi = es.length; // first index with epoch > `epoch`
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (es[mid].epoch <= epoch) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) return { epoch: es[lo - 1].epoch, endOffset: es[lo - 1].offset + 1 };
    if (this.#snapshot === null) return { epoch: 0, endOffset: 0 };
    const snap = this.#snapshot.id;
    return snap.epoch <= epoch ? { epoch: snap.epoch, endOffset: snap.endOffset } : null;
  }

  /**
   * The leader's check of a follower's position (KIP-595): the follower holds an entry of
   * `lastFetchedEpoch` at `fetchOffset - 1`; it is on this log when this log's entries of that
   * epoch reach at least `fetchOffset`. Positions below the log start need the snapshot (KIP-630).
   */
  validateFetch(fetchOffset: number, lastFetchedEpoch: number): FetchValidation {
    const start = this.startOffset;
    const snap = this.#snapshot;
    if (fetchOffset < start) return { kind: 'snapshot', snapshotId: snap!.id };
    if (fetchOffset === 0) return { kind: 'valid' };
    if (fetchOffset === start) {
      return snap !== null && lastFetchedEpoch === snap.id.epoch ? { kind: 'valid' } : { kind: 'snapshot', snapshotId: snap!.id };
    }
    const end = this.endOffsetForEpoch(lastFetchedEpoch);
    if (end === null) return { kind: 'snapshot', snapshotId: snap!.id };
    if (end.epoch === lastFetchedEpoch && end.endOffset >= fetchOffset) return { kind: 'valid' };
    return { kind: 'diverging', epoch: end.epoch, endOffset: end.endOffset };
  }

  /**
   * Where a follower truncates when the leader reports a divergence (KIP-595): its own entries of
   * the largest epoch <= the diverging epoch end no later than the leader's, and nothing later can
   * match. Never below the log start: a snapshot only covers committed entries.
   */
  truncationOffset(diverging: { epoch: number; endOffset: number }): number {
    const local = this.endOffsetForEpoch(diverging.epoch);
    const point = local === null ? this.startOffset : Math.min(local.endOffset, diverging.endOffset);
    return Math.max(this.startOffset, Math.min(point, this.endOffset));
  }
}
