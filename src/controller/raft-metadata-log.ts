// The metadata log replicated by the Raft quorum (KRaft): the controller's MetadataLog on every
// controller and broker node, and the Raft core's application.
//
// - append (active controller only): the records become one entry — one v2 record batch, one
//   record per metadata record — proposed to the quorum. It resolves once that entry is committed
//   with the epoch it was proposed in and the controller has replayed it; if another leader's
//   entry took the offset, or this node lost the leadership first, it rejects NOT_CONTROLLER (the
//   outcome of the latter is unknown: the entry may still commit, and is then replayed like any
//   other).
// - committed entries, from any leader, are replayed into the Controller's image in order
//   (Controller.replayCommitted). Offsets count entries in Raft and records in the metadata image:
//   records are numbered here, continuing from the snapshot's last record offset.
// - active controller: the Raft leader once its epoch's LeaderChange entry is committed and
//   applied — every earlier epoch's entry is then in the image (Raft §5.4.2), so validation sees
//   the whole history.
// - snapshots (KIP-630): after `snapshotBytes` of committed batches the image is written out
//   (image-snapshot.ts) at the applied offset and the core compacts the log; a restored snapshot
//   replaces the image.

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { buildRecordBatch, decodeRecords } from '../protocol/record-batch.ts';
import type { RaftApplication, RaftDriver } from '../raft/driver/raft-driver.ts';
import type { Entry, Snapshot, SoftState } from '../raft/types.ts';
import type { Controller, ControllerForwarder, ControllerQuorum } from './controller.ts';
import { decodeImageSnapshot, diffImages, encodeImageSnapshot } from './image-snapshot.ts';
import type { MetadataLog } from './metadata-log.ts';

interface Pending {
  epoch: number;
  resolve: (lastRecordOffset: number) => void;
  reject: (err: Error) => void;
}

export interface RaftMetadataLogOptions {
  nodeId: number;
  clusterId: string;
  /** metadata.log.max.record.bytes.between.snapshots */
  snapshotBytes: number;
  log: (line: string) => void;
  /** Wall clock for record and snapshot timestamps. */
  now?: () => number;
}

function notController(message: string): KafkaError {
  return new KafkaError(ErrorCode.NOT_CONTROLLER, message);
}

export class RaftMetadataLog implements MetadataLog, RaftApplication, ControllerQuorum {
  readonly nodeId: number;
  readonly #clusterId: string;
  readonly #snapshotBytes: number;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  /** Where this node's operations go while another node is active (set by the broker). */
  forwarder: ControllerForwarder | null = null;
  #driver: RaftDriver | null = null;
  #controller: Controller | null = null;
  #nextRecordOffset = 0;
  #appliedEnd = 0;
  #lastAppliedEpoch = 0;
  #activeEpoch = -1;
  #lastLeader: number | null = null;
  #bytesSinceSnapshot = 0;
  #snapshotting = false;
  readonly #pending = new Map<number, Pending>();
  readonly #waiters = new Set<{ target: number; done: () => void }>();
  readonly #settleWaiters = new Set<() => void>();
  readonly #activeListeners: ((active: boolean) => void)[] = [];

  constructor(opts: RaftMetadataLogOptions) {
    this.nodeId = opts.nodeId;
    this.#clusterId = opts.clusterId;
    this.#snapshotBytes = opts.snapshotBytes;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
  }

  /** Connects the quorum member and the controller whose image this log feeds. */
  bind(driver: RaftDriver, controller: Controller): void {
    this.#driver = driver;
    this.#controller = controller;
  }

  get driver(): RaftDriver {
    if (this.#driver === null) throw new Error('RaftMetadataLog is not bound');
    return this.#driver;
  }

  /** Exclusive end of the entries applied to the image. */
  get appliedEnd(): number {
    return this.#appliedEnd;
  }

  /** Called with true when this node becomes the active controller, false when it stops being it. */
  onActiveChange(fn: (active: boolean) => void): void {
    this.#activeListeners.push(fn);
  }

  // --- ControllerQuorum ---

  isActive(): boolean {
    const node = this.#driver?.node;
    return node !== undefined && node.role === 'leader' && this.#activeEpoch === node.epoch;
  }

  activeControllerId(): number {
    return this.#driver?.node.leaderId ?? -1;
  }

  whenSettled(timeoutMs: number): Promise<void> {
    if (this.#settled()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#settleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.#settleWaiters.add(done);
    });
  }

  /** This node is active, or another node leads. */
  #settled(): boolean {
    const leader = this.activeControllerId();
    return this.isActive() || (leader >= 0 && leader !== this.nodeId);
  }

  /** Resolves once entries below `target` are in the image (false after `timeoutMs`). */
  waitApplied(target: number, timeoutMs: number): Promise<boolean> {
    if (this.#appliedEnd >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = { target, done: () => resolve(true) };
      this.#waiters.add(w);
      setTimeout(() => {
        if (this.#waiters.delete(w)) resolve(false);
      }, timeoutMs).unref();
    });
  }

  // --- MetadataLog ---

  append(records: Buffer[]): Promise<number> {
    const driver = this.#driver;
    if (driver === null || !this.isActive()) {
      return Promise.reject(notController(`Node ${this.nodeId} is not the active controller.`));
    }
    const timestamp = this.#now();
    const payload = buildRecordBatch({ records: records.map((value) => ({ key: null, value, timestamp })) });
    return new Promise<number>((resolve, reject) => {
      driver.propose(payload, (r) => {
        if (r.ok) this.#pending.set(r.offset, { epoch: r.epoch, resolve, reject });
        else reject(notController(`Node ${this.nodeId} lost the leadership of the metadata quorum.`));
      }).catch((e: unknown) => {
        // The member stopped (closing, or its storage failed): nothing pending can commit here.
        const message = `The metadata quorum member is not running: ${(e as Error)?.message ?? e}`;
        this.#failPending(message);
        reject(notController(message));
      });
    });
  }

  /** Records reach the controller through bind(); there is nothing to read back here. */
  async replay(): Promise<void> {}

  async close(): Promise<void> {
    this.#failPending('The metadata log is closed.');
  }

  // --- RaftApplication ---

  restore(snapshot: Snapshot, fetched: boolean): void {
    const controller = this.#requireController();
    const image = decodeImageSnapshot(snapshot.data, this.#clusterId);
    this.#nextRecordOffset = image.metadataOffset + 1;
    this.#appliedEnd = snapshot.id.endOffset;
    this.#lastAppliedEpoch = snapshot.id.epoch;
    this.#bytesSinceSnapshot = 0;
    for (const [offset, p] of this.#pending) {
      if (offset < this.#appliedEnd) {
        this.#pending.delete(offset);
        p.reject(notController('The proposal was overtaken by a snapshot.'));
      }
    }
    controller.restoreSnapshot(image, diffImages(controller.image, image));
    const how = fetched ? 'installed snapshot fetched from the leader' : 'loaded snapshot';
    this.#log(`metadata: ${how} ${snapshot.id.endOffset}-${snapshot.id.epoch} (metadata offset ${image.metadataOffset})`);
    this.#wake();
  }

  apply(entries: readonly Entry[]): void {
    const controller = this.#requireController();
    for (const e of entries) {
      let last = -1;
      if (e.data.type === 'data') {
        const batch = Buffer.from(e.data.payload.buffer, e.data.payload.byteOffset, e.data.payload.byteLength);
        const values = decodeRecords(batch).map((r) => r.value ?? Buffer.alloc(0));
        const first = this.#nextRecordOffset;
        this.#nextRecordOffset += values.length;
        this.#bytesSinceSnapshot += batch.length;
        last = this.#nextRecordOffset - 1;
        try {
          controller.replayCommitted(values, first);
        } catch (err) {
          this.#log(`metadata: committed entry ${e.offset} cannot be replayed; the controller stops: ${(err as Error).message}`);
        }
      } else if (e.data.leaderId === this.nodeId) {
        const node = this.#driver?.node;
        if (node !== undefined && node.role === 'leader' && node.epoch === e.epoch && this.#activeEpoch !== e.epoch) {
          this.#activeEpoch = e.epoch;
          this.#log(`metadata: node ${this.nodeId} is the active controller (epoch ${e.epoch})`);
          this.#notify(true);
        }
      }
      const p = this.#pending.get(e.offset);
      if (p !== undefined) {
        this.#pending.delete(e.offset);
        if (p.epoch === e.epoch && last >= 0) p.resolve(last);
        else p.reject(notController('Another leader\'s entry took the place of the proposal.'));
      }
      this.#appliedEnd = e.offset + 1;
      this.#lastAppliedEpoch = e.epoch;
    }
    this.#wake();
    this.#maybeSnapshot(controller);
  }

  softState(s: SoftState): void {
    if (this.#activeEpoch >= 0 && (s.role !== 'leader' || s.epoch !== this.#activeEpoch)) {
      this.#activeEpoch = -1;
      this.#failPending('This node lost the leadership of the metadata quorum; the outcome is unknown.');
      this.#notify(false);
    }
    this.#wake();
    if (s.role === 'leader') this.#log(`metadata quorum: node ${this.nodeId} leads epoch ${s.epoch}`);
    else if (s.leaderId !== null && s.leaderId !== this.#lastLeader) this.#log(`metadata quorum: node ${s.leaderId} leads epoch ${s.epoch}`);
    this.#lastLeader = s.leaderId;
  }

  #maybeSnapshot(controller: Controller): void {
    if (this.#snapshotting || this.#bytesSinceSnapshot < this.#snapshotBytes || this.#driver === null) return;
    const id = { endOffset: this.#appliedEnd, epoch: this.#lastAppliedEpoch };
    const data = encodeImageSnapshot(controller.image, this.#now());
    this.#bytesSinceSnapshot = 0;
    this.#snapshotting = true;
    this.#driver.snapshotCreated(id, data).then((kept) => {
      if (kept) this.#log(`metadata: wrote snapshot ${id.endOffset}-${id.epoch} (metadata offset ${controller.image.metadataOffset}, ${data.length} bytes)`);
    }, (e: unknown) => this.#log(`metadata: snapshot ${id.endOffset}-${id.epoch} failed: ${(e as Error)?.message ?? e}`))
      .finally(() => {
        this.#snapshotting = false;
      });
  }

  #requireController(): Controller {
    if (this.#controller === null) throw new Error('RaftMetadataLog is not bound');
    return this.#controller;
  }

  #failPending(message: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(notController(message));
  }

  #notify(active: boolean): void {
    for (const fn of this.#activeListeners) {
      try {
        fn(active);
      } catch (err) {
        this.#log(`metadata: active-controller listener failed: ${(err as Error)?.stack ?? err}`);
      }
    }
  }

  #wake(): void {
    if (this.#settleWaiters.size > 0 && this.#settled()) for (const done of [...this.#settleWaiters]) done();
    for (const w of [...this.#waiters]) {
      if (this.#appliedEnd >= w.target) {
        this.#waiters.delete(w);
        w.done();
      }
    }
  }
}
