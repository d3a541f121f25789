// Turns one partition's Fetch `records` bytes into consumer records. The bytes are whole v2
// batches, possibly ending in a partial one (the broker cuts at max bytes), and a batch may start
// before the offset asked for (a compressed batch is returned whole): those records are skipped.
// Under read_committed (KIP-98) a transactional batch is dropped when its producer is in the
// response's aborted-transactions list from that transaction's first offset on, up to the
// producer's ABORT control marker; control batches themselves are never returned.
import {
  baseOffsetOf, isControlBatch, isTransactionalBatch, lastOffsetOf, magicOf, producerIdOf, splitBatches, validateBatch,
} from '../protocol/record-batch.ts';
import { ControlType, controlTypeOf, type RecordHeader } from '../protocol/records.ts';
import { decodeRecords } from '../protocol/record-batch.ts';
import { ErrorCode, KafkaError } from '../protocol/errors.ts';

// CRC32C and sizes only: the record-level checks are for client appends, not fetched data.
const CRC_ONLY = { internal: true } as const;

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DecodedFetch {
  records: ConsumerRecord[];
  /** The offset to fetch next: past the last whole batch (including skipped ones). */
  nextOffset: number;
}

export interface AbortedTxn {
  producerId: bigint;
  firstOffset: bigint;
}

export function decodeFetchedRecords(
  topic: string,
  partition: number,
  bytes: Buffer | null,
  fetchOffset: number,
  opts: { readCommitted: boolean; aborted: readonly AbortedTxn[] | null; checkCrcs: boolean },
): DecodedFetch {
  const records: ConsumerRecord[] = [];
  let nextOffset = fetchOffset;
  if (bytes === null || bytes.length === 0) return { records, nextOffset };
  const aborted = opts.readCommitted && opts.aborted ? [...opts.aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1)) : [];
  const abortedProducers = new Set<bigint>();
  let nextAborted = 0;
  for (const span of splitBatches(bytes, true)) {
    const batch = bytes.subarray(span.pos, span.pos + span.size);
    if (magicOf(batch) !== 2) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, `${topic}-${partition}: message format v${magicOf(batch)} at offset ${baseOffsetOf(batch)} (only v2 batches are read)`);
    }
    const last = lastOffsetOf(batch);
    if (last < fetchOffset) continue;
    if (opts.checkCrcs) {
      const code = validateBatch(batch, 0, CRC_ONLY);
      if (code !== 0) throw new KafkaError(code, `${topic}-${partition}: corrupt batch at offset ${baseOffsetOf(batch)} (CRC or layout check failed)`);
    }
    while (nextAborted < aborted.length && aborted[nextAborted].firstOffset <= BigInt(last)) {
      abortedProducers.add(aborted[nextAborted].producerId);
      nextAborted++;
    }
    nextOffset = last + 1;
    if (isControlBatch(batch)) {
      if (opts.readCommitted) {
        const marker = decodeRecords(batch)[0];
        if (marker !== undefined && controlTypeOf(marker.key) === ControlType.Abort) abortedProducers.delete(producerIdOf(batch));
      }
      continue;
    }
    if (opts.readCommitted && isTransactionalBatch(batch) && abortedProducers.has(producerIdOf(batch))) continue;
    for (const r of decodeRecords(batch)) {
      if (r.offset < fetchOffset) continue;
      records.push({ topic, partition, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers });
    }
  }
  return { records, nextOffset };
}
