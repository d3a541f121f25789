// Transactions seen by log compaction (KIP-98), after Kafka's LogCleaner/CleanedTransactionMetadata.
// A transaction of producer P runs from P's first transactional data batch after its previous marker
// to the next COMMIT or ABORT marker (a control batch of P). Records of an aborted transaction are
// never the latest value of their key and never survive a cleaning; committed ones are ordinary
// records. Nothing of a transaction still open (no marker yet) may be cleaned: its fate is unknown.
// The cleaner scans the markers itself (Kafka reads its transaction index): from the log start
// through the cleaning range and on, past it, only until every transaction open at its end has its
// marker (markers of transactions below the last stable offset are always below it). The same scan
// can record each producer's last data batch, when the transaction layer cannot say.
// Markers themselves are judged by cleaner-markers.ts.

import { decodeRecords, isControlBatch, isTransactionalBatch, lastOffsetDeltaOf, producerIdOf } from '../protocol/record-batch.ts';
import { ControlType, controlTypeOf } from '../protocol/records.ts';
import { lastOffsetAt } from './batch-header.ts';
import { scanBatches } from './batch-scan.ts';
import type { PartitionLog } from './partition-log.ts';

const CHUNK = 64 * 1024;

/** Offset ranges [first, marker] of aborted transactions, per producer id, ascending. */
export class AbortedTxns {
  readonly #byProducer = new Map<bigint, [number, number][]>();

  add(producerId: bigint, firstOffset: number, markerOffset: number): void {
    const list = this.#byProducer.get(producerId);
    if (list === undefined) this.#byProducer.set(producerId, [[firstOffset, markerOffset]]);
    else list.push([firstOffset, markerOffset]);
  }

  get size(): number {
    let n = 0;
    for (const l of this.#byProducer.values()) n += l.length;
    return n;
  }

  /** Whether a transactional data batch of `producerId` at `offset` belongs to an aborted transaction. */
  covers(producerId: bigint, offset: number): boolean {
    const list = this.#byProducer.get(producerId);
    if (list === undefined) return false;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [first, marker] = list[mid];
      if (offset < first) hi = mid - 1;
      else if (offset > marker) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

/** Whether the records of `batch` belong to an aborted transaction (control batches never do). */
export function isAbortedBatch(batch: Buffer, aborted: AbortedTxns): boolean {
  return isTransactionalBatch(batch) && !isControlBatch(batch) && aborted.covers(producerIdOf(batch), Number(batch.readBigInt64BE(0)));
}

export interface TxnScan {
  aborted: AbortedTxns;
  /** First offset of the earliest transaction below `endOffset` with no marker before `limit`, or null. */
  firstOpen: number | null;
  /** With `producers`: producer id → last offset of its last data batch below the high watermark. */
  producerLast: Map<bigint, number> | null;
}

/**
 * Finds the aborted transactions with data below `endOffset`, reading markers up to `limit` (at most
 * the high watermark); with `producers`, reads on to the high watermark for each producer's last
 * data batch. Runs under the log's maintenance lock; `between` gives the event loop its turns
 * between chunks.
 */
export async function scanTransactions(log: PartitionLog, endOffset: number, limit: number, between: () => Promise<void>, opts: { producers?: boolean } = {}): Promise<TxnScan> {
  const aborted = new AbortedTxns();
  const open = new Map<bigint, number>();
  const producerLast = opts.producers === true ? new Map<bigint, number>() : null;
  const hw = log.highWatermark;
  const bound = Math.min(limit, hw);
  const visit = (batch: Buffer): boolean => {
    const base = Number(batch.readBigInt64BE(0));
    if (producerLast !== null) {
      if (base >= hw) return false;
      const pid = producerIdOf(batch);
      if (pid >= 0n && !isControlBatch(batch)) producerLast.set(pid, base + lastOffsetDeltaOf(batch));
      if (base >= bound || (base >= endOffset && open.size === 0)) return true;
    }
    // Transactions are judged below `bound` (<= the high watermark): nothing above it is decided.
    if (base >= bound || (base >= endOffset && open.size === 0)) return false;
    if (!isTransactionalBatch(batch)) return true;
    const pid = producerIdOf(batch);
    if (!isControlBatch(batch)) {
      // Transactions starting at or past the end are not ours to judge.
      if (base < endOffset && !open.has(pid)) open.set(pid, base);
      return true;
    }
    let records;
    try {
      records = decodeRecords(batch);
    } catch {
      return true; // an unreadable marker ends nothing: its transaction stays open, so uncleaned
    }
    for (const r of records) {
      const type = controlTypeOf(r.key);
      if (type !== ControlType.Commit && type !== ControlType.Abort) continue;
      const first = open.get(pid);
      if (first === undefined) continue;
      open.delete(pid);
      if (type === ControlType.Abort) aborted.add(pid, first, base + lastOffsetDeltaOf(batch));
    }
    return true;
  };
  const stopAt = producerLast !== null ? hw : bound;
  for (const seg of log.segments.slice()) {
    if (seg.baseOffset >= stopAt || (producerLast === null && seg.baseOffset >= endOffset && open.size === 0)) break;
    if (seg.nextOffset <= log.logStartOffset || seg.writtenSize === 0) continue;
    await between();
    const h = seg.handle;
    if (h === null) break; // not open (not yet written): transactions still open stay uncleaned
    const res = await scanBatches(h, 0, seg.writtenSize, (buf, pos, size) => {
      if (lastOffsetAt(buf, pos) < log.logStartOffset) return true;
      return visit(buf.subarray(pos, pos + size));
    }, { validate: false, chunkBytes: CHUNK, between });
    if (res.stop === 'visitor') break;
  }
  let firstOpen: number | null = null;
  for (const first of open.values()) firstOpen = firstOpen === null ? first : Math.min(firstOpen, first);
  return { aborted, firstOpen, producerLast };
}
