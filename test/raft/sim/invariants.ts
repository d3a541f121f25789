// Safety properties checked after every simulation step (Raft Figure 3, KIP-595):
// - Election Safety: at most one leader per epoch, and at most one granted vote per voter and
//   epoch, also across restarts (the vote is persisted before the answer leaves, §5.2).
// - A node's epoch never goes back, also across restarts (it is persisted before it is used).
// - A node's high watermark never goes back while it runs, and never exceeds its log end.
// - State Machine Safety: an offset is committed with one entry only, on every node that commits
//   it, and applying the committed prefix gives the same state everywhere (snapshots included).
// - Durability: the last committed entry is held durably by a majority of voters (in the log or
//   inside a snapshot), so no crash pattern that leaves a majority can lose it.

import type { RaftNode } from '../../../src/raft/raft-node.ts';
import type { Entry } from '../../../src/raft/types.ts';
import type { MemoryStorage } from './memory-storage.ts';

export interface NodeView {
  id: number;
  isVoter: boolean;
  incarnation: number;
  raft: RaftNode | null;
  storage: MemoryStorage;
}

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
}

export function entryKey(e: Entry): string {
  return e.data.type === 'data' ? new TextDecoder().decode(e.data.payload) : `leader-change:${e.data.leaderId}`;
}

export class InvariantChecker {
  readonly #majority: number;
  readonly #leaders = new Map<number, number>();
  readonly #maxEpoch = new Map<number, number>();
  readonly #hw = new Map<number, { incarnation: number; hw: number }>();
  readonly #committed = new Map<number, { epoch: number; key: string; by: number }>();
  readonly #digests = new Map<number, number>();
  readonly #votes = new Map<string, number>();
  #committedEnd = 0;

  constructor(voterCount: number) {
    this.#majority = Math.floor(voterCount / 2) + 1;
  }

  /** Exclusive end of the longest committed prefix any node reported. */
  get committedEnd(): number {
    return this.#committedEnd;
  }

  committedKeyAt(offset: number): string | undefined {
    return this.#committed.get(offset)?.key;
  }

  onCommitted(node: NodeView, e: Entry): void {
    const key = entryKey(e);
    const prev = this.#committed.get(e.offset);
    if (prev === undefined) {
      this.#committed.set(e.offset, { epoch: e.epoch, key, by: node.id });
      if (e.offset + 1 > this.#committedEnd) this.#committedEnd = e.offset + 1;
    } else if (prev.epoch !== e.epoch || prev.key !== key) {
      throw new InvariantViolation(
        `node ${node.id} committed offset ${e.offset} as (epoch ${e.epoch}, ${key}); node ${prev.by} committed (epoch ${prev.epoch}, ${prev.key})`,
      );
    }
  }

  onVoteGranted(voter: number, epoch: number, candidate: number): void {
    const key = `${voter}@${epoch}`;
    const prev = this.#votes.get(key);
    if (prev === undefined) this.#votes.set(key, candidate);
    else if (prev !== candidate) {
      throw new InvariantViolation(`node ${voter} voted for ${prev} and for ${candidate} in epoch ${epoch}`);
    }
  }

  /** The application's state digest after applying everything below `endOffset`. */
  onApplied(node: NodeView, endOffset: number, digest: number): void {
    const prev = this.#digests.get(endOffset);
    if (prev === undefined) this.#digests.set(endOffset, digest);
    else if (prev !== digest) {
      throw new InvariantViolation(`node ${node.id} state at offset ${endOffset} differs from another node's`);
    }
  }

  check(nodes: readonly NodeView[]): void {
    let durableHolders = 0;
    const lastOffset = this.#committedEnd - 1;
    const last = this.#committed.get(lastOffset);
    for (const n of nodes) {
      if (n.isVoter && last !== undefined && this.#holdsDurably(n.storage, lastOffset, last)) durableHolders++;
      const r = n.raft;
      if (r === null) continue;
      if (r.role === 'leader') {
        const other = this.#leaders.get(r.epoch);
        if (other !== undefined && other !== n.id) {
          throw new InvariantViolation(`nodes ${other} and ${n.id} both led epoch ${r.epoch}`);
        }
        this.#leaders.set(r.epoch, n.id);
      }
      const maxEpoch = this.#maxEpoch.get(n.id) ?? 0;
      if (r.epoch < maxEpoch) throw new InvariantViolation(`node ${n.id} epoch went back from ${maxEpoch} to ${r.epoch}`);
      this.#maxEpoch.set(n.id, r.epoch);
      const hw = this.#hw.get(n.id);
      if (hw !== undefined && hw.incarnation === n.incarnation && r.highWatermark < hw.hw) {
        throw new InvariantViolation(`node ${n.id} high watermark went back from ${hw.hw} to ${r.highWatermark}`);
      }
      if (r.highWatermark > r.logEndOffset) {
        throw new InvariantViolation(`node ${n.id} high watermark ${r.highWatermark} is past its log end ${r.logEndOffset}`);
      }
      this.#hw.set(n.id, { incarnation: n.incarnation, hw: r.highWatermark });
    }
    if (last !== undefined && durableHolders < this.#majority) {
      throw new InvariantViolation(
        `committed offset ${lastOffset} is durable on ${durableHolders} voters, fewer than a majority (${this.#majority})`,
      );
    }
  }

  #holdsDurably(s: MemoryStorage, offset: number, c: { epoch: number; key: string }): boolean {
    const snap = s.durableSnapshot;
    if (snap !== null && snap.id.endOffset > offset) return true;
    const e = s.durableEntryAt(offset);
    return e !== undefined && e.epoch === c.epoch && entryKey(e) === c.key;
  }
}
