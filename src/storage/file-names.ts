// On-disk names, after Kafka's layout: <logdir>/<topic>-<partition>/ holding segments named by their
// base offset zero-padded to 20 digits (the width of Long.MAX_VALUE) so names sort as offsets do.

import { posix } from 'node:path';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
/** Aborted-transaction index (Kafka's TransactionIndex). */
export const TXN_INDEX_SUFFIX = '.txnindex';
export const SNAPSHOT_SUFFIX = '.snapshot';
/** Segment files waiting for file.delete.delay.ms before removal. */
export const DELETED_SUFFIX = '.deleted';
/** Compaction output not yet complete: discarded on recovery. */
export const CLEANED_SUFFIX = '.cleaned';
/** Compaction output complete, replacing older segments: finished on recovery. */
export const SWAP_SUFFIX = '.swap';
/** Partition directories renamed for asynchronous deletion: <topic>-<partition>.<id>-delete. */
export const DELETE_DIR_SUFFIX = '-delete';

export const PARTITION_METADATA_FILE = 'partition.metadata';
export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
export const CLEANER_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
/** Kafka writes .kafka_cleanshutdown; Brook's marker means the same: no recovery scan needed. */
export const CLEAN_SHUTDOWN_FILE = '.brook_cleanshutdown';

export function offsetName(offset: number): string {
  return String(offset).padStart(20, '0');
}

export const join = posix.join;

export function logFile(dir: string, base: number): string {
  return join(dir, offsetName(base) + LOG_SUFFIX);
}
export function indexFile(dir: string, base: number): string {
  return join(dir, offsetName(base) + INDEX_SUFFIX);
}
export function timeIndexFile(dir: string, base: number): string {
  return join(dir, offsetName(base) + TIME_INDEX_SUFFIX);
}
export function txnIndexFile(dir: string, base: number): string {
  return join(dir, offsetName(base) + TXN_INDEX_SUFFIX);
}
export function snapshotFile(dir: string, offset: number): string {
  return join(dir, offsetName(offset) + SNAPSHOT_SUFFIX);
}

/** Base offset of a file named <20 digits><suffix>, or -1 when the name is not of that form. */
export function parseOffsetName(name: string, suffix: string): number {
  if (!name.endsWith(suffix)) return -1;
  const stem = name.slice(0, name.length - suffix.length);
  if (!/^\d{20}$/.test(stem)) return -1;
  return Number(stem);
}

export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Splits "<topic>-<partition>"; topics may contain '-', so the partition follows the last one. */
export function parsePartitionDir(name: string): { topic: string; partition: number } | null {
  const i = name.lastIndexOf('-');
  if (i <= 0) return null;
  const p = name.slice(i + 1);
  if (!/^\d+$/.test(p)) return null;
  const topic = name.slice(0, i);
  if (!/^[a-zA-Z0-9._-]+$/.test(topic)) return null;
  return { topic, partition: Number(p) };
}
