// What a producer is configured with and what it is given: the options (named after Kafka's
// producer configs), the record a caller sends, and its conversion to the bytes a batch holds.
import { Compression, type CompressionType } from '../protocol/record-batch.ts';
import type { RecordHeader } from '../protocol/records.ts';

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
  /**
   * max.in.flight.requests.per.connection: unanswered Produce requests per broker, so several
   * batches of a partition can be on the wire. Default 5, the most idempotence allows (the broker
   * keeps the last 5 batches per producer to answer retries): above 5, idempotence is off unless
   * asked for, and asking for it is an error, as in Kafka's producer.
   */
  maxInFlight?: number;
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

export function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : v;
}

/** Shared by every record without headers (never written to). */
const NO_HEADERS: RecordHeader[] = [];

export function toHeaders(h: HeadersInit | undefined): RecordHeader[] {
  if (h === undefined) return NO_HEADERS;
  if (Array.isArray(h)) return h as RecordHeader[];
  return Object.entries(h as Record<string, string | Buffer>).map(([key, value]) => ({ key, value: toBuffer(value) }));
}
