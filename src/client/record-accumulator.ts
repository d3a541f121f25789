// The producer's buffer: records grouped into batches per partition, the last one open until adding
// a record would pass batch.size; a batch is ready to send when closed, when linger.ms has passed
// since it opened, or when a flush asks. Memory is accounted by estimated record size against
// buffer.memory; the producer makes callers wait while it is full.
//
// Ordering with several batches in flight per partition (max.in.flight.requests.per.connection):
// the batches in flight are always the first ones of the partition's queue, and a batch is sent
// only after every batch before it. When one comes back to be retried while later ones are still
// out, the partition is `blocked` until all of them are back, and they are sent again from the head
// in order. With idempotence (KIP-98) the broker refuses a batch whose sequence does not follow the
// last one it wrote (OUT_OF_ORDER_SEQUENCE_NUMBER), so batches behind a failed one cannot have been
// written, and a resent batch keeps its bytes and sequence. Batches of two producer identities
// (after the id was replaced) are never in flight together on one partition: the broker orders
// sequences per producer id only.
import type { RecordInput } from '../protocol/records.ts';
import type { OnDelivered, OnFailed } from './producer-delivery.ts';

export interface ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: RecordInput[];
  /** Per record: a promise's resolve or a delivery callback (see producer-delivery.ts). */
  readonly onOk: OnDelivered[];
  /** Per record: the promise's reject, or null for a callback. */
  readonly onError: OnFailed[];
  /** Estimated encoded size (uncompressed), counted against buffer.memory. */
  size: number;
  readonly createdAt: number;
  /** No more records go into it. */
  closed: boolean;
  /** On the wire: sent and not yet answered. */
  inFlight: boolean;
  attempts: number;
  /** The encoded batch, kept for retries so the bytes (and sequence numbers) stay the same. */
  encoded: Buffer | null;
  /** The identity the batch was encoded with (-1 without idempotence). */
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  /**
   * An earlier batch of the partition with the same identity failed for good: the broker will
   * refuse this one (OUT_OF_ORDER_SEQUENCE_NUMBER), after which it is encoded anew.
   */
  afterGap: boolean;
  /** Resolved when every record of the batch has been settled. */
  readonly settled: Promise<void>;
  settle(): void;
}

export interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  /** Unfinished batches in send order; those in flight come first. */
  readonly batches: ProducerBatch[];
  /** How many of `batches` are in flight. */
  inFlight: number;
  /** A batch came back for a retry while later ones were in flight: send nothing until all are back. */
  blocked: boolean;
  /** Earliest time the partition may send again after a failure. */
  retryAt: number;
}

/** Size of a record in a batch, over-estimating varint fields at their widest. */
export function estimateRecordSize(r: RecordInput): number {
  let n = 21 + (r.key === null || r.key === undefined ? 0 : r.key.length) + (r.value === null || r.value === undefined ? 0 : r.value.length);
  const headers = r.headers;
  if (headers !== undefined) {
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i];
      n += 10 + Buffer.byteLength(h.key) + (h.value === null ? 0 : h.value.length);
    }
  }
  return n;
}

/** The v2 batch header (KIP-98). */
export const BATCH_OVERHEAD = 61;

export class RecordAccumulator {
  readonly batchSize: number;
  readonly lingerMs: number;
  /** Topic → queues by partition index. */
  private readonly topics = new Map<string, PartitionQueue[]>();
  private readonly queues: PartitionQueue[] = [];
  private lastTopic = '';
  private lastQueues: PartitionQueue[] | null = null;
  private buffered = 0;

  constructor(opts: { batchSize: number; lingerMs: number }) {
    this.batchSize = opts.batchSize;
    this.lingerMs = opts.lingerMs;
  }

  /** Bytes held by batches not yet acknowledged. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  queue(topic: string, partition: number): PartitionQueue {
    let byIndex = topic === this.lastTopic ? this.lastQueues : null;
    if (byIndex === null) {
      byIndex = this.topics.get(topic) ?? null;
      if (byIndex === null) this.topics.set(topic, (byIndex = []));
      this.lastTopic = topic;
      this.lastQueues = byIndex;
    }
    let q = byIndex[partition];
    if (q === undefined) {
      q = { topic, partition, batches: [], inFlight: 0, blocked: false, retryAt: 0 };
      byIndex[partition] = q;
      this.queues.push(q);
    }
    return q;
  }

  /**
   * Adds a record to the partition's open batch, opening one when there is none or the record
   * does not fit. Returns whether a batch was closed by this append (the sticky partitioner then
   * moves on, and the batch can be sent without waiting for linger.ms).
   */
  append(topic: string, partition: number, record: RecordInput, size: number, onOk: OnDelivered, onError: OnFailed, now: number): boolean {
    const q = this.queue(topic, partition);
    const batches = q.batches;
    let tail = batches.length === 0 ? undefined : batches[batches.length - 1];
    let closedBatch = false;
    if (tail !== undefined && !tail.closed && tail.records.length > 0 && tail.size + size > this.batchSize) {
      tail.closed = true;
      closedBatch = true;
    }
    if (tail === undefined || tail.closed) {
      tail = newBatch(topic, partition, now);
      batches.push(tail);
      this.buffered += BATCH_OVERHEAD;
    }
    tail.records.push(record);
    tail.onOk.push(onOk);
    tail.onError.push(onError);
    tail.size += size;
    this.buffered += size;
    if (tail.size >= this.batchSize) {
      tail.closed = true;
      closedBatch = true;
    }
    return closedBatch;
  }

  /**
   * The batches that may be sent now, per partition in send order (closed, lingered long enough,
   * being retried, or `flushing`), at most `maxInFlight` in flight per partition, none from a
   * blocked or backed-off partition; and when the next one becomes ready. `producerId` and
   * `producerEpoch` are the identity new batches would be encoded with.
   */
  ready(now: number, flushing: boolean, maxInFlight: number, producerId: bigint, producerEpoch: number): { partitions: ProducerBatch[][]; nextReadyAt: number } {
    const partitions: ProducerBatch[][] = [];
    let nextReadyAt = Infinity;
    for (const q of this.queues) {
      const batches = q.batches;
      if (batches.length <= q.inFlight || q.blocked || q.inFlight >= maxInFlight) continue;
      if (q.retryAt > now) {
        nextReadyAt = Math.min(nextReadyAt, q.retryAt);
        continue;
      }
      // Identity of what is in flight (or of the first batch to send).
      let pid = q.inFlight > 0 ? batches[0].producerId : -2n;
      let epoch = q.inFlight > 0 ? batches[0].producerEpoch : -2;
      let list: ProducerBatch[] | null = null;
      for (let i = q.inFlight; i < batches.length && i < maxInFlight; i++) {
        const b = batches[i];
        const readyAt = b.closed || flushing || b.attempts > 0 ? 0 : b.createdAt + this.lingerMs;
        if (readyAt > now) {
          nextReadyAt = Math.min(nextReadyAt, readyAt);
          break;
        }
        const bPid = b.encoded === null ? producerId : b.producerId;
        const bEpoch = b.encoded === null ? producerEpoch : b.producerEpoch;
        if (pid === -2n) {
          pid = bPid;
          epoch = bEpoch;
        } else if (bPid !== pid || bEpoch !== epoch) {
          break;
        }
        if (list === null) partitions.push((list = []));
        list.push(b);
      }
    }
    return { partitions, nextReadyAt };
  }

  /** Marks a batch as sent. */
  sent(batch: ProducerBatch): void {
    batch.inFlight = true;
    batch.attempts++;
    this.queue(batch.topic, batch.partition).inFlight++;
  }

  /** A batch in flight came back to be sent again, not before `retryAt`. */
  returned(batch: ProducerBatch, retryAt: number): void {
    const q = this.queue(batch.topic, batch.partition);
    this.landed(q, batch);
    if (q.inFlight > 0) q.blocked = true;
    q.retryAt = Math.max(q.retryAt, retryAt);
  }

  /** Removes a finished batch (acknowledged or failed for good) and releases its memory. */
  complete(batch: ProducerBatch): void {
    const q = this.queue(batch.topic, batch.partition);
    this.landed(q, batch);
    const i = q.batches.indexOf(batch);
    if (i >= 0) q.batches.splice(i, 1);
    this.buffered -= batch.size;
    batch.settle();
  }

  private landed(q: PartitionQueue, batch: ProducerBatch): void {
    if (batch.inFlight) {
      batch.inFlight = false;
      q.inFlight--;
    }
    if (q.inFlight === 0) q.blocked = false;
  }

  /** Every batch still held, head first per partition. */
  all(): ProducerBatch[] {
    const out: ProducerBatch[] = [];
    for (const q of this.queues) for (const b of q.batches) out.push(b);
    return out;
  }

  /** Whether any record is waiting or in flight. */
  get empty(): boolean {
    for (const q of this.queues) if (q.batches.length > 0) return false;
    return true;
  }
}

function newBatch(topic: string, partition: number, now: number): ProducerBatch {
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  return {
    topic, partition, records: [], onOk: [], onError: [], size: BATCH_OVERHEAD, createdAt: now, closed: false, inFlight: false,
    attempts: 0, encoded: null, producerId: -1n, producerEpoch: -1, baseSequence: -1, afterGap: false, settled, settle,
  };
}
