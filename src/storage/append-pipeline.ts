// The write path of one partition. Appends made during one event-loop turn form a "flight" that is
// written with one writev per segment file; while it is being written the next flight accumulates.
// Group commit: a flight holding sync appends is, once written, queued for the next fdatasync; one
// fdatasync covers every flight queued when it starts, and the next starts as soon as it finishes.
// An append waits on one of two promises shared by its whole flight ("written" for acks=0/1,
// "synced" for acks=all), so there is no promise per batch.
//
// On a failed write every flight not yet acknowledged is rejected (offsets are contiguous: nothing
// after a hole may be acknowledged) and the host rolls the log back; the pipeline stays failed until
// reset().

import { storageError } from './errors.ts';
import type { FileSystem } from './fs.ts';
import type { LogSegment } from './segment.ts';

interface PendingWrite {
  segment: LogSegment;
  position: number;
  bufs: Buffer[];
  bytes: number;
}

const noop = (): void => {};

function deferred(): PromiseWithResolvers<void> {
  const d = Promise.withResolvers<void>();
  d.promise.catch(noop); // callers that ignore `done` (acks=0) must not cause unhandled rejections
  return d;
}

class Flight {
  writes: PendingWrite[] = [];
  endOffset = 0;
  messages = 0;
  written: PromiseWithResolvers<void> | null = null;
  synced: PromiseWithResolvers<void> | null = null;

  reject(err: unknown): void {
    this.written?.reject(err);
    this.synced?.reject(err);
  }
}

export interface PipelineHost {
  readonly fs: FileSystem;
  /** Names the log in error messages. */
  readonly name: string;
  /** Creates the segment's file before its first write. */
  openSegment(segment: LogSegment): Promise<void>;
  /** Everything before `endOffset` is in the files (readable). */
  written(endOffset: number): void;
  /** Everything before `endOffset` is durable. */
  synced(endOffset: number): void;
  failed(err: unknown, during: 'write' | 'sync'): void;
  /** Awaited before each fdatasync (e.g. the leader-epoch checkpoint must be durable first). */
  beforeSync(): Promise<void> | undefined;
  /** flush.messages: a sync is forced once this many messages are written but not synced. */
  flushMessages(): number;
}

export class AppendPipeline {
  readonly #host: PipelineHost;
  #acc: Flight | null = null;
  #writing: Flight | null = null;
  #scheduled = false;
  #syncing = false;
  #syncQueue: Flight[] = [];
  #dirty = new Set<LogSegment>();
  #writtenEnd: number;
  #unsyncedMessages = 0;
  #failure: unknown = null;
  #idleWaiters: (() => void)[] = [];
  /** Monotonic-clock-free counter of completed syncs (tests and flush.ms bookkeeping). */
  syncCount = 0;

  constructor(host: PipelineHost, writtenEnd: number, unsynced: readonly LogSegment[] = []) {
    this.#host = host;
    this.#writtenEnd = writtenEnd;
    for (const s of unsynced) this.#dirty.add(s);
  }

  get failure(): unknown {
    return this.#failure;
  }

  /** Bytes written but not yet covered by a sync exist. */
  get hasUnsynced(): boolean {
    return this.#dirty.size > 0 || this.#acc !== null || this.#writing !== null;
  }

  /**
   * Queues `buf` to be written at `position` of `segment`. `endOffset` is the log end offset after it.
   * Returns the promise of its flight: written (sync=false) or written and fdatasync'ed (sync=true).
   */
  add(segment: LogSegment, position: number, buf: Buffer, endOffset: number, messages: number, sync: boolean): Promise<void> {
    let f = this.#acc;
    if (f === null) {
      f = this.#acc = new Flight();
      this.#schedule();
    }
    const last = f.writes[f.writes.length - 1];
    if (last !== undefined && last.segment === segment && last.position + last.bytes === position) {
      last.bufs.push(buf);
      last.bytes += buf.length;
    } else {
      f.writes.push({ segment, position, bufs: [buf], bytes: buf.length });
    }
    f.endOffset = endOffset;
    f.messages += messages;
    if (sync) return (f.synced ??= deferred()).promise;
    return (f.written ??= deferred()).promise;
  }

  /** Resolves once everything queued so far is written and fdatasync'ed. */
  flushAll(): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const f = this.#acc ?? this.#writing;
    if (f !== null) return (f.synced ??= deferred()).promise;
    const marker = new Flight();
    marker.endOffset = this.#writtenEnd;
    marker.synced = deferred();
    this.#syncQueue.push(marker);
    this.#maybeSync();
    return marker.synced.promise;
  }

  /** Resolves when nothing is queued, being written or being synced. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Clears a failure after the host rolled the log back to `writtenEnd`. Segments written since the
   * last sync stay dirty: what they hold before the rollback point still has to be synced.
   */
  reset(writtenEnd: number): void {
    this.#failure = null;
    this.#writtenEnd = writtenEnd;
    this.#unsyncedMessages = 0;
  }

  /** The log was truncated to `writtenEnd` (no write in flight). */
  rewind(writtenEnd: number): void {
    this.#writtenEnd = writtenEnd;
  }

  /** Marks the pipeline failed without I/O (log taken offline by its manager). */
  abort(err: unknown): void {
    if (this.#failure === null) this.#failure = err;
    this.#acc?.reject(err);
    this.#acc = null;
    for (const f of this.#syncQueue) f.reject(err);
    this.#syncQueue = [];
    this.#checkIdle();
  }

  #isIdle(): boolean {
    return this.#acc === null && this.#writing === null && !this.#syncing && (this.#syncQueue.length === 0 || this.#failure !== null);
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing !== null) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#writing !== null || this.#failure !== null || this.#acc === null) return;
    const f = this.#acc;
    this.#acc = null;
    this.#writing = f;
    void this.#write(f);
  }

  async #write(f: Flight): Promise<void> {
    try {
      for (const w of f.writes) {
        if (w.segment.handle === null) await this.#host.openSegment(w.segment);
        await w.segment.handle!.writev(w.bufs, w.position);
        w.segment.writtenSize = w.position + w.bytes;
        this.#dirty.add(w.segment);
      }
    } catch (err) {
      this.#writing = null;
      this.#fail(storageError(`${this.#host.name}: write`, err), 'write', f);
      return;
    }
    this.#writing = null;
    this.#writtenEnd = f.endOffset;
    this.#unsyncedMessages += f.messages;
    this.#host.written(f.endOffset);
    f.written?.resolve();
    if (this.#failure !== null) {
      // Aborted while this flight was being written: it is readable, but no sync will cover it.
      f.synced?.reject(this.#failure);
      this.#checkIdle();
      return;
    }
    if (f.synced !== null) this.#syncQueue.push(f);
    else if (this.#unsyncedMessages >= this.#host.flushMessages()) {
      const marker = new Flight();
      marker.endOffset = f.endOffset;
      this.#syncQueue.push(marker);
    }
    if (this.#acc !== null) this.#kick();
    this.#maybeSync();
    this.#checkIdle();
  }

  #maybeSync(): void {
    if (this.#syncing || this.#failure !== null || this.#syncQueue.length === 0) return;
    const waiters = this.#syncQueue;
    this.#syncQueue = [];
    const segments = [...this.#dirty];
    this.#dirty.clear();
    this.#unsyncedMessages = 0;
    this.#syncing = true;
    void this.#sync(waiters, segments, this.#writtenEnd);
  }

  async #sync(waiters: Flight[], segments: LogSegment[], endOffset: number): Promise<void> {
    try {
      const before = this.#host.beforeSync();
      if (before !== undefined) await before;
      await Promise.all(segments.map(async (s) => {
        if (s.deleted || s.handle === null) return;
        await s.handle.datasync();
        if (!s.dirSynced) {
          await this.#host.fs.syncDir(s.dir);
          s.dirSynced = true;
        }
      }));
    } catch (err) {
      this.#syncing = false;
      const se = storageError(`${this.#host.name}: fdatasync`, err);
      for (const f of waiters) f.synced?.reject(se);
      this.#fail(se, 'sync', null);
      return;
    }
    this.#syncing = false;
    this.syncCount++;
    this.#host.synced(endOffset);
    for (const f of waiters) f.synced?.resolve();
    this.#maybeSync();
    this.#checkIdle();
  }

  #fail(err: unknown, during: 'write' | 'sync', flight: Flight | null): void {
    const first = this.#failure === null;
    if (first) this.#failure = err;
    flight?.reject(err);
    this.#acc?.reject(err);
    this.#acc = null;
    for (const f of this.#syncQueue) f.reject(err);
    this.#syncQueue = [];
    if (first) this.#host.failed(err, during);
    this.#checkIdle();
  }
}
