// Sends the accumulator's ready batches: groups them by partition leader into Produce requests of
// at most max.request.size, encodes each batch once (with the idempotent producer's sequence) and
// keeps the bytes for retries, and settles deliveries from the answer. Retriable failures
// (leadership moved, timeouts, network errors, NOT_ENOUGH_REPLICAS...) put the batch back at the
// head of its partition after a backoff, until delivery.timeout.ms; anything else fails its records.
import { ApiKey } from '../protocol/generated/api-index.ts';
import { ErrorCode, errorName, isRetriable } from '../protocol/errors.ts';
import { buildRecordBatch, type CompressionType } from '../protocol/record-batch.ts';
import type { Client } from './client.ts';
import { KafkaError, isRetriableError } from './errors.ts';
import type { ProducerIdentity } from './producer-idempotence.ts';
import type { ProducerBatch, RecordAccumulator } from './record-accumulator.ts';
import { backoffFor } from './retry.ts';

export interface SenderConfig {
  acks: number;
  timeoutMs: number;
  compression: CompressionType;
  maxRequestSize: number;
  deliveryTimeoutMs: number;
}

export interface SenderHooks {
  /** Leadership changed or a leader is unknown: refresh metadata (coalesced by the producer). */
  refreshMetadata(): void;
  /** Something changed that may make batches sendable: run the send loop again. */
  wake(): void;
  /** The broker no longer knows our producer id/epoch: get a new one before the next batch. */
  resetIdentity(reason: string): void;
  now(): number;
}

/** Errors after which the partition's leader is probably elsewhere. */
const LEADERSHIP_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.KAFKA_STORAGE_ERROR,
]);

const IDENTITY_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, ErrorCode.UNKNOWN_PRODUCER_ID, ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.PRODUCER_FENCED,
]);

export class ProduceSender {
  private readonly client: Client;
  private readonly acc: RecordAccumulator;
  private readonly identity: ProducerIdentity | null;
  private readonly config: SenderConfig;
  private readonly hooks: SenderHooks;
  /** Requests on the wire. */
  inFlightRequests = 0;

  constructor(client: Client, acc: RecordAccumulator, identity: ProducerIdentity | null, config: SenderConfig, hooks: SenderHooks) {
    this.client = client;
    this.acc = acc;
    this.identity = identity;
    this.config = config;
    this.hooks = hooks;
  }

  /** Sends the given head batches (each from a partition with nothing in flight). */
  send(batches: readonly ProducerBatch[]): void {
    const now = this.hooks.now();
    const byLeader = new Map<number, ProducerBatch[]>();
    for (const batch of batches) {
      if (now - batch.createdAt > this.config.deliveryTimeoutMs) {
        this.fail(batch, new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `delivery to ${batch.topic}-${batch.partition} timed out after ${this.config.deliveryTimeoutMs} ms`));
        continue;
      }
      const leader = this.client.metadata.topics.get(batch.topic)?.partitions.find((p) => p.partition === batch.partition)?.leader ?? -1;
      if (leader < 0 || !this.client.metadata.brokers.has(leader)) {
        this.backOff(batch, now);
        this.hooks.refreshMetadata();
        continue;
      }
      let list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, (list = []));
      list.push(batch);
    }
    for (const [leader, list] of byLeader) {
      let request: ProducerBatch[] = [];
      let size = 0;
      for (const batch of list) {
        const bytes = this.encode(batch);
        if (request.length > 0 && size + bytes.length > this.config.maxRequestSize) {
          this.sendRequest(leader, request);
          request = [];
          size = 0;
        }
        request.push(batch);
        size += bytes.length;
      }
      if (request.length > 0) this.sendRequest(leader, request);
    }
  }

  /** Encodes a batch on its first send; the same bytes are resent on retries. */
  private encode(batch: ProducerBatch): Buffer {
    batch.closed = true;
    if (batch.encoded === null) {
      const idempotent = this.identity !== null && this.identity.initialized;
      if (idempotent) batch.baseSequence = this.identity!.take(batch.topic, batch.partition, batch.records.length);
      batch.encoded = buildRecordBatch({
        records: batch.records,
        compression: this.config.compression,
        producerId: idempotent ? this.identity!.producerId : -1n,
        producerEpoch: idempotent ? this.identity!.producerEpoch : -1,
        baseSequence: idempotent ? batch.baseSequence : -1,
      });
    }
    return batch.encoded;
  }

  private sendRequest(leader: number, batches: ProducerBatch[]): void {
    for (const b of batches) {
      this.acc.queue(b.topic, b.partition).inFlight = true;
      b.attempts++;
    }
    const topics = new Map<string, { index: number; records: Buffer }[]>();
    for (const b of batches) {
      let parts = topics.get(b.topic);
      if (parts === undefined) topics.set(b.topic, (parts = []));
      parts.push({ index: b.partition, records: b.encoded! });
    }
    const request = {
      transactionalId: null,
      acks: this.config.acks,
      timeoutMs: this.config.timeoutMs,
      topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
    };
    const noResponse = this.config.acks === 0;
    this.inFlightRequests++;
    let conn;
    try {
      conn = this.client.node(leader);
    } catch (e) {
      this.inFlightRequests--;
      for (const b of batches) this.retryOrFail(b, e as Error);
      this.hooks.refreshMetadata();
      return;
    }
    conn.send(ApiKey.Produce, request, { extraTimeoutMs: this.config.timeoutMs, noResponse }).then(
      (res) => {
        this.inFlightRequests--;
        if (noResponse) {
          for (const b of batches) this.succeed(b, -1, -1);
          return;
        }
        const byKey = new Map<string, ProducerBatch>(batches.map((b) => [`${b.partition}:${b.topic}`, b]));
        for (const t of res.responses) {
          for (const p of t.partitionResponses) {
            const b = byKey.get(`${p.index}:${t.name}`);
            if (b === undefined) continue;
            byKey.delete(`${p.index}:${t.name}`);
            this.onResult(b, p.errorCode, Number(p.baseOffset), Number(p.logAppendTimeMs), p.errorMessage);
          }
        }
        for (const b of byKey.values()) this.retryOrFail(b, new KafkaError(ErrorCode.NETWORK_EXCEPTION, `no answer for ${b.topic}-${b.partition} in the Produce response`));
      },
      (e: unknown) => {
        this.inFlightRequests--;
        for (const b of batches) this.retryOrFail(b, e as Error);
        this.hooks.refreshMetadata();
      },
    ).finally(() => this.hooks.wake());
  }

  private onResult(b: ProducerBatch, code: number, baseOffset: number, logAppendTime: number, message: string | null): void {
    if (code === ErrorCode.NONE || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
      this.succeed(b, baseOffset, logAppendTime);
      return;
    }
    const error = new KafkaError(code, `${errorName(code)} (producing to ${b.topic}-${b.partition})${message ? `: ${message}` : ''}`);
    if (IDENTITY_ERRORS.has(code) && this.identity !== null) this.hooks.resetIdentity(errorName(code));
    if (LEADERSHIP_ERRORS.has(code)) this.hooks.refreshMetadata();
    if (isRetriable(code)) this.retryOrFail(b, error);
    else this.fail(b, error);
  }

  private succeed(b: ProducerBatch, baseOffset: number, logAppendTime: number): void {
    for (let i = 0; i < b.deliveries.length; i++) {
      const r = b.records[i];
      b.deliveries[i].resolve({
        partition: b.partition,
        offset: baseOffset < 0 ? -1 : baseOffset + (r.offsetDelta ?? i),
        timestamp: logAppendTime >= 0 ? logAppendTime : (r.timestamp ?? -1),
      });
    }
    this.acc.complete(b);
  }

  private retryOrFail(b: ProducerBatch, error: Error): void {
    const now = this.hooks.now();
    if (!isRetriableError(error) || now - b.createdAt > this.config.deliveryTimeoutMs) {
      this.fail(b, error);
      return;
    }
    this.backOff(b, now);
  }

  private backOff(b: ProducerBatch, now: number): void {
    const q = this.acc.queue(b.topic, b.partition);
    q.inFlight = false;
    q.retryAt = now + backoffFor(Math.max(1, b.attempts), this.client.retryPolicy);
  }

  private fail(b: ProducerBatch, error: Error): void {
    for (const d of b.deliveries) d.reject(error);
    this.acc.complete(b);
  }
}
