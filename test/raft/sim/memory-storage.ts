// In-memory storage for a Raft node that behaves like a disk with a page cache: writes land in the
// "written" view at once; only `sync()` makes them durable; `crash()` throws away everything
// written since the last sync (a torn or lost tail), including truncations. A snapshot is written
// with its own fsync (write file, fsync, rename), which also flushes the log written before it.

import type { Entry, HardState, PersistedState, Snapshot, StorageOp } from '../../../src/raft/types.ts';

interface DiskState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Contiguous entries from the snapshot's end offset (or 0). */
  entries: Entry[];
}

function startOf(s: DiskState): number {
  return s.snapshot?.id.endOffset ?? 0;
}

function copy(s: DiskState): DiskState {
  return { hardState: { ...s.hardState }, snapshot: s.snapshot, entries: s.entries.slice() };
}

export class MemoryStorage {
  #written: DiskState = { hardState: { epoch: 0, votedFor: null, leaderId: null }, snapshot: null, entries: [] };
  #durable: DiskState = copy(this.#written);
  #dirty = false;
  syncCount = 0;

  apply(ops: readonly StorageOp[]): void {
    const w = this.#written;
    for (const op of ops) {
      this.#dirty = true;
      switch (op.op) {
        case 'hard-state':
          w.hardState = { ...op.state };
          break;
        case 'truncate': {
          const start = startOf(w);
          if (op.offset < start) throw new Error(`storage: truncate to ${op.offset} below log start ${start}`);
          if (op.offset - start < w.entries.length) w.entries.length = op.offset - start;
          break;
        }
        case 'append':
          for (const e of op.entries) {
            const expected = startOf(w) + w.entries.length;
            if (e.offset !== expected) throw new Error(`storage: append at ${e.offset}, log end is ${expected}`);
            w.entries.push(e);
          }
          break;
        case 'snapshot': {
          const end = op.snapshot.id.endOffset;
          const kept = w.entries.filter((e) => e.offset >= end);
          w.snapshot = op.snapshot;
          w.entries = kept.length > 0 && kept[0].offset === end ? kept : [];
          this.sync();
          break;
        }
      }
    }
  }

  get dirty(): boolean {
    return this.#dirty;
  }

  /** Makes everything written durable; returns the log end offset it covers. */
  sync(): number {
    this.#durable = copy(this.#written);
    this.#dirty = false;
    this.syncCount++;
    return this.writtenEndOffset;
  }

  /** Power loss: whatever was not synced is gone. */
  crash(): void {
    this.#written = copy(this.#durable);
    this.#dirty = false;
  }

  /** What a restarting node reads. */
  load(): PersistedState {
    const d = copy(this.#durable);
    return { hardState: d.hardState, snapshot: d.snapshot, entries: d.entries };
  }

  get writtenEndOffset(): number {
    return startOf(this.#written) + this.#written.entries.length;
  }

  get durableHardState(): HardState {
    return this.#durable.hardState;
  }

  get durableSnapshot(): Snapshot | null {
    return this.#durable.snapshot;
  }

  /** The durable entry at `offset`, if held. */
  durableEntryAt(offset: number): Entry | undefined {
    return this.#durable.entries[offset - startOf(this.#durable)];
  }

  get durableEndOffset(): number {
    return startOf(this.#durable) + this.#durable.entries.length;
  }
}
