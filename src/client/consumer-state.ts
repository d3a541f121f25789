// The consumer's options and per-partition state (see consumer.ts).
import type { ConsumerRecord } from './fetch-decode.ts';
import type { OffsetSpec } from './offset-resolve.ts';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface ConsumerOptions {
  /** isolation.level=read_committed (KIP-98). Default false. */
  readCommitted?: boolean;
  /** fetch.max.wait.ms, default 500. */
  maxWaitMs?: number;
  /** fetch.min.bytes, default 1. */
  minBytes?: number;
  /** fetch.max.bytes, default 50 MiB. */
  maxBytes?: number;
  /** max.partition.fetch.bytes, default 1 MiB. */
  maxPartitionBytes?: number;
  /** Where to go when a position is out of range: default latest; none surfaces the error. */
  autoOffsetReset?: 'earliest' | 'latest' | 'none';
  /** Prefetch bound across partitions, default 32 MiB. */
  maxBufferedBytes?: number;
  /** Check each fetched batch's CRC32C, default true. */
  checkCrcs?: boolean;
}

/** The consumer's view of one assigned partition. */
export interface PartitionState extends TopicPartition {
  /** The next offset to fetch; null while `pending` is being resolved. */
  fetchPosition: number | null;
  pending: OffsetSpec | null;
  /** Bumped by seek/unassign: answers to requests sent before are dropped. */
  epoch: number;
  buffered: ConsumerRecord[];
  bufferedBytes: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  fetching: boolean;
  resolving: boolean;
  paused: boolean;
  error: Error | null;
  retryAt: number;
  failures: number;
}
