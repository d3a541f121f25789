// The Raft core's durable state on disk, in the metadata partition's directory
// (`<metadata.log.dir>/__cluster_metadata-0/`, as KRaft lays it out):
//
//   quorum-state                              epoch, vote and leader hint (JSON, KRaft's file)
//   <startOffset, 20 digits>.log              the log: one v2 record batch per entry (entry-codec.ts)
//   <endOffset, 20 digits>-<epoch, 10 digits>.checkpoint   the latest snapshot (KIP-630 naming)
//
// Writes follow the core's StorageOp contract (src/raft/types.ts): the quorum state and snapshots
// are replaced atomically (temporary file, fdatasync, rename, directory fsync) and are durable when
// `apply` returns; log appends and truncations become durable with `sync()`. A snapshot compacts
// the log: entries at and after its end offset are copied to a new segment named by that offset,
// then the old one is removed. On open, a torn tail (a batch that is incomplete, fails its CRC or
// does not continue the offsets) is cut off, leftovers of an interrupted compaction are resolved
// in favour of the newest snapshot, and temporary files are removed.

import { storageError } from '../../storage/errors.ts';
import type { FileHandle, FileSystem } from '../../storage/fs.ts';
import { join } from '../../storage/file-names.ts';
import type { Entry, HardState, PersistedState, Snapshot, StorageOp } from '../types.ts';
import { encodeEntries, scanEntries } from './entry-codec.ts';

const QUORUM_STATE = 'quorum-state';
const LOG_NAME = /^(\d{20})\.log$/;
const CHECKPOINT_NAME = /^(\d{20})-(\d{10})\.checkpoint$/;

export function logFileName(startOffset: number): string {
  return `${String(startOffset).padStart(20, '0')}.log`;
}

export function checkpointFileName(id: { endOffset: number; epoch: number }): string {
  return `${String(id.endOffset).padStart(20, '0')}-${String(id.epoch).padStart(10, '0')}.checkpoint`;
}

export class RaftDiskStorage {
  readonly dir: string;
  readonly #fs: FileSystem;
  /** What was on disk at open (the core's `persisted` option). */
  readonly loaded: PersistedState;
  /** True when the directory held no quorum state, log entries or snapshot. */
  readonly fresh: boolean;
  #handle: FileHandle;
  #start: number;
  /** Byte position of entry `start + i` in the log file. */
  #positions: number[];
  #size: number;
  #snapshotName: string | null;
  #dirty = false;

  private constructor(
    fs: FileSystem, dir: string, handle: FileHandle, start: number, positions: number[], size: number,
    loaded: PersistedState, fresh: boolean, snapshotName: string | null,
  ) {
    this.#fs = fs;
    this.dir = dir;
    this.#handle = handle;
    this.#start = start;
    this.#positions = positions;
    this.#size = size;
    this.loaded = loaded;
    this.fresh = fresh;
    this.#snapshotName = snapshotName;
  }

  static async open(dir: string, fs: FileSystem): Promise<RaftDiskStorage> {
    try {
      return await RaftDiskStorage.#open(dir, fs);
    } catch (err) {
      throw storageError(`opening the metadata log in ${dir}`, err);
    }
  }

  static async #open(dir: string, fs: FileSystem): Promise<RaftDiskStorage> {
    if ((await fs.stat(dir)) === null) {
      await fs.mkdir(dir);
      await fs.syncDir(join(dir, '..'));
    }
    const names = await fs.readdir(dir);
    for (const n of names) if (n.endsWith('.tmp')) await fs.unlink(join(dir, n));

    let hardState: HardState = { epoch: 0, votedFor: null, leaderId: null };
    const hasQuorumState = names.includes(QUORUM_STATE);
    if (hasQuorumState) hardState = parseQuorumState((await fs.readFile(join(dir, QUORUM_STATE))).toString('utf8'));

    const checkpoints = names.filter((n) => CHECKPOINT_NAME.test(n)).sort();
    let snapshot: Snapshot | null = null;
    const snapshotName = checkpoints.pop() ?? null;
    if (snapshotName !== null) {
      const m = CHECKPOINT_NAME.exec(snapshotName)!;
      const data = await fs.readFile(join(dir, snapshotName));
      snapshot = { id: { endOffset: Number(m[1]), epoch: Number(m[2]) }, data: new Uint8Array(data) };
    }
    for (const n of checkpoints) await fs.unlink(join(dir, n));
    const start = snapshot?.id.endOffset ?? 0;

    const logs = names.filter((n) => LOG_NAME.test(n)).sort();
    const latest = logs.pop();
    for (const n of logs) await fs.unlink(join(dir, n));
    const path = join(dir, logFileName(start));
    let entries: (Entry & { size: number })[] = [];
    let handle: FileHandle | null = null;
    let size = 0;
    if (latest !== undefined) {
      const base = Number(LOG_NAME.exec(latest)![1]);
      const bytes = await fs.readFile(join(dir, latest));
      const { entries: scanned, validBytes } = scanEntries(bytes);
      // Entries of the file that continue from the snapshot (an interrupted compaction leaves a
      // file that starts below it; a file that starts above it cannot be used).
      if (scanned.length > 0 && scanned[0].offset === base && base <= start) {
        entries = scanned.filter((e) => e.offset >= start);
      }
      if (base === start && entries.length === scanned.length) {
        // The usual case: the segment is in place; only a torn tail is cut off.
        handle = await fs.open(path, 'r+');
        if (validBytes < bytes.length) {
          await handle.truncate(validBytes);
          await handle.datasync();
        }
      }
    }
    const positions: number[] = [];
    if (handle !== null) {
      for (const e of entries) {
        positions.push(size);
        size += e.size;
      }
    } else {
      // Rewrite the usable entries into a segment named by the log start, then drop the old one.
      const parts = entries.map((e) => encodeEntries([e]));
      for (const p of parts) {
        positions.push(size);
        size += p.length;
      }
      const tmp = `${path}.tmp`;
      const h = await fs.open(tmp, 'w+');
      if (parts.length > 0) await h.writev(parts, 0);
      await h.datasync();
      await h.close();
      await fs.rename(tmp, path);
      if (latest !== undefined && latest !== logFileName(start)) await fs.unlink(join(dir, latest));
      await fs.syncDir(dir);
      handle = await fs.open(path, 'r+');
    }
    const fresh = !hasQuorumState && snapshot === null && entries.length === 0;
    const loaded: PersistedState = { hardState, snapshot, entries: entries.map(({ offset, epoch, data }) => ({ offset, epoch, data })) };
    return new RaftDiskStorage(fs, dir, handle, start, positions, size, loaded, fresh, snapshotName);
  }

  /** Offset the next appended entry gets. */
  get endOffset(): number {
    return this.#start + this.#positions.length;
  }

  get startOffset(): number {
    return this.#start;
  }

  async apply(ops: readonly StorageOp[]): Promise<void> {
    for (const op of ops) {
      switch (op.op) {
        case 'hard-state':
          await this.#replaceFile(QUORUM_STATE, Buffer.from(formatQuorumState(op.state)));
          break;
        case 'truncate': {
          if (op.offset < this.#start) throw new Error(`metadata log: truncate to ${op.offset} below the log start ${this.#start}`);
          const i = op.offset - this.#start;
          if (i < this.#positions.length) {
            this.#size = this.#positions[i];
            this.#positions.length = i;
            await this.#handle.truncate(this.#size);
            this.#dirty = true;
          }
          break;
        }
        case 'append': {
          if (op.entries.length === 0) break;
          if (op.entries[0].offset !== this.endOffset) {
            throw new Error(`metadata log: append at ${op.entries[0].offset}, the log ends at ${this.endOffset}`);
          }
          const parts = op.entries.map((e) => encodeEntries([e]));
          await this.#handle.writev(parts, this.#size);
          for (const p of parts) {
            this.#positions.push(this.#size);
            this.#size += p.length;
          }
          this.#dirty = true;
          break;
        }
        case 'snapshot':
          await this.#storeSnapshot(op.snapshot);
          break;
      }
    }
  }

  /** Makes appends and truncations durable. */
  async sync(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    await this.#handle.datasync();
  }

  async close(): Promise<void> {
    await this.sync();
    await this.#handle.close();
  }

  async #storeSnapshot(snapshot: Snapshot): Promise<void> {
    const name = checkpointFileName(snapshot.id);
    await this.#replaceFile(name, Buffer.from(snapshot.data.buffer, snapshot.data.byteOffset, snapshot.data.byteLength));
    const end = snapshot.id.endOffset;
    // Keep the entries at and after the snapshot (local compaction), in a segment named by it.
    const i = end - this.#start;
    let kept = Buffer.alloc(0);
    const keptPositions: number[] = [];
    if (i >= 0 && i < this.#positions.length) {
      const from = this.#positions[i];
      kept = Buffer.alloc(this.#size - from);
      await this.#handle.read(kept, 0, kept.length, from);
      for (let j = i; j < this.#positions.length; j++) keptPositions.push(this.#positions[j] - from);
    }
    const oldName = logFileName(this.#start);
    const handle = await this.#fs.open(join(this.dir, logFileName(end)), 'w+');
    if (kept.length > 0) await handle.writev([kept], 0);
    await handle.datasync();
    await this.#fs.syncDir(this.dir);
    await this.#handle.close();
    this.#handle = handle;
    this.#start = end;
    this.#positions = keptPositions;
    this.#size = kept.length;
    this.#dirty = false;
    await this.#fs.unlink(join(this.dir, oldName));
    const previous = this.#snapshotName;
    this.#snapshotName = name;
    if (previous !== null && previous !== name) await this.#fs.unlink(join(this.dir, previous));
    await this.#fs.syncDir(this.dir);
  }

  async #replaceFile(name: string, bytes: Buffer): Promise<void> {
    const tmp = join(this.dir, `${name}.tmp`);
    const h = await this.#fs.open(tmp, 'w+');
    try {
      await h.writev([bytes], 0);
      await h.datasync();
    } finally {
      await h.close();
    }
    await this.#fs.rename(tmp, join(this.dir, name));
    await this.#fs.syncDir(this.dir);
  }
}

/** KRaft's quorum-state JSON (`leaderId`, `leaderEpoch`, `votedId`; -1 for none). */
export function formatQuorumState(s: HardState): string {
  return JSON.stringify({ leaderId: s.leaderId ?? -1, leaderEpoch: s.epoch, votedId: s.votedFor ?? -1, data_version: 0 });
}

export function parseQuorumState(text: string): HardState {
  const v = JSON.parse(text) as { leaderId?: number; leaderEpoch?: number; votedId?: number };
  const id = (x: number | undefined) => (typeof x === 'number' && x >= 0 ? x : null);
  const epoch = v.leaderEpoch;
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) throw new Error('quorum-state has no valid leaderEpoch');
  return { epoch, votedFor: id(v.votedId), leaderId: id(v.leaderId) };
}
