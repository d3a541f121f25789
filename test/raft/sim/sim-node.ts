// One simulated machine: a RaftNode (absent while crashed), its disk, and a tiny application —
// a running digest of every committed entry — whose snapshots are what the core transfers.

import { RaftNode } from '../../../src/raft/raft-node.ts';
import type { Entry, RaftConfig, Snapshot } from '../../../src/raft/types.ts';
import { entryKey, InvariantViolation, type NodeView } from './invariants.ts';
import { MemoryStorage } from './memory-storage.ts';
import type { Prng } from './prng.ts';

export class DigestApp {
  appliedTo = 0;
  digest = 0x811c9dc5;

  apply(e: Entry): void {
    if (e.offset !== this.appliedTo) {
      throw new InvariantViolation(`committed entry at ${e.offset} handed over after state at ${this.appliedTo}`);
    }
    const key = `${e.epoch}:${entryKey(e)}`;
    let h = this.digest;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
    this.digest = h;
    this.appliedTo = e.offset + 1;
  }

  serialize(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ appliedTo: this.appliedTo, digest: this.digest }));
  }

  restore(s: Snapshot): void {
    const v = JSON.parse(new TextDecoder().decode(s.data)) as { appliedTo: number; digest: number };
    if (v.appliedTo !== s.id.endOffset) {
      throw new InvariantViolation(`snapshot ${s.id.endOffset}-${s.id.epoch} holds state at ${v.appliedTo}`);
    }
    this.appliedTo = v.appliedTo;
    this.digest = v.digest;
  }
}

export class SimNode implements NodeView {
  readonly id: number;
  readonly isVoter: boolean;
  readonly storage = new MemoryStorage();
  readonly #voters: number[];
  readonly #config: RaftConfig;
  readonly #rng: Prng;
  incarnation = 0;
  raft: RaftNode | null = null;
  app = new DigestApp();
  syncPending = false;

  constructor(id: number, voters: number[], config: RaftConfig, rng: Prng) {
    this.id = id;
    this.isVoter = voters.includes(id);
    this.#voters = voters;
    this.#config = config;
    this.#rng = rng;
  }

  start(): RaftNode {
    this.incarnation++;
    this.app = new DigestApp();
    this.syncPending = false;
    const rng = this.#rng;
    this.raft = new RaftNode({
      id: this.id,
      voters: this.#voters,
      config: this.#config,
      random: () => rng.next(),
      persisted: this.storage.load(),
    });
    return this.raft;
  }

  crash(): void {
    this.raft = null;
    this.storage.crash();
    this.incarnation++;
  }
}
