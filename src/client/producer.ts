// Brook's producer. `send(record)` resolves with {topic, partition, offset, timestamp} once the
// broker has acknowledged the record (per `acks`); records are batched per partition (linger.ms,
// batch.size), compressed per batch, and partitioned like Kafka's default partitioner. When
// buffer.memory is used up, send() waits (FIFO, so order is kept) up to max.block.ms; callers that
// stream large inputs should `await producer.waitForCapacity()` between sends.
//
// Idempotence (KIP-98) is on by default when the broker advertises InitProducerId and acks is
// "all"; against a broker without it the producer runs without idempotence and says so once via
// `onNote` (retries may then duplicate records). `idempotent: false` turns it off.
import { Compression, type CompressionType } from '../protocol/record-batch.ts';
import type { RecordHeader, RecordInput } from '../protocol/records.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { Client, type ClientOptions } from './client.ts';
import { BufferFullError, ClientClosedError, KafkaError, UnknownPartitionError } from './errors.ts';
import { availablePartitions, type TopicInfo } from './metadata.ts';
import { partitionForKey, StickyPartitioner } from './partitioner.ts';
import { brokerSupportsIdempotence, initProducerId, ProducerIdentity } from './producer-idempotence.ts';
import { ProduceSender } from './producer-sender.ts';
import { estimateRecordSize, RecordAccumulator } from './record-accumulator.ts';

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export const COMPRESSION_BY_NAME: Readonly<Record<CompressionName, CompressionType>> = {
  none: Compression.None, gzip: Compression.Gzip, snappy: Compression.Snappy, lz4: Compression.Lz4, zstd: Compression.Zstd,
};

export type HeadersInit = Readonly<Record<string, string | Buffer>> | readonly RecordHeader[];

export interface ProducerRecord {
  topic: string;
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: HeadersInit;
  /** Explicit partition; otherwise the key decides (murmur2), or the sticky partitioner. */
  partition?: number;
  /** CreateTime in ms; defaults to now. */
  timestamp?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks=0 (the broker does not say). */
  offset: number;
  timestamp: number;
}

export interface ProducerOptions {
  /** 0, 1 or all (-1). Default all. */
  acks?: 0 | 1 | -1 | 'all';
  compression?: CompressionName;
  /** Default 5 ms. */
  lingerMs?: number;
  /** Default 16384 bytes. */
  batchSize?: number;
  /** Default 32 MiB. */
  bufferMemory?: number;
  /** How long send() may wait for buffer space. Default 60 s. */
  maxBlockMs?: number;
  /** Default 1 MiB. */
  maxRequestSize?: number;
  /** The broker-side wait for acks (the Produce request's timeout). Default 30 s. */
  timeoutMs?: number;
  /** Upper bound on the time from send() to success or failure, retries included. Default 120 s. */
  deliveryTimeoutMs?: number;
  /** Default: on when the broker supports it and acks is all. */
  idempotent?: boolean;
  /** Informational messages (e.g. idempotence unavailable). */
  onNote?: (message: string) => void;
  /** Seeded randomness for the sticky partitioner (tests). */
  random?: () => number;
}

/** Records handed to send() but not yet in a batch (waiting for metadata or buffer space). */
const MAX_QUEUED = 1000;

interface Waiter {
  record: ProducerRecord;
  input: RecordInput;
  size: number;
  resolve(meta: RecordMetadata): void;
  reject(e: Error): void;
  since: number;
}

function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : v;
}

export function toHeaders(h: HeadersInit | undefined): RecordHeader[] {
  if (h === undefined) return [];
  if (Array.isArray(h)) return h as RecordHeader[];
  return Object.entries(h as Record<string, string | Buffer>).map(([key, value]) => ({ key, value: toBuffer(value) }));
}

export class Producer {
  readonly client: Client;
  private readonly ownsClient: boolean;
  private readonly acks: number;
  private readonly opts: Required<Pick<ProducerOptions, 'bufferMemory' | 'maxBlockMs' | 'maxRequestSize'>>;
  private readonly acc: RecordAccumulator;
  private readonly sender: ProduceSender;
  private readonly sticky: StickyPartitioner;
  private readonly identity = new ProducerIdentity();
  private readonly wantIdempotence: boolean | undefined;
  private readonly onNote: (message: string) => void;
  private idempotenceDecided: Promise<void> | null = null;
  private idempotent = false;
  private readonly waiters: Waiter[] = [];
  /** Estimated bytes of the records in `waiters`. */
  private queuedBytes = 0;
  private capacityWaiters: (() => void)[] = [];
  private flushing = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private refreshing: Promise<unknown> | null = null;
  private pumping = false;
  private closed = false;

  constructor(client: Client | ClientOptions, opts: ProducerOptions = {}) {
    this.ownsClient = !(client instanceof Client);
    this.client = client instanceof Client ? client : new Client(client);
    this.acks = opts.acks === 'all' || opts.acks === undefined ? -1 : opts.acks;
    if (opts.idempotent === true && this.acks !== -1) {
      throw new KafkaError(ErrorCode.INVALID_REQUIRED_ACKS, 'an idempotent producer needs acks=all');
    }
    this.wantIdempotence = opts.idempotent === undefined ? (this.acks === -1 ? undefined : false) : opts.idempotent;
    this.onNote = opts.onNote ?? (() => {});
    this.opts = {
      bufferMemory: opts.bufferMemory ?? 32 * 1024 * 1024,
      maxBlockMs: opts.maxBlockMs ?? 60_000,
      maxRequestSize: opts.maxRequestSize ?? 1024 * 1024,
    };
    this.acc = new RecordAccumulator({ batchSize: opts.batchSize ?? 16_384, lingerMs: opts.lingerMs ?? 5 });
    this.sticky = new StickyPartitioner(opts.random);
    this.sender = new ProduceSender(this.client, this.acc, this.identity, {
      acks: this.acks,
      timeoutMs: opts.timeoutMs ?? 30_000,
      compression: COMPRESSION_BY_NAME[opts.compression ?? 'none'],
      maxRequestSize: this.opts.maxRequestSize,
      deliveryTimeoutMs: opts.deliveryTimeoutMs ?? 120_000,
    }, {
      refreshMetadata: () => this.refreshMetadata(),
      wake: () => this.pump(),
      resetIdentity: (reason) => this.resetIdentity(reason),
      now: () => Date.now(),
    });
  }

  /** Whether records carry a producer id and sequence numbers (known after the first send). */
  get isIdempotent(): boolean {
    return this.idempotent;
  }

  /** Bytes buffered and not yet acknowledged. */
  get bufferedBytes(): number {
    return this.acc.bufferedBytes;
  }

  /** Whether a send() now would be taken without waiting for buffer space. */
  hasCapacity(): boolean {
    return this.waiters.length < MAX_QUEUED && this.acc.bufferedBytes + this.queuedBytes < this.opts.bufferMemory;
  }

  /** Resolves when a send() would not have to wait for buffer space. */
  waitForCapacity(): Promise<void> {
    if (this.hasCapacity()) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }

  send(record: ProducerRecord): Promise<RecordMetadata> {
    if (this.closed) return Promise.reject(new ClientClosedError('producer'));
    return new Promise((resolve, reject) => {
      const input: RecordInput = { key: toBuffer(record.key), value: toBuffer(record.value), headers: toHeaders(record.headers), timestamp: record.timestamp ?? Date.now() };
      const size = estimateRecordSize(input);
      this.queuedBytes += size;
      this.waiters.push({ record, input, size, resolve, reject, since: Date.now() });
      this.drainWaiters();
    });
  }

  /** Sends everything buffered now (ignoring linger.ms) and waits until it is acknowledged or failed. */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      while (this.waiters.length > 0 || this.pumping || !this.acc.empty) {
        this.pump();
        const pending = this.acc.all().map((b) => b.settled);
        if (pending.length > 0) await Promise.all(pending);
        else await new Promise((r) => setTimeout(r, 1));
      }
    } finally {
      this.flushing--;
    }
  }

  /** Flushes, then closes (and closes the client when the producer created it). */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      if (this.ownsClient) this.client.close();
    }
  }

  // --- appending ------------------------------------------------------------------------------

  /** Moves waiting records into the accumulator in order, while there is buffer space. */
  private drainWaiters(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.appendWaiting().finally(() => {
      this.pumping = false;
      if (this.waiters.length > 0 && this.acc.bufferedBytes < this.opts.bufferMemory) this.drainWaiters();
    });
  }

  private async appendWaiting(): Promise<void> {
    while (this.waiters.length > 0) {
      const w = this.waiters[0];
      if (this.acc.bufferedBytes >= this.opts.bufferMemory) {
        if (Date.now() - w.since > this.opts.maxBlockMs) {
          this.dequeue();
          w.reject(new BufferFullError(`buffer.memory (${this.opts.bufferMemory} bytes) stayed full for ${this.opts.maxBlockMs} ms`));
          continue;
        }
        this.armTimer(Date.now() + Math.min(100, this.opts.maxBlockMs));
        return;
      }
      // The record stays queued until appended, so flush() sees it meanwhile.
      let info: TopicInfo;
      try {
        await this.decideIdempotence();
        const topic = this.client.metadata.topics.get(w.record.topic);
        info = topic !== undefined && topic.errorCode === 0 && topic.partitions.length > 0 ? topic : await this.client.topic(w.record.topic, { requireLeaders: false });
      } catch (e) {
        this.dequeue();
        w.reject(e as Error);
        continue;
      }
      this.dequeue();
      this.append(w, info);
    }
    this.notifyCapacity();
  }

  private dequeue(): void {
    const w = this.waiters.shift();
    if (w !== undefined) this.queuedBytes -= w.size;
  }

  private append(w: Waiter, topic: TopicInfo): void {
    const r = w.record;
    const record = w.input;
    const key = record.key;
    const size = w.size;
    if (size + 61 > this.opts.maxRequestSize) {
      w.reject(new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `a record of about ${size} bytes exceeds max.request.size (${this.opts.maxRequestSize})`));
      return;
    }
    const n = topic.partitions.length;
    let partition: number;
    if (r.partition !== undefined) {
      if (!topic.partitions.some((p) => p.partition === r.partition)) {
        w.reject(new UnknownPartitionError(r.topic, r.partition, n));
        return;
      }
      partition = r.partition;
    } else if (key !== null) {
      partition = partitionForKey(key, n);
    } else {
      partition = this.sticky.partition(r.topic, availablePartitions(topic), n);
    }
    const { closedBatch } = this.acc.append(r.topic, partition, record, size, {
      resolve: (m) => w.resolve({ topic: r.topic, ...m }),
      reject: (e) => w.reject(e),
    }, Date.now());
    if (closedBatch && key === null && r.partition === undefined) this.sticky.batchClosed(r.topic, partition, availablePartitions(topic), n);
    this.pump();
  }

  private async decideIdempotence(): Promise<void> {
    if (this.idempotenceDecided === null) {
      this.idempotenceDecided = (async () => {
        if (this.wantIdempotence === false) return;
        if (!(await brokerSupportsIdempotence(this.client))) {
          this.onNote('the broker does not support idempotent producing (no InitProducerId): producing without idempotence');
          return;
        }
        const { producerId, producerEpoch } = await initProducerId(this.client);
        this.identity.set(producerId, producerEpoch);
        this.idempotent = true;
      })().catch((e) => {
        this.idempotenceDecided = null;
        throw e;
      });
    }
    await this.idempotenceDecided;
  }

  private resetIdentity(reason: string): void {
    if (!this.idempotent) return;
    this.onNote(`producer id ${this.identity.producerId} rejected (${reason}): requesting a new one`);
    this.identity.set(-1n, -1);
    this.idempotent = false;
    this.idempotenceDecided = null;
  }

  // --- sending --------------------------------------------------------------------------------

  /** Sends whatever is ready and arms the timer for the next batch to become ready. */
  private pump(): void {
    if (this.closed) return;
    const now = Date.now();
    const { batches, nextReadyAt } = this.acc.ready(now, this.flushing > 0);
    if (batches.length > 0) {
      if (this.wantIdempotence !== false && !this.identity.initialized && this.idempotenceDecided === null) {
        // The identity was reset: get a new one before encoding more batches.
        void this.decideIdempotence().then(() => this.pump(), () => this.pump());
        return;
      }
      this.sender.send(batches);
    }
    this.armTimer(nextReadyAt);
    this.notifyCapacity();
  }

  private armTimer(at: number): void {
    if (at === Infinity || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.pump();
      if (this.waiters.length > 0) this.drainWaiters();
    }, Math.max(0, at - Date.now()));
  }

  private notifyCapacity(): void {
    if (this.waiters.length > 0 && this.acc.bufferedBytes < this.opts.bufferMemory) this.drainWaiters();
    if (this.capacityWaiters.length > 0 && this.hasCapacity()) {
      const ws = this.capacityWaiters;
      this.capacityWaiters = [];
      for (const w of ws) w();
    }
  }

  private refreshMetadata(): void {
    if (this.refreshing !== null || this.closed) return;
    const topics = [...new Set(this.acc.all().map((b) => b.topic))];
    this.refreshing = this.client.refreshMetadata(topics, { autoCreate: false }).catch(() => {}).finally(() => {
      this.refreshing = null;
      this.pump();
    });
  }
}
