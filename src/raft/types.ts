// The data the Raft core works on and hands back to its driver. Vocabulary is KRaft's (KIP-595):
// "epoch" is Raft's term, "offset" is Raft's index (0-based, the first entry is offset 0), an
// "end offset" is exclusive (the offset the next entry will get), and the high watermark (HW) is
// the exclusive end of the committed prefix.

import type { Message } from './messages.ts';

export type NodeId = number;

/**
 * Identifies a snapshot the way KRaft names snapshot files (`<endOffset>-<epoch>.checkpoint`):
 * it holds the state after applying every entry below `endOffset`; `epoch` is the epoch of the
 * entry at `endOffset - 1`. A snapshot is only ever taken at a committed offset.
 */
export interface SnapshotId {
  endOffset: number;
  epoch: number;
}

export interface Snapshot {
  id: SnapshotId;
  /** Opaque to the core: the application's serialized state (the binding frames it as KRaft's
   *  SnapshotHeaderRecord, records, SnapshotFooterRecord). */
  data: Uint8Array;
}

/**
 * What an entry carries. `leader-change` is the control record every leader writes first in its
 * epoch (KRaft's LeaderChangeMessage); committing it is how the leader commits earlier epochs'
 * entries (Raft §5.4.2, §8 "no-op entry").
 */
export type EntryData =
  | { type: 'data'; payload: Uint8Array }
  | { type: 'leader-change'; leaderId: NodeId; voters: NodeId[]; grantingVoters: NodeId[] };

export interface Entry {
  offset: number;
  epoch: number;
  data: EntryData;
}

/**
 * What must survive a restart besides the log and snapshot (KRaft's quorum-state file).
 * `leaderId` is only a hint that lets a restarted follower fetch at once; safety rests on `epoch`
 * (never goes back) and `votedFor` (at most one vote per epoch, Raft §5.2).
 */
export interface HardState {
  epoch: number;
  votedFor: NodeId | null;
  leaderId: NodeId | null;
}

/** What the driver loads from disk to start (or restart) a node. */
export interface PersistedState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Contiguous entries starting at the snapshot's end offset (or 0 without a snapshot). */
  entries: Entry[];
}

/**
 * Storage writes, to be applied in order:
 * - `hard-state`: replace the quorum state.
 * - `truncate`: remove every entry with offset >= `offset`.
 * - `append`: add entries at the end of the log (their offsets follow on).
 * - `snapshot`: store the snapshot durably, then drop every entry below its end offset. Entries at
 *   or after the end offset are kept (local compaction); an installed snapshot comes after a
 *   `truncate` that emptied the log.
 */
export type StorageOp =
  | { op: 'hard-state'; state: HardState }
  | { op: 'truncate'; offset: number }
  | { op: 'append'; entries: Entry[] }
  | { op: 'snapshot'; snapshot: Snapshot };

export type Role = 'unattached' | 'prospective' | 'candidate' | 'leader' | 'follower' | 'resigned';

export interface SoftState {
  role: Role;
  epoch: number;
  leaderId: NodeId | null;
}

/**
 * The outputs accumulated since the last `ready()`. The driver handles them in this order and
 * finishes before giving the node its next input:
 * 1. apply `storage` in order; if `mustSync`, fsync before step 2;
 * 2. send `messages` (only now: a vote or a fetch offset must not be seen before it is durable);
 * 3. if `restoreSnapshot`, reset the application's state from it; then apply `committed` in order;
 * 4. if `snapshotRequest`, serialize the application state (which is now exactly at that offset)
 *    and call `snapshotCreated` — at once or later.
 * Writes not covered by `mustSync` (a leader's own appends) may be fsynced later; report each
 * completed fsync with `onSynced(logEndOffset)` so the leader can count itself toward the HW.
 */
export interface Ready {
  storage: StorageOp[];
  mustSync: boolean;
  messages: Message[];
  restoreSnapshot: Snapshot | null;
  committed: Entry[];
  snapshotRequest: SnapshotId | null;
  /** Set when role, epoch or leader changed since the previous ready. */
  softState: SoftState | null;
}

/** Every duration is in ticks; the driver decides how long a tick is (e.g. 100 ms). */
export interface RaftConfig {
  /** Base election timeout; each wait is drawn uniformly from [base, 2 * base). */
  electionTimeoutTicks: number;
  /** A follower that has not had a fetch answered by its leader for this long starts a
   *  (pre-)election; a leader that has not had fetches from a majority for this long resigns. */
  fetchTimeoutTicks: number;
  /** How long the leader may hold a fetch that has nothing new (long poll). */
  fetchMaxWaitTicks: number;
  /** A request without an answer after this long is sent again. */
  requestTimeoutTicks: number;
  /** Wait after an error answer before retrying; also the step between preferred successors. */
  retryBackoffTicks: number;
  maxFetchEntries: number;
  snapshotChunkBytes: number;
  /** Ask for a snapshot once this many committed entries follow the last one; 0 = never. */
  snapshotMinEntries: number;
}

export const DEFAULT_RAFT_CONFIG: Readonly<RaftConfig> = Object.freeze({
  electionTimeoutTicks: 10,
  fetchTimeoutTicks: 20,
  fetchMaxWaitTicks: 5,
  requestTimeoutTicks: 10,
  retryBackoffTicks: 1,
  maxFetchEntries: 256,
  snapshotChunkBytes: 64 * 1024,
  snapshotMinEntries: 0,
});

/** A seeded source of uniform numbers in [0, 1); the core has no other source of randomness. */
export type RandomSource = () => number;
