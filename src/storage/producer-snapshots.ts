// Producer-state snapshot files (<offset>.snapshot, as Kafka names them): opaque bytes written by the
// idempotence/transaction layer, describing producer state as of `offset` (exclusive). On recovery it
// loads the latest snapshot at or below the log end offset and replays batches from there.

import { writeFileAtomic } from './checkpoint-file.ts';
import { errnoOf } from './errors.ts';
import { SNAPSHOT_SUFFIX, parseOffsetName, snapshotFile } from './file-names.ts';
import type { FileSystem } from './fs.ts';

/** Snapshots kept besides the newest; older ones are deleted after each write. */
export const RETAINED_SNAPSHOTS = 2;

export class ProducerSnapshots {
  readonly #fs: FileSystem;
  readonly #dir: string;
  /** Offsets of snapshot files, ascending. */
  offsets: number[] = [];

  constructor(fs: FileSystem, dir: string) {
    this.#fs = fs;
    this.#dir = dir;
  }

  /** Registers the snapshot files among a directory listing. */
  load(names: readonly string[]): void {
    this.offsets = names.map((n) => parseOffsetName(n, SNAPSHOT_SUFFIX)).filter((o) => o >= 0).sort((a, b) => a - b);
  }

  async write(offset: number, bytes: Buffer): Promise<void> {
    await writeFileAtomic(this.#fs, snapshotFile(this.#dir, offset), bytes);
    if (!this.offsets.includes(offset)) {
      this.offsets.push(offset);
      this.offsets.sort((a, b) => a - b);
    }
    while (this.offsets.length > RETAINED_SNAPSHOTS) await this.#remove(this.offsets[0]);
  }

  /** The newest snapshot at or below `atOrBelow`, or null. */
  async latest(atOrBelow = Number.MAX_SAFE_INTEGER): Promise<{ offset: number; bytes: Buffer } | null> {
    for (let i = this.offsets.length - 1; i >= 0; i--) {
      const offset = this.offsets[i];
      if (offset > atOrBelow) continue;
      try {
        return { offset, bytes: await this.#fs.readFile(snapshotFile(this.#dir, offset)) };
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw err;
        this.offsets.splice(i, 1);
      }
    }
    return null;
  }

  /** Removes snapshots for offsets > `offset` (log truncated or recovered to it). */
  async deleteAfter(offset: number): Promise<void> {
    for (const o of this.offsets.filter((x) => x > offset)) await this.#remove(o);
  }

  /** Removes snapshots below `offset` except the newest of them (log start moved). */
  async deleteBefore(offset: number): Promise<void> {
    const below = this.offsets.filter((x) => x < offset);
    for (const o of below.slice(0, -1)) await this.#remove(o);
  }

  async #remove(offset: number): Promise<void> {
    this.offsets = this.offsets.filter((o) => o !== offset);
    try {
      await this.#fs.unlink(snapshotFile(this.#dir, offset));
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
    }
  }
}
