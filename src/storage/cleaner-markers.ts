// Transaction markers in log compaction, after Kafka's CleanedTransactionMetadata and KIP-534. The
// cleaner rewrites the log from its start in offset order; a COMMIT or ABORT marker whose
// transaction has no batch left before it (none kept by this cleaning, empty ones included: an
// empty transactional batch would open a transaction again when the log is replayed) first gets a
// delete horizon (DELETE_HORIZON_FLAG, base timestamp = now + delete.retention.ms) and is removed by
// the first cleaning after that time. So a consumer that read the transaction's data still finds its
// marker for delete.retention.ms after the data went. A removed ABORT takes its txn-index entry
// with it: a consumer handed an aborted transaction whose marker is gone would skip that producer's
// later batches for ever. Other control batches are kept.

import { baseTimestampOf, decodeRecords, isTransactionalBatch, lastOffsetDeltaOf, producerIdOf } from '../protocol/record-batch.ts';
import { ControlType, controlTypeOf } from '../protocol/records.ts';
import { hasDeleteHorizon, withDeleteHorizon, type RewriteStats } from './cleaner-rewrite.ts';

/** The marker rules of one cleaning, fed every batch of the cleaned segments in offset order. */
export class CleanedMarkers {
  /** Producers with a batch of their current transaction kept by this cleaning. */
  readonly #live = new Set<bigint>();
  /** Offsets of the ABORT markers removed: their txn-index entries go too. */
  readonly removedAborts = new Set<number>();
  readonly #now: number;
  readonly #deleteRetentionMs: number;

  constructor(now: number, deleteRetentionMs: number) {
    this.#now = now;
    this.#deleteRetentionMs = deleteRetentionMs;
  }

  /** A data batch (possibly empty) goes to the cleaned output. */
  kept(batch: Buffer): void {
    if (isTransactionalBatch(batch)) this.#live.add(producerIdOf(batch));
  }

  /** The marker as it should stay (unchanged, or with a delete horizon), or null once it may go. */
  marker(batch: Buffer, stats: RewriteStats): Buffer | null {
    let type: number;
    try {
      const records = decodeRecords(batch);
      type = records.length === 1 ? controlTypeOf(records[0].key) : -1;
    } catch {
      return batch;
    }
    if (type !== ControlType.Commit && type !== ControlType.Abort) return batch;
    // The marker ends its producer's transaction: batches after it belong to the next one.
    if (this.#live.delete(producerIdOf(batch))) return batch;
    if (!hasDeleteHorizon(batch)) return withDeleteHorizon(batch, this.#now + this.#deleteRetentionMs) ?? batch;
    if (baseTimestampOf(batch) > this.#now) return batch;
    if (type === ControlType.Abort) this.removedAborts.add(Number(batch.readBigInt64BE(0)) + lastOffsetDeltaOf(batch));
    stats.recordsRemoved++;
    stats.batchesRemoved++;
    return null;
  }
}
