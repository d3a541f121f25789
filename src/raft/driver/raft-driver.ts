// Binds the pure Raft core (src/raft/raft-node.ts) to time, disk and network, following the
// driver contract of docs/design/raft.md: every input (a tick, a message, a proposal, a snapshot
// the application made) is given to the node one at a time, and the node's Ready is handled in
// order and completely before the next input:
//
//   1. storage ops to disk; fsync when mustSync (votes, epochs, follower appends)
//   2. messages: requests go out to peers (their answers come back as inputs), answers to peers'
//      requests complete the RPC handler that is waiting for them
//   3. snapshot to restore, then committed entries, to the application
//   4. a leader's own appends are fsynced afterwards and reported with onSynced, so followers can
//      fetch while the leader's disk works (the leader counts only its durable end toward the HW)
//
// Ticks come from a timer; a tick that finds the previous one still queued is dropped rather than
// piling up behind a slow fsync. A storage failure stops the node: its state on disk can no longer
// be trusted to match what it told its peers.

import { isRequest } from '../messages.ts';
import type { Message, RequestBody, ResponseBody } from '../messages.ts';
import type { RaftNode, ProposeResult } from '../raft-node.ts';
import type { Entry, NodeId, Snapshot, SnapshotId, SoftState, StorageOp } from '../types.ts';

export interface RaftStorage {
  apply(ops: readonly StorageOp[]): Promise<void>;
  sync(): Promise<void>;
  readonly endOffset: number;
}

/** Carries a request to its `to` node; resolves with the answer, or null when there is none. */
export interface RaftTransport {
  request(msg: Message): Promise<ResponseBody | null>;
}

/** The replicated state machine (the controller's metadata image). */
export interface RaftApplication {
  /** Replace the whole state with the snapshot's; `fetched`: just downloaded from the leader (KIP-630). */
  restore(snapshot: Snapshot, fetched: boolean): void;
  /** Committed entries in offset order, each exactly once after the last restore. */
  apply(entries: readonly Entry[]): void;
  /** Role, epoch or leader changed. */
  softState?(s: SoftState): void;
}

export interface RaftDriverOptions {
  node: RaftNode;
  storage: RaftStorage;
  transport: RaftTransport;
  app: RaftApplication;
  tickMs: number;
  /** How long an incoming request may wait for the node's answer (a parked fetch included). */
  answerTimeoutMs: number;
  log: (line: string) => void;
  /** Called once when the node stopped because its storage failed. */
  onFatal?: (err: unknown) => void;
}

export class RaftDriverStoppedError extends Error {
  override name = 'RaftDriverStoppedError';
}

export class RaftDriver {
  readonly node: RaftNode;
  readonly #storage: RaftStorage;
  readonly #transport: RaftTransport;
  readonly #app: RaftApplication;
  readonly #tickMs: number;
  readonly #answerTimeoutMs: number;
  readonly #log: (line: string) => void;
  readonly #onFatal: (err: unknown) => void;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #tickQueued = false;
  #stopped = false;
  #failure: unknown = null;
  /** Peers' requests waiting for the node's answer, by `${from}:${correlationId}`. */
  readonly #waiting = new Map<string, (body: ResponseBody | null) => void>();
  #nextIncoming = 1;

  constructor(opts: RaftDriverOptions) {
    this.node = opts.node;
    this.#storage = opts.storage;
    this.#transport = opts.transport;
    this.#app = opts.app;
    this.#tickMs = opts.tickMs;
    this.#answerTimeoutMs = opts.answerTimeoutMs;
    this.#log = opts.log;
    this.#onFatal = opts.onFatal ?? (() => undefined);
  }

  get id(): NodeId {
    return this.node.id;
  }

  get tickMs(): number {
    return this.#tickMs;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Hands the node what is on disk (a snapshot to restore, a leader hint) and starts the clock. */
  async start(): Promise<void> {
    await this.#input(() => undefined);
    this.#timer = setInterval(() => this.#tick(), this.#tickMs);
    this.#timer.unref();
  }

  /** Ticks without waiting for the clock until `done()` (a single voter needs nobody to elect itself). */
  async fastForward(done: () => boolean, maxTicks: number): Promise<void> {
    for (let i = 0; i < maxTicks && !done() && !this.#stopped; i++) await this.#input(() => this.node.tick());
  }

  /**
   * Appends a payload if this node leads. `onProposed` sees the result before the node's outputs
   * are handled, so the caller can register for the commit before the entry can commit.
   */
  propose(payload: Uint8Array, onProposed?: (r: ProposeResult) => void): Promise<ProposeResult> {
    let result: ProposeResult = { ok: false, leaderId: null, epoch: -1 };
    return this.#input(() => {
      result = this.node.propose(payload);
      onProposed?.(result);
    }).then(() => result);
  }

  /** The application serialized its state at `id` (see Ready.snapshotRequest). */
  snapshotCreated(id: SnapshotId, data: Uint8Array): Promise<boolean> {
    let kept = false;
    return this.#input(() => {
      kept = this.node.snapshotCreated(id, data);
    }).then(() => kept);
  }

  /** Graceful resignation (EndQuorumEpoch) before a controlled shutdown. */
  resign(): Promise<void> {
    return this.#input(() => this.node.resign());
  }

  /** A peer's request; resolves with the node's answer, or null if none came in time. */
  receive(from: NodeId, body: RequestBody): Promise<ResponseBody | null> {
    if (this.#stopped) return Promise.resolve(null);
    const correlationId = this.#nextIncoming++;
    const key = `${from}:${correlationId}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        resolve(null);
      }, this.#answerTimeoutMs);
      timer.unref();
      this.#waiting.set(key, (answer) => {
        clearTimeout(timer);
        this.#waiting.delete(key);
        resolve(answer);
      });
      this.#input(() => this.node.step({ from, to: this.node.id, correlationId, body })).catch(() => undefined);
    });
  }

  /** Runs `fn` between inputs (the node's state is settled). */
  inspect<T>(fn: () => T): Promise<T> {
    let out: T;
    return this.#input(() => {
      out = fn();
    }).then(() => out);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    for (const answer of [...this.#waiting.values()]) answer(null);
    await this.#chain.catch(() => undefined);
  }

  #tick(): void {
    if (this.#tickQueued || this.#stopped) return;
    this.#tickQueued = true;
    this.#input(() => {
      this.#tickQueued = false;
      this.node.tick();
    }).catch(() => undefined);
  }

  #input(fn: () => void): Promise<void> {
    const run = this.#chain.then(async () => {
      if (this.#failure !== null) throw this.#failure;
      if (this.#stopped) throw new RaftDriverStoppedError('the metadata quorum member is stopped');
      fn();
      await this.#drain();
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #drain(): Promise<void> {
    for (;;) {
      const rd = this.node.ready();
      const busy = rd.storage.length > 0 || rd.messages.length > 0 || rd.restoreSnapshot !== null || rd.committed.length > 0 || rd.softState !== null;
      if (!busy) return;
      let unsynced = false;
      try {
        if (rd.storage.length > 0) {
          await this.#storage.apply(rd.storage);
          unsynced = !rd.mustSync && rd.storage.some((op) => op.op === 'append' || op.op === 'truncate');
        }
        if (rd.mustSync) await this.#storage.sync();
      } catch (err) {
        this.#fail(err);
        throw err;
      }
      for (const m of rd.messages) this.#dispatch(m);
      if (rd.softState !== null) this.#app.softState?.(rd.softState);
      if (rd.restoreSnapshot !== null) this.#app.restore(rd.restoreSnapshot, rd.storage.some((op) => op.op === 'snapshot'));
      if (rd.committed.length > 0) this.#app.apply(rd.committed);
      if (unsynced) {
        try {
          await this.#storage.sync();
        } catch (err) {
          this.#fail(err);
          throw err;
        }
        this.node.onSynced(this.#storage.endOffset);
      }
    }
  }

  #dispatch(m: Message): void {
    if (!isRequest(m.body)) {
      this.#waiting.get(`${m.to}:${m.correlationId}`)?.(m.body);
      return;
    }
    this.#transport.request(m).then((answer) => {
      if (answer === null || this.#stopped) return;
      return this.#input(() => this.node.step({ from: m.to, to: m.from, correlationId: m.correlationId, body: answer }));
    }).catch(() => undefined);
  }

  #fail(err: unknown): void {
    if (this.#failure !== null) return;
    this.#failure = err;
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#log(`metadata quorum member ${this.node.id} stopped: its storage failed: ${(err as Error)?.message ?? err}`);
    for (const answer of [...this.#waiting.values()]) answer(null);
    this.#onFatal(err);
  }
}
