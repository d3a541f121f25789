// The producer's buffer: records grouped into one open batch per partition, closed when adding a
// record would pass batch.size, and ready to send when closed, when linger.ms has passed since
// the batch opened, or when a flush asks. At most one batch per partition is in flight, so a
// retried batch can never be overtaken by a later one (order is kept per partition, and an
// idempotent producer's sequence numbers stay contiguous). Memory is accounted by estimated
// record size against buffer.memory; the producer makes callers wait while it is full.
import type { RecordInput } from '../protocol/records.ts';

export interface Delivery {
  resolve(meta: { partition: number; offset: number; timestamp: number }): void;
  reject(error: Error): void;
}

export interface ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: RecordInput[];
  readonly deliveries: Delivery[];
  /** Estimated encoded size (uncompressed), counted against buffer.memory. */
  size: number;
  readonly createdAt: number;
  /** No more records go into it. */
  closed: boolean;
  attempts: number;
  /** The encoded batch, kept for retries so the bytes (and sequence numbers) stay the same. */
  encoded: Buffer | null;
  baseSequence: number;
  /** Resolved when every delivery of the batch has been settled. */
  readonly settled: Promise<void>;
  settle(): void;
}

export interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  readonly batches: ProducerBatch[];
  inFlight: boolean;
  /** Earliest time the head batch may be sent again after a failure. */
  retryAt: number;
}

/** Size of a record in a batch, over-estimating varint fields at their widest. */
export function estimateRecordSize(r: RecordInput): number {
  let n = 21 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers ?? []) n += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}

/** The v2 batch header (KIP-98). */
export const BATCH_OVERHEAD = 61;

export class RecordAccumulator {
  readonly batchSize: number;
  readonly lingerMs: number;
  private readonly queues = new Map<string, PartitionQueue>();
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
    const key = `${partition}:${topic}`;
    let q = this.queues.get(key);
    if (q === undefined) {
      q = { topic, partition, batches: [], inFlight: false, retryAt: 0 };
      this.queues.set(key, q);
    }
    return q;
  }

  /**
   * Adds a record to the partition's open batch, opening one when there is none or the record
   * does not fit. Returns whether a batch was closed by this append (the sticky partitioner then
   * moves on).
   */
  append(topic: string, partition: number, record: RecordInput, size: number, delivery: Delivery, now: number): { closedBatch: boolean } {
    const q = this.queue(topic, partition);
    let tail = q.batches.at(-1);
    let closedBatch = false;
    if (tail !== undefined && !tail.closed && tail.records.length > 0 && tail.size + size > this.batchSize) {
      tail.closed = true;
      closedBatch = true;
    }
    if (tail === undefined || tail.closed) {
      tail = newBatch(topic, partition, now);
      q.batches.push(tail);
      this.buffered += BATCH_OVERHEAD;
      tail.size = BATCH_OVERHEAD;
    }
    tail.records.push(record);
    tail.deliveries.push(delivery);
    tail.size += size;
    this.buffered += size;
    if (tail.size >= this.batchSize) {
      tail.closed = true;
      closedBatch = true;
    }
    return { closedBatch };
  }

  /**
   * Head batches that may be sent now (closed, lingered long enough, or `flushing`), from
   * partitions with nothing in flight, and the time of the next batch to become ready.
   */
  ready(now: number, flushing: boolean): { batches: ProducerBatch[]; nextReadyAt: number } {
    const batches: ProducerBatch[] = [];
    let nextReadyAt = Infinity;
    for (const q of this.queues.values()) {
      const head = q.batches[0];
      if (head === undefined || q.inFlight) continue;
      const readyAt = Math.max(q.retryAt, head.closed || flushing || head.attempts > 0 ? 0 : head.createdAt + this.lingerMs);
      if (readyAt <= now) batches.push(head);
      else nextReadyAt = Math.min(nextReadyAt, readyAt);
    }
    return { batches, nextReadyAt };
  }

  /** Removes a finished batch (acknowledged or failed for good) and releases its memory. */
  complete(batch: ProducerBatch): void {
    const q = this.queue(batch.topic, batch.partition);
    const i = q.batches.indexOf(batch);
    if (i >= 0) q.batches.splice(i, 1);
    q.inFlight = false;
    this.buffered -= batch.size;
    batch.settle();
  }

  /** Every batch still held, head first per partition. */
  all(): ProducerBatch[] {
    return [...this.queues.values()].flatMap((q) => q.batches);
  }

  /** Whether any record is waiting or in flight. */
  get empty(): boolean {
    for (const q of this.queues.values()) if (q.batches.length > 0) return false;
    return true;
  }
}

function newBatch(topic: string, partition: number, now: number): ProducerBatch {
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  return {
    topic, partition, records: [], deliveries: [], size: 0, createdAt: now, closed: false, attempts: 0,
    encoded: null, baseSequence: -1, settled, settle,
  };
}
