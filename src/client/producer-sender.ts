// Sends the accumulator's ready batches: groups them by partition leader into Produce requests of
// at most max.request.size, at most one batch per partition per request and at most
// max.in.flight.requests.per.connection requests unanswered per broker; encodes each batch once
// (with the idempotent producer's sequence) and keeps the bytes for retries, and settles deliveries
// from the answer. Retriable failures (leadership moved, timeouts, network errors,
// NOT_ENOUGH_REPLICAS...) put the batch back in its place after a backoff, until
// delivery.timeout.ms; anything else fails its records.
//
// Idempotence with several batches in flight (KIP-98): when batch n of a partition fails with a
// retriable error, the broker answers n+1.. with OUT_OF_ORDER_SEQUENCE_NUMBER (it never writes past
// a gap), and those are resent after n with the bytes they had. Batches that may have been written
// are never given another sequence. When a batch fails for good, the batches behind it can never
// follow its sequence: like Kafka's producer bumping its epoch for this (KIP-360), Brook asks for
// a new producer id (the producer's resetIdentity; a new id, not a bumped epoch), and a batch that
// the broker then refuses with OUT_OF_ORDER_SEQUENCE_NUMBER — so certainly not written — is encoded
// again under the new id.
import { ApiKey } from '../protocol/generated/api-index.ts';
import { ErrorCode, errorName, isRetriable } from '../protocol/errors.ts';
import { buildRecordBatch, type CompressionType } from '../protocol/record-batch.ts';
import type { ProduceRequest } from '../protocol/generated/produce-request.ts';
import type { ProduceResponse } from '../protocol/generated/produce-response.ts';
import type { Client } from './client.ts';
import { KafkaError, isRetriableError } from './errors.ts';
import type { ProducerIdentity } from './producer-idempotence.ts';
import { deliverFailure, deliverSuccess } from './producer-delivery.ts';
import type { ProducerBatch, RecordAccumulator } from './record-accumulator.ts';
import { backoffFor } from './retry.ts';

export interface SenderConfig {
  acks: number;
  timeoutMs: number;
  compression: CompressionType;
  maxRequestSize: number;
  deliveryTimeoutMs: number;
  /** max.in.flight.requests.per.connection: unanswered Produce requests per broker. */
  maxInFlight: number;
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
  /** Requests on the wire per leader node. */
  private readonly perNode = new Map<number, number>();

  constructor(client: Client, acc: RecordAccumulator, identity: ProducerIdentity | null, config: SenderConfig, hooks: SenderHooks) {
    this.client = client;
    this.acc = acc;
    this.identity = identity;
    this.config = config;
    this.hooks = hooks;
  }

  /** Whether `node` can take another request now. */
  canSendTo(node: number): boolean {
    return (this.perNode.get(node) ?? 0) < this.config.maxInFlight;
  }

  /**
   * Sends ready batches (per partition in send order, as RecordAccumulator.ready gives them). What
   * does not fit under a broker's in-flight limit stays queued for the next call.
   */
  send(partitions: readonly ProducerBatch[][]): void {
    const now = this.hooks.now();
    const wasIdempotent = this.identity !== null && this.identity.initialized;
    const byLeader = new Map<number, ProducerBatch[][]>();
    for (const list of partitions) {
      const head = list[0];
      const leader = this.leaderOf(head.topic, head.partition);
      if (leader < 0 || !this.client.metadata.brokers.has(leader)) {
        this.acc.returned(head, now + backoffFor(Math.max(1, head.attempts), this.client.retryPolicy));
        this.hooks.refreshMetadata();
        continue;
      }
      const live: ProducerBatch[] = [];
      for (const b of list) {
        if (now - b.createdAt > this.config.deliveryTimeoutMs) {
          this.fail(b, new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `delivery to ${b.topic}-${b.partition} timed out after ${this.config.deliveryTimeoutMs} ms`));
        } else {
          live.push(b);
        }
      }
      if (live.length === 0) continue;
      let lists = byLeader.get(leader);
      if (lists === undefined) byLeader.set(leader, (lists = []));
      lists.push(live);
    }
    for (const [leader, lists] of byLeader) {
      // Each request takes the next batch of each partition: one batch per partition per request.
      const next = new Array<number>(lists.length).fill(0);
      while (this.canSendTo(leader)) {
        const request: ProducerBatch[] = [];
        let size = 0;
        for (let j = 0; j < lists.length; j++) {
          const list = lists[j];
          const k = next[j];
          if (k >= list.length) continue;
          // A batch goes only right behind its predecessor (which may have failed to go out).
          if (k > 0 && !list[k - 1].inFlight) {
            next[j] = list.length;
            continue;
          }
          // The producer id was dropped meanwhile (a batch failed for good): new batches wait for the next one.
          if (list[k].encoded === null && wasIdempotent && !this.identity!.initialized) {
            next[j] = list.length;
            continue;
          }
          const bytes = this.encode(list[k]);
          if (request.length > 0 && size + bytes.length > this.config.maxRequestSize) continue;
          request.push(list[k]);
          size += bytes.length;
          next[j] = k + 1;
        }
        if (request.length === 0) break;
        this.sendRequest(leader, request);
      }
    }
  }

  private leaderOf(topic: string, partition: number): number {
    const parts = this.client.metadata.topics.get(topic)?.partitions;
    if (parts === undefined) return -1;
    const p = parts[partition]?.partition === partition ? parts[partition] : parts.find((x) => x.partition === partition);
    return p?.leader ?? -1;
  }

  /** Encodes a batch on its first send; the same bytes are resent on retries. */
  private encode(batch: ProducerBatch): Buffer {
    batch.closed = true;
    if (batch.encoded === null) {
      const identity = this.identity;
      const idempotent = identity !== null && identity.initialized;
      batch.producerId = idempotent ? identity.producerId : -1n;
      batch.producerEpoch = idempotent ? identity.producerEpoch : -1;
      batch.baseSequence = idempotent ? identity.take(batch.topic, batch.partition, batch.records.length) : -1;
      batch.afterGap = false;
      batch.encoded = buildRecordBatch({
        records: batch.records,
        compression: this.config.compression,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        baseSequence: batch.baseSequence,
      });
    }
    return batch.encoded;
  }

  private sendRequest(leader: number, batches: ProducerBatch[]): void {
    const topicData: ProduceRequest['topicData'] = [];
    for (const b of batches) {
      this.acc.sent(b);
      let t = topicData.find((x) => x.name === b.topic);
      if (t === undefined) topicData.push((t = { name: b.topic, partitionData: [] }));
      t.partitionData.push({ index: b.partition, records: b.encoded! });
    }
    const request = { transactionalId: null, acks: this.config.acks, timeoutMs: this.config.timeoutMs, topicData };
    const noResponse = this.config.acks === 0;
    this.inFlightRequests++;
    this.perNode.set(leader, (this.perNode.get(leader) ?? 0) + 1);
    const done = (): void => {
      this.inFlightRequests--;
      this.perNode.set(leader, this.perNode.get(leader)! - 1);
    };
    let conn;
    try {
      conn = this.client.node(leader);
    } catch (e) {
      done();
      for (const b of batches) this.retryOrFail(b, e as Error);
      this.hooks.refreshMetadata();
      return;
    }
    conn.send(ApiKey.Produce, request, { extraTimeoutMs: this.config.timeoutMs, noResponse }).then(
      (res) => {
        done();
        if (noResponse) {
          for (const b of batches) this.succeed(b, -1, -1);
        } else {
          this.onResponse(batches, res);
        }
      },
      (e: unknown) => {
        done();
        for (const b of batches) this.retryOrFail(b, e as Error);
        this.hooks.refreshMetadata();
      },
    ).finally(() => this.hooks.wake());
  }

  /** Settles the request's batches in the order they were sent. */
  private onResponse(batches: readonly ProducerBatch[], res: ProduceResponse): void {
    for (const b of batches) {
      let answered = false;
      for (const t of res.responses) {
        if (t.name !== b.topic) continue;
        for (const p of t.partitionResponses) {
          if (p.index !== b.partition) continue;
          this.onResult(b, p.errorCode, Number(p.baseOffset), Number(p.logAppendTimeMs), p.errorMessage);
          answered = true;
          break;
        }
        if (answered) break;
      }
      if (!answered) this.retryOrFail(b, new KafkaError(ErrorCode.NETWORK_EXCEPTION, `no answer for ${b.topic}-${b.partition} in the Produce response`));
    }
  }

  private onResult(b: ProducerBatch, code: number, baseOffset: number, logAppendTime: number, message: string | null): void {
    if (code === ErrorCode.NONE || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
      this.succeed(b, baseOffset, logAppendTime);
      return;
    }
    const error = new KafkaError(code, `${errorName(code)} (producing to ${b.topic}-${b.partition})${message ? `: ${message}` : ''}`);
    if (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER && this.identity !== null && b.baseSequence >= 0) {
      if (b.afterGap) {
        // Refused behind a batch that failed for good: not written, so it may take a new sequence
        // under a new producer id (requested when that batch failed).
        if (this.isCurrentIdentity(b)) this.hooks.resetIdentity('a sequence gap after a failed batch');
        b.encoded = null;
        b.baseSequence = -1;
        this.requeue(b, error);
        return;
      }
      if (this.acc.queue(b.topic, b.partition).batches[0] !== b) {
        // An earlier batch of the partition is being retried: this one goes again after it.
        this.requeue(b, error);
        return;
      }
    }
    if (IDENTITY_ERRORS.has(code) && this.identity !== null) this.hooks.resetIdentity(errorName(code));
    if (LEADERSHIP_ERRORS.has(code)) this.hooks.refreshMetadata();
    if (isRetriable(code)) this.retryOrFail(b, error);
    else this.fail(b, error);
  }

  private isCurrentIdentity(b: ProducerBatch): boolean {
    return this.identity !== null && b.producerId === this.identity.producerId && b.producerEpoch === this.identity.producerEpoch;
  }

  private succeed(b: ProducerBatch, baseOffset: number, logAppendTime: number): void {
    const { topic, partition, records, onOk, onError } = b;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      deliverSuccess(onOk[i], onError[i], {
        topic,
        partition,
        offset: baseOffset < 0 ? -1 : baseOffset + (r.offsetDelta ?? i),
        timestamp: logAppendTime >= 0 ? logAppendTime : (r.timestamp ?? -1),
      });
    }
    this.acc.complete(b);
  }

  /** Puts a batch the broker refused for ordering reasons back, without counting it as a failure. */
  private requeue(b: ProducerBatch, error: Error): void {
    const now = this.hooks.now();
    if (now - b.createdAt > this.config.deliveryTimeoutMs) this.fail(b, error);
    else this.acc.returned(b, now);
  }

  private retryOrFail(b: ProducerBatch, error: Error): void {
    const now = this.hooks.now();
    if (!isRetriableError(error) || now - b.createdAt > this.config.deliveryTimeoutMs) {
      this.fail(b, error);
      return;
    }
    this.acc.returned(b, now + backoffFor(Math.max(1, b.attempts), this.client.retryPolicy));
  }

  private fail(b: ProducerBatch, error: Error): void {
    if (b.baseSequence >= 0 && this.identity !== null) this.markGap(b);
    const { onOk, onError } = b;
    for (let i = 0; i < onOk.length; i++) deliverFailure(onOk[i], onError[i], error);
    this.acc.complete(b);
  }

  /**
   * A batch with a sequence failed for good: the batches of its partition sent after it with the
   * same identity will be refused, and new ones must not continue its sequence.
   */
  private markGap(failed: ProducerBatch): void {
    for (const b of this.acc.queue(failed.topic, failed.partition).batches) {
      if (b !== failed && b.encoded !== null && b.producerId === failed.producerId && b.producerEpoch === failed.producerEpoch) b.afterGap = true;
    }
    if (this.isCurrentIdentity(failed)) this.hooks.resetIdentity(`a batch to ${failed.topic}-${failed.partition} failed for good`);
  }
}
