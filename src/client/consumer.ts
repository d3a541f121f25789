// Brook's consumer for explicitly assigned partitions (the group consumer builds on it). Each
// partition has a fetch position; positions given as earliest/latest/timestamp/from-end are
// resolved with ListOffsets at the leader. Fetching is pipelined: one Fetch per leader node is
// kept outstanding while the application works through what was already fetched, up to
// maxBufferedBytes. A seek bumps the partition's epoch, so data from a fetch that was already on
// the wire is dropped. Leadership errors refresh metadata and re-route; OFFSET_OUT_OF_RANGE resets
// by autoOffsetReset. Fetch sessions (KIP-227) are not used: every Fetch is a full one.
import { ApiKey } from '../protocol/generated/api-index.ts';
import { ErrorCode, isRetriable } from '../protocol/errors.ts';
import { Client, type ClientOptions } from './client.ts';
import { BrokerUnreachableError, ClientClosedError, isRetriableError, responseError } from './errors.ts';
import { decodeFetchedRecords, type ConsumerRecord } from './fetch-decode.ts';
import { buildFetchRequest, FETCH_LEADERSHIP_ERRORS } from './fetch-request.ts';
import { tpKey } from './list-offsets.ts';
import { resolveOffsets, type OffsetSpec } from './offset-resolve.ts';
import type { ConsumerOptions, PartitionState, TopicPartition } from './consumer-state.ts';
import { backoffFor } from './retry.ts';

export type { ConsumerRecord } from './fetch-decode.ts';
export type { OffsetSpec } from './offset-resolve.ts';
export type { ConsumerOptions, TopicPartition } from './consumer-state.ts';

const recordBytes = (r: ConsumerRecord): number => 64 + (r.key?.length ?? 0) + (r.value?.length ?? 0);

export class Consumer {
  readonly client: Client;
  private readonly ownsClient: boolean;
  private readonly o: Required<ConsumerOptions>;
  private readonly parts = new Map<string, PartitionState>();
  private readonly nodesFetching = new Set<number>();
  private totalBuffered = 0;
  private waiters: (() => void)[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private refreshing: Promise<unknown> | null = null;
  private rr = 0;
  private closed = false;

  constructor(client: Client | ClientOptions, opts: ConsumerOptions = {}) {
    this.ownsClient = !(client instanceof Client);
    this.client = client instanceof Client ? client : new Client(client);
    this.o = {
      readCommitted: opts.readCommitted ?? false,
      maxWaitMs: opts.maxWaitMs ?? 500,
      minBytes: opts.minBytes ?? 1,
      maxBytes: opts.maxBytes ?? 50 * 1024 * 1024,
      maxPartitionBytes: opts.maxPartitionBytes ?? 1024 * 1024,
      autoOffsetReset: opts.autoOffsetReset ?? 'latest',
      maxBufferedBytes: opts.maxBufferedBytes ?? 32 * 1024 * 1024,
      checkCrcs: opts.checkCrcs ?? true,
    };
  }

  /** Replaces the assignment. Partitions without an offset start at autoOffsetReset. */
  assign(list: readonly (TopicPartition & { offset?: OffsetSpec })[]): void {
    const keep = new Set(list.map((p) => tpKey(p.topic, p.partition)));
    this.unassign([...this.parts.values()].filter((p) => !keep.has(tpKey(p.topic, p.partition))));
    this.addAssignment(list);
  }

  /** Adds partitions (already assigned ones are only re-positioned when an offset is given). */
  addAssignment(list: readonly (TopicPartition & { offset?: OffsetSpec })[]): void {
    for (const p of list) {
      const key = tpKey(p.topic, p.partition);
      if (this.parts.has(key)) {
        if (p.offset !== undefined) this.seek(p.topic, p.partition, p.offset);
        continue;
      }
      const absolute = typeof p.offset === 'number' && p.offset >= 0 ? p.offset : null;
      this.parts.set(key, {
        topic: p.topic, partition: p.partition, fetchPosition: absolute, pending: absolute !== null ? null : (p.offset ?? this.resetSpec()), epoch: 0,
        buffered: [], bufferedBytes: 0, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1,
        fetching: false, resolving: false, paused: false, error: null, retryAt: 0, failures: 0,
      });
    }
    this.kick();
  }

  unassign(list: readonly TopicPartition[]): void {
    for (const p of list) {
      const s = this.parts.get(tpKey(p.topic, p.partition));
      if (s === undefined) continue;
      this.dropBuffered(s);
      s.epoch++;
      this.parts.delete(tpKey(p.topic, p.partition));
    }
  }

  assignment(): TopicPartition[] {
    return [...this.parts.values()].map((p) => ({ topic: p.topic, partition: p.partition }));
  }

  seek(topic: string, partition: number, offset: OffsetSpec): void {
    const s = this.state(topic, partition);
    this.dropBuffered(s);
    s.epoch++;
    s.error = null;
    if (typeof offset === 'number' && offset >= 0) {
      s.fetchPosition = offset;
      s.pending = null;
    } else {
      s.fetchPosition = null;
      s.pending = offset;
    }
    this.kick();
  }

  /** The offset of the next record poll() will return (null while being resolved). */
  position(topic: string, partition: number): number | null {
    const s = this.state(topic, partition);
    return s.buffered.length > 0 ? s.buffered[0].offset : s.fetchPosition;
  }

  /** High watermark from the last fetch (-1 before one); the last stable offset under read_committed. */
  endOffset(topic: string, partition: number): number {
    const s = this.state(topic, partition);
    return this.o.readCommitted ? s.lastStableOffset : s.highWatermark;
  }

  /** Whether everything up to the partition's end (as of the last fetch) has been returned. */
  atEnd(topic: string, partition: number): boolean {
    const s = this.parts.get(tpKey(topic, partition));
    if (s === undefined) return false;
    const end = this.o.readCommitted ? s.lastStableOffset : s.highWatermark;
    return s.buffered.length === 0 && s.fetchPosition !== null && end >= 0 && s.fetchPosition >= end;
  }

  pause(list: readonly TopicPartition[]): void {
    for (const p of list) this.state(p.topic, p.partition).paused = true;
  }

  resume(list: readonly TopicPartition[]): void {
    for (const p of list) this.state(p.topic, p.partition).paused = false;
    this.kick();
  }

  /**
   * Up to maxRecords fetched records, taking from partitions in turn; waits up to timeoutMs when
   * none are buffered. Throws a partition's fetch error (once).
   */
  async poll(opts: { maxRecords?: number; timeoutMs?: number } = {}): Promise<ConsumerRecord[]> {
    if (this.closed) throw new ClientClosedError('consumer');
    const maxRecords = opts.maxRecords ?? 500;
    const deadline = Date.now() + (opts.timeoutMs ?? 1000);
    for (;;) {
      for (const s of this.parts.values()) {
        if (s.error !== null && s.buffered.length === 0) {
          const e = s.error;
          s.error = null;
          throw e;
        }
      }
      const out = this.take(maxRecords);
      if (out.length > 0 || this.closed) return out;
      const wait = deadline - Date.now();
      if (wait <= 0) return out;
      this.kick();
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, wait);
        const self = this;
        function done(): void {
          clearTimeout(t);
          self.waiters = self.waiters.filter((w) => w !== done);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  /** Ends a poll() that is waiting (it returns what it has, possibly nothing). */
  wakeup(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.wakeup();
    if (this.ownsClient) this.client.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // --- internals ------------------------------------------------------------------------------

  private resetSpec(): OffsetSpec {
    return this.o.autoOffsetReset === 'earliest' ? 'earliest' : 'latest';
  }

  private state(topic: string, partition: number): PartitionState {
    const s = this.parts.get(tpKey(topic, partition));
    if (s === undefined) throw new Error(`${topic}-${partition} is not assigned to this consumer`);
    return s;
  }

  private dropBuffered(s: PartitionState): void {
    this.totalBuffered -= s.bufferedBytes;
    s.buffered = [];
    s.bufferedBytes = 0;
  }

  private take(max: number): ConsumerRecord[] {
    const states = [...this.parts.values()].filter((s) => s.buffered.length > 0);
    const out: ConsumerRecord[] = [];
    if (states.length === 0) return out;
    for (let i = 0; i < states.length && out.length < max; i++) {
      const s = states[(this.rr + i) % states.length];
      const n = Math.min(max - out.length, s.buffered.length);
      const chunk = s.buffered.splice(0, n);
      let bytes = 0;
      for (const r of chunk) bytes += recordBytes(r);
      s.bufferedBytes -= bytes;
      this.totalBuffered -= bytes;
      out.push(...chunk);
    }
    this.rr++;
    this.kick();
    return out;
  }

  private notify(): void {
    this.wakeup();
  }

  /** Runs the scheduler once, soon. */
  private kick(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.tick();
    });
  }

  private tick(): void {
    if (this.closed || this.client.isClosed) return;
    const now = Date.now();
    let nextRetry = Infinity;
    const toResolve: PartitionState[] = [];
    const byLeader = new Map<number, PartitionState[]>();
    let needMetadata = false;
    for (const s of this.parts.values()) {
      if (s.paused || s.error !== null || s.fetching || s.resolving) continue;
      if (s.retryAt > now) {
        nextRetry = Math.min(nextRetry, s.retryAt);
        continue;
      }
      if (s.fetchPosition === null) {
        toResolve.push(s);
        continue;
      }
      if (this.totalBuffered >= this.o.maxBufferedBytes || s.bufferedBytes >= this.o.maxPartitionBytes) continue;
      const leader = this.client.metadata.topics.get(s.topic)?.partitions.find((p) => p.partition === s.partition)?.leader ?? -1;
      if (leader < 0) {
        needMetadata = true;
        continue;
      }
      if (this.nodesFetching.has(leader)) continue;
      let list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, (list = []));
      list.push(s);
    }
    if (toResolve.length > 0) this.resolve(toResolve);
    for (const [leader, list] of byLeader) this.fetch(leader, list);
    if (needMetadata) this.refresh();
    if (nextRetry < this.timerAt) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timerAt = nextRetry;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.timerAt = Infinity;
        this.kick();
      }, nextRetry - now);
    }
  }

  private refresh(): void {
    if (this.refreshing !== null) return;
    const topics = [...new Set([...this.parts.values()].map((s) => s.topic))];
    this.refreshing = this.client.refreshMetadata(topics, { autoCreate: false })
      .catch((e) => {
        for (const s of this.parts.values()) this.backOff(s, e);
      })
      .finally(() => {
        this.refreshing = null;
        this.kick();
      });
  }

  private backOff(s: PartitionState, error: unknown): void {
    s.failures++;
    s.retryAt = Date.now() + backoffFor(s.failures, this.client.retryPolicy);
    if (s.failures > 50 && error instanceof Error) {
      s.error = error;
      this.notify();
    }
  }

  private resolve(list: PartitionState[]): void {
    const epochs = new Map(list.map((s) => [s, s.epoch]));
    for (const s of list) s.resolving = true;
    const requests = list.map((s) => ({ topic: s.topic, partition: s.partition, spec: s.pending ?? this.resetSpec() }));
    resolveOffsets(this.client, requests, this.o.readCommitted).then((offsets) => {
      for (const s of list) {
        s.resolving = false;
        // Seeked again (or unassigned) meanwhile: that newer request wins.
        if (epochs.get(s) !== s.epoch || !this.parts.has(tpKey(s.topic, s.partition))) continue;
        s.fetchPosition = offsets.get(tpKey(s.topic, s.partition)) ?? 0;
        s.pending = null;
        s.failures = 0;
      }
    }, (e: unknown) => {
      for (const s of list) {
        s.resolving = false;
        if (e instanceof Error && !isRetriableError(e) && !(e instanceof BrokerUnreachableError)) {
          s.error = e;
          this.notify();
        } else this.backOff(s, e);
      }
    }).finally(() => this.kick());
  }

  private fetch(leader: number, list: PartitionState[]): void {
    this.nodesFetching.add(leader);
    const sent = new Map(list.map((s) => [tpKey(s.topic, s.partition), { s, epoch: s.epoch, offset: s.fetchPosition! }]));
    for (const s of list) s.fetching = true;
    const request = buildFetchRequest([...sent.values()].map((x) => ({ topic: x.s.topic, partition: x.s.partition, offset: x.offset })), this.o);
    let conn;
    try {
      conn = this.client.node(leader);
    } catch (e) {
      this.nodesFetching.delete(leader);
      for (const s of list) {
        s.fetching = false;
        this.backOff(s, e);
      }
      this.refresh();
      return;
    }
    conn.send(ApiKey.Fetch, request, { extraTimeoutMs: this.o.maxWaitMs }).then((res) => {
      if (res.errorCode !== 0) throw responseError(res.errorCode, `Fetch from node ${leader}`);
      for (const t of res.responses) {
        for (const p of t.partitions) {
          const x = sent.get(tpKey(t.topic, p.partitionIndex));
          if (x === undefined) continue;
          x.s.fetching = false;
          if (x.epoch !== x.s.epoch || this.parts.get(tpKey(x.s.topic, x.s.partition)) !== x.s) continue;
          this.onPartition(x.s, x.offset, p);
        }
      }
    }).catch((e) => {
      for (const x of sent.values()) this.backOff(x.s, e);
      this.refresh();
    }).finally(() => {
      for (const x of sent.values()) x.s.fetching = false;
      this.nodesFetching.delete(leader);
      this.kick();
    });
  }

  private onPartition(s: PartitionState, fetchOffset: number, p: {
    errorCode: number; highWatermark: bigint; lastStableOffset: bigint; logStartOffset: bigint;
    abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null; records: Buffer | null;
  }): void {
    if (p.errorCode !== 0) {
      const e = responseError(p.errorCode, `${s.topic}-${s.partition} at offset ${fetchOffset}`);
      if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE && this.o.autoOffsetReset !== 'none') {
        s.fetchPosition = null;
        s.pending = this.resetSpec();
      } else if (FETCH_LEADERSHIP_ERRORS.has(p.errorCode) || isRetriable(p.errorCode)) {
        this.backOff(s, e);
        this.refresh();
      } else {
        s.error = e;
        this.notify();
      }
      return;
    }
    s.failures = 0;
    s.highWatermark = Number(p.highWatermark);
    s.lastStableOffset = p.lastStableOffset >= 0n ? Number(p.lastStableOffset) : s.highWatermark;
    s.logStartOffset = Number(p.logStartOffset);
    let decoded;
    try {
      decoded = decodeFetchedRecords(s.topic, s.partition, p.records, fetchOffset, {
        readCommitted: this.o.readCommitted, aborted: p.abortedTransactions, checkCrcs: this.o.checkCrcs,
      });
    } catch (e) {
      s.error = e as Error;
      this.notify();
      return;
    }
    s.fetchPosition = decoded.nextOffset;
    if (decoded.records.length > 0) {
      let bytes = 0;
      for (const r of decoded.records) bytes += recordBytes(r);
      s.buffered.push(...decoded.records);
      s.bufferedBytes += bytes;
      this.totalBuffered += bytes;
    }
    this.notify();
  }
}

