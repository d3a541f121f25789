// Brook's producer. `send(record)` resolves with {topic, partition, offset, timestamp} once the
// broker has acknowledged the record (per `acks`); `produce(record, callback)` does the same without
// a promise. Records are batched per partition (linger.ms, batch.size), compressed per batch,
// partitioned like Kafka's default partitioner, and sent with up to
// max.in.flight.requests.per.connection requests unanswered per broker, so several batches of one
// partition are on the wire at once, in order (record-accumulator.ts and producer-sender.ts say how
// order survives retries). When buffer.memory is used up, send() waits (FIFO, so order is kept) up
// to max.block.ms; callers that stream large inputs should `await producer.waitForCapacity()`
// between sends.
//
// The send path does no per-record await: a record whose topic is known goes straight into its
// batch; only records that must wait (for metadata, the producer id or buffer space) are queued.
//
// Idempotence (KIP-98) is on by default when the broker advertises InitProducerId, acks is "all"
// and at most 5 requests may be in flight; against a broker without it the producer runs without
// idempotence and says so once via `onNote` (retries may then duplicate records).
// `idempotent: false` turns it off.
import type { RecordInput } from '../protocol/records.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { Client, type ClientOptions } from './client.ts';
import { BufferFullError, ClientClosedError, KafkaError, UnknownPartitionError } from './errors.ts';
import { availablePartitions, type ClusterMetadata, type TopicInfo } from './metadata.ts';
import { partitionForKey, StickyPartitioner } from './partitioner.ts';
import { deliverFailure, type DeliveryCallback, type OnDelivered, type OnFailed, type RecordMetadata } from './producer-delivery.ts';
import { brokerSupportsIdempotence, initProducerId, ProducerIdentity } from './producer-idempotence.ts';
import { ProduceSender } from './producer-sender.ts';
import { BATCH_OVERHEAD, estimateRecordSize, RecordAccumulator } from './record-accumulator.ts';
import { COMPRESSION_BY_NAME, toBuffer, toHeaders, type ProducerOptions, type ProducerRecord } from './producer-options.ts';

export type { DeliveryCallback, RecordMetadata } from './producer-delivery.ts';
export { COMPRESSION_BY_NAME, toHeaders, type CompressionName, type HeadersInit, type ProducerOptions, type ProducerRecord } from './producer-options.ts';

/** Records handed to send() but not yet in a batch (waiting for metadata or buffer space). */
const MAX_QUEUED = 1000;

/** The most batches per producer and partition a broker remembers for answering retries (KIP-98). */
const MAX_IDEMPOTENT_IN_FLIGHT = 5;

interface Waiter {
  record: ProducerRecord;
  input: RecordInput;
  size: number;
  onOk: OnDelivered;
  onError: OnFailed;
  since: number;
}

/** Fails a record refused before batching, never from inside the produce() call itself. */
function refuse(onOk: OnDelivered, onError: OnFailed, error: Error): void {
  queueMicrotask(() => deliverFailure(onOk, onError, error));
}

export class Producer {
  readonly client: Client;
  private readonly ownsClient: boolean;
  private readonly acks: number;
  private readonly opts: Required<Pick<ProducerOptions, 'bufferMemory' | 'maxBlockMs' | 'maxRequestSize' | 'maxInFlight'>>;
  private readonly acc: RecordAccumulator;
  private readonly sender: ProduceSender;
  private readonly sticky: StickyPartitioner;
  private readonly identity = new ProducerIdentity();
  private readonly wantIdempotence: boolean | undefined;
  private readonly onNote: (message: string) => void;
  private idempotenceDecided: Promise<void> | null = null;
  /** The first decision on idempotence was made: records can be appended without waiting. */
  private decidedOnce = false;
  private idempotent = false;
  /** An InitProducerId (or the check whether the broker has it) is under way. */
  private deciding = false;
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
  // The topic last appended to, for the snapshot it was looked up in (snapshots are immutable).
  private lastMeta: ClusterMetadata | null = null;
  private lastName = '';
  private lastTopic: TopicInfo | null = null;
  private lastAvailable: number[] = [];

  constructor(client: Client | ClientOptions, opts: ProducerOptions = {}) {
    this.ownsClient = !(client instanceof Client);
    this.client = client instanceof Client ? client : new Client(client);
    this.acks = opts.acks === 'all' || opts.acks === undefined ? -1 : opts.acks;
    const maxInFlight = opts.maxInFlight ?? MAX_IDEMPOTENT_IN_FLIGHT;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
    if (opts.idempotent === true && this.acks !== -1) {
      throw new KafkaError(ErrorCode.INVALID_REQUIRED_ACKS, 'an idempotent producer needs acks=all');
    }
    if (opts.idempotent === true && maxInFlight > MAX_IDEMPOTENT_IN_FLIGHT) {
      throw new RangeError(`an idempotent producer allows at most ${MAX_IDEMPOTENT_IN_FLIGHT} requests in flight per connection, got ${maxInFlight}`);
    }
    this.wantIdempotence = opts.idempotent ?? (this.acks === -1 && maxInFlight <= MAX_IDEMPOTENT_IN_FLIGHT ? undefined : false);
    this.onNote = opts.onNote ?? (() => {});
    this.opts = {
      bufferMemory: opts.bufferMemory ?? 32 * 1024 * 1024,
      maxBlockMs: opts.maxBlockMs ?? 60_000,
      maxRequestSize: opts.maxRequestSize ?? 1024 * 1024,
      maxInFlight,
    };
    this.acc = new RecordAccumulator({ batchSize: opts.batchSize ?? 16_384, lingerMs: opts.lingerMs ?? 5 });
    this.sticky = new StickyPartitioner(opts.random);
    this.sender = new ProduceSender(this.client, this.acc, this.identity, {
      acks: this.acks,
      timeoutMs: opts.timeoutMs ?? 30_000,
      compression: COMPRESSION_BY_NAME[opts.compression ?? 'none'],
      maxRequestSize: this.opts.maxRequestSize,
      deliveryTimeoutMs: opts.deliveryTimeoutMs ?? 120_000,
      maxInFlight,
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

  /** Produce requests sent and not yet answered (all brokers). */
  get inFlightRequests(): number {
    return this.sender.inFlightRequests;
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

  /** Resolves with the record's metadata once the broker acknowledged it (per acks). */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    if (this.closed) return Promise.reject(new ClientClosedError('producer'));
    return new Promise((resolve, reject) => this.enqueue(record, resolve, reject));
  }

  /**
   * send() without a promise: `callback(null, metadata)` once acknowledged or `callback(error, null)`
   * (Kafka's `send(record, callback)`). One callback may serve many records. Records keep the order
   * of the calls, mixed freely with send().
   */
  produce(record: ProducerRecord, callback: DeliveryCallback): void {
    if (this.closed) {
      const e = new ClientClosedError('producer');
      queueMicrotask(() => callback(e, null));
      return;
    }
    this.enqueue(record, callback, null);
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

  /**
   * Appends at once when nothing is queued before the record, its topic is known and there is
   * buffer space; otherwise queues it (FIFO, so the order of calls is kept).
   */
  private enqueue(record: ProducerRecord, onOk: OnDelivered, onError: OnFailed): void {
    const now = Date.now();
    const input: RecordInput = { key: toBuffer(record.key), value: toBuffer(record.value), headers: toHeaders(record.headers), timestamp: record.timestamp ?? now };
    const size = estimateRecordSize(input);
    if (this.waiters.length === 0 && this.decidedOnce && this.acc.bufferedBytes < this.opts.bufferMemory) {
      const topic = this.knownTopic(record.topic);
      if (topic !== null) {
        this.append(record, input, size, onOk, onError, topic, now);
        return;
      }
    }
    this.queuedBytes += size;
    this.waiters.push({ record, input, size, onOk, onError, since: now });
    this.drainWaiters();
  }

  /** The topic's metadata when the cache holds it with partitions. */
  private knownTopic(name: string): TopicInfo | null {
    const meta = this.client.metadata;
    if (meta === this.lastMeta && name === this.lastName) return this.lastTopic;
    const t = meta.topics.get(name);
    if (t === undefined || t.errorCode !== 0 || t.partitions.length === 0) return null;
    this.lastMeta = meta;
    this.lastName = name;
    this.lastTopic = t;
    this.lastAvailable = availablePartitions(t);
    return t;
  }

  /** Moves waiting records into the accumulator in order, while there is buffer space. */
  private drainWaiters(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.appendWaiting();
  }

  private async appendWaiting(): Promise<void> {
    try {
      while (this.waiters.length > 0) {
        const w = this.waiters[0];
        if (this.acc.bufferedBytes >= this.opts.bufferMemory) {
          if (Date.now() - w.since > this.opts.maxBlockMs) {
            this.dequeue();
            deliverFailure(w.onOk, w.onError, new BufferFullError(`buffer.memory (${this.opts.bufferMemory} bytes) stayed full for ${this.opts.maxBlockMs} ms`));
            continue;
          }
          this.armTimer(Date.now() + Math.min(100, this.opts.maxBlockMs));
          return;
        }
        // The record stays queued until appended, so flush() sees it meanwhile. Waits only for
        // what is missing (the idempotence decision, the topic's metadata).
        let info = this.decidedOnce ? this.knownTopic(w.record.topic) : null;
        if (info === null) {
          try {
            await this.decideIdempotence();
            info = this.knownTopic(w.record.topic) ?? await this.client.topic(w.record.topic, { requireLeaders: false });
          } catch (e) {
            this.dequeue();
            deliverFailure(w.onOk, w.onError, e as Error);
            continue;
          }
        }
        this.dequeue();
        this.append(w.record, w.input, w.size, w.onOk, w.onError, info, Date.now());
      }
    } finally {
      // Synchronously, so that senders woken below take the direct path.
      this.pumping = false;
    }
    this.notifyCapacity();
  }

  private dequeue(): void {
    const w = this.waiters.shift();
    if (w !== undefined) this.queuedBytes -= w.size;
  }

  private append(r: ProducerRecord, input: RecordInput, size: number, onOk: OnDelivered, onError: OnFailed, topic: TopicInfo, now: number): void {
    if (size + BATCH_OVERHEAD > this.opts.maxRequestSize) {
      refuse(onOk, onError, new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `a record of about ${size} bytes exceeds max.request.size (${this.opts.maxRequestSize})`));
      return;
    }
    const n = topic.partitions.length;
    const key = input.key;
    let partition: number;
    if (r.partition !== undefined) {
      if (!topic.partitions.some((p) => p.partition === r.partition)) {
        refuse(onOk, onError, new UnknownPartitionError(r.topic, r.partition, n));
        return;
      }
      partition = r.partition;
    } else if (key !== null) {
      partition = partitionForKey(key, n);
    } else {
      partition = this.sticky.partition(r.topic, this.availableOf(topic), n);
    }
    const closedBatch = this.acc.append(r.topic, partition, input, size, onOk, onError, now);
    if (closedBatch) {
      if (key === null && r.partition === undefined) this.sticky.batchClosed(r.topic, partition, this.availableOf(topic), n);
      this.pump();
    } else {
      this.armTimer(now + this.acc.lingerMs);
    }
  }

  private availableOf(topic: TopicInfo): number[] {
    return topic === this.lastTopic ? this.lastAvailable : availablePartitions(topic);
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
      })().then(() => {
        this.deciding = false;
        this.decidedOnce = true;
      }, (e) => {
        this.deciding = false;
        this.idempotenceDecided = null;
        throw e;
      });
      this.deciding = true;
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
    // No batch is encoded while the producer id is being (re)requested: it would go without one.
    if (this.closed || this.deciding) return;
    if (this.wantIdempotence !== false && !this.identity.initialized && this.idempotenceDecided === null && this.decidedOnce && !this.acc.empty) {
      // The identity was dropped (rejected, or a batch failed for good): get a new one before
      // encoding more batches.
      void this.decideIdempotence().then(() => this.pump(), () => this.armTimer(Date.now() + this.client.retryPolicy.backoffMs));
      return;
    }
    const now = Date.now();
    const { partitions, nextReadyAt } = this.acc.ready(now, this.flushing > 0, this.opts.maxInFlight, this.identity.producerId, this.identity.producerEpoch);
    if (partitions.length > 0) this.sender.send(partitions);
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
