// Idempotent producing (KIP-98): the producer gets an id and epoch from InitProducerId and numbers
// each partition's batches with a sequence (the first record's, counting records, wrapping from
// Integer.MAX_VALUE to 0). The broker keeps the last batches per producer and partition and answers
// a retried batch with its original offset (DUPLICATE_SEQUENCE_NUMBER from older brokers) instead
// of writing it twice. A producer id is requested only when some broker advertises
// InitProducerId; otherwise the producer runs without idempotence (see Producer).
import { ApiKey } from '../protocol/generated/api-index.ts';
import type { Client } from './client.ts';
import { responseError } from './errors.ts';

const MAX_SEQUENCE = 0x7fffffff;

export class ProducerIdentity {
  producerId = -1n;
  producerEpoch = -1;
  private readonly sequences = new Map<string, number>();

  get initialized(): boolean {
    return this.producerId >= 0n;
  }

  set(producerId: bigint, producerEpoch: number): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.sequences.clear();
  }

  /** The base sequence for a new batch of `count` records; advances the partition's sequence. */
  take(topic: string, partition: number, count: number): number {
    const key = `${partition}:${topic}`;
    const base = this.sequences.get(key) ?? 0;
    const next = base + count;
    this.sequences.set(key, next > MAX_SEQUENCE ? next - MAX_SEQUENCE - 1 : next);
    return base;
  }
}

/** Whether the broker we reach advertises InitProducerId in a version we implement. */
export async function brokerSupportsIdempotence(client: Client): Promise<boolean> {
  const conn = await client.any();
  return conn.supports(ApiKey.InitProducerId);
}

/** Gets a producer id and epoch for a non-transactional idempotent producer. */
export async function initProducerId(client: Client): Promise<{ producerId: bigint; producerEpoch: number }> {
  return client.retry(async () => {
    const conn = await client.any();
    const res = await conn.send(ApiKey.InitProducerId, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (res.errorCode !== 0) throw responseError(res.errorCode, 'InitProducerId');
    return { producerId: res.producerId, producerEpoch: res.producerEpoch };
  });
}
