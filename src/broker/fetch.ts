// Fetch: reads whole batches from the partition logs up to the high watermark, within the
// response and per-partition byte limits (the first batch found is returned whole even when it is
// larger, as Kafka does, so a consumer can always make progress), and long-polls: when fewer than
// min.bytes are available it waits for an append on any fetched partition or max.wait.ms.
// read_committed (KIP-98) reads only below the last stable offset — the first offset of the
// earliest open transaction — and lists the aborted transactions overlapping the returned batches
// (producer id, first offset) so the consumer drops their records; control batches go out as they
// are and clients skip them. The aborted list comes from the txn indexes of the segments from the
// one holding the fetch offset on (PartitionLog.abortedTxns, Kafka's collectAbortedTransactions).
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { convertV2ToLegacy } from '../protocol/legacy-message-set.ts';
import { batchSizeAt, lastOffsetOf } from '../protocol/record-batch.ts';
import type { Broker } from './broker.ts';
import type { ResponseBuffers } from './handler.ts';
import type { PartitionLog } from '../storage/partition-log.ts';

export const READ_COMMITTED = 1;

export interface FetchTarget {
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

export interface FetchResult {
  target: FetchTarget;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  records: Buffer;
  /** read_committed only: aborted transactions overlapping `records`. */
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
}

/** Offset just past the last whole batch of `records` (which starts at or after `from`). */
function endOfBatches(records: Buffer, from: number): number {
  let end = from;
  for (let pos = 0; pos + 61 <= records.length; pos += batchSizeAt(records, pos)) end = lastOffsetOf(records, pos) + 1;
  return end;
}

const EMPTY = Buffer.alloc(0);
/** Most bytes one partition's data may expand to when down-converted for Fetch v0–3. */
const LEGACY_CONVERSION_MAX_BYTES = 16 * 1024 * 1024;

/**
 * A log read into pooled buffers (when the request has them). A buffer the result does not use —
 * nothing read, or the data was re-read into a larger one — goes back at once, so a wide fetch
 * whose reads come back empty (e.g. above the last stable offset) holds nothing for them.
 */
export async function readPooled(log: PartitionLog, offset: number, maxBytes: number, opts: { maxOffset: number; minOneBatch: boolean }, buffers: ResponseBuffers | null): Promise<{ records: Buffer; outOfRange: boolean }> {
  if (buffers === null) return log.read(offset, maxBytes, opts);
  const taken: Buffer[] = [];
  const acquire = (n: number): Buffer => {
    const b = buffers.acquire(n);
    taken.push(b);
    return b;
  };
  let read;
  try {
    read = await log.read(offset, maxBytes, { ...opts, buffer: acquire });
  } catch (e) {
    for (const b of taken) buffers.release(b);
    throw e;
  }
  for (const b of taken) if (read.records.length === 0 || read.records.buffer !== b.buffer) buffers.release(b);
  return read;
}

async function readOnce(broker: Broker, targets: FetchTarget[], maxBytes: number, apiVersion: number, isolation: number, buffers: ResponseBuffers | null): Promise<{ results: FetchResult[]; bytes: number; errors: boolean }> {
  let budget = maxBytes;
  let bytes = 0;
  let errors = false;
  const results: FetchResult[] = [];
  for (const target of targets) {
    const { errorCode, log } = broker.leaderLog(target.topic, target.partition);
    if (log === null) {
      errors = true;
      results.push({ target, errorCode, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: EMPTY, abortedTransactions: null });
      continue;
    }
    const hw = log.highWatermark;
    const lso = broker.txn.lastStableOffset(log);
    const committed = isolation === READ_COMMITTED;
    const limit = committed ? lso : hw;
    const base = { target, highWatermark: hw, lastStableOffset: lso, logStartOffset: log.logStartOffset, abortedTransactions: null };
    if (target.fetchOffset < log.logStartOffset || target.fetchOffset > log.logEndOffset) {
      errors = true;
      results.push({ ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: EMPTY });
      continue;
    }
    let records: Buffer = EMPTY;
    if (target.fetchOffset < limit && budget > 0) {
      try {
        const read = await readPooled(log, target.fetchOffset, Math.min(target.partitionMaxBytes, budget), { maxOffset: limit, minOneBatch: bytes === 0 }, buffers);
        if (read.outOfRange) {
          errors = true;
          results.push({ ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: EMPTY });
          continue;
        }
        records = read.records;
      } catch (e) {
        broker.log(`fetch from ${target.topic}-${target.partition} failed: ${(e as Error).message}`);
        errors = true;
        results.push({ ...base, errorCode: ErrorCode.KAFKA_STORAGE_ERROR, records: EMPTY });
        continue;
      }
    }
    const aborted = committed && records.length > 0
      ? log.abortedTxns(target.fetchOffset, endOfBatches(records, target.fetchOffset)).map((a) => ({ producerId: a.producerId, firstOffset: BigInt(a.firstOffset) }))
      : null;
    if (apiVersion < 4 && records.length > 0) {
      // Down-conversion for old consumers decompresses: cap it so a stored "bomb" can't make the
      // broker expand hundreds of MiB per request; a batch over the cap fails this partition only.
      try {
        const stored = records;
        records = convertV2ToLegacy(records, apiVersion < 2 ? 0 : 1, LEGACY_CONVERSION_MAX_BYTES);
        if (buffers !== null && records.buffer !== stored.buffer) buffers.release(stored);
      } catch (e) {
        errors = true;
        results.push({ ...base, errorCode: e instanceof KafkaError ? e.code : ErrorCode.CORRUPT_MESSAGE, records: EMPTY });
        continue;
      }
    }
    budget -= records.length;
    bytes += records.length;
    results.push({ ...base, errorCode: 0, records, abortedTransactions: aborted });
  }
  return { results, bytes, errors };
}

/** Resolves when any of the partitions gets new data (or already has, since `seen`), or after `ms`. */
function waitForData(broker: Broker, targets: FetchTarget[], seen: number[], ms: number): Promise<void> {
  for (let i = 0; i < targets.length; i++) {
    const log = broker.logs.get(targets[i].topic, targets[i].partition);
    if (log !== undefined && log.highWatermark !== seen[i]) return Promise.resolve();
  }
  return new Promise((resolve) => {
    const unsubscribes: (() => void)[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer !== undefined) clearTimeout(timer);
      for (const u of unsubscribes) u();
      unsubscribes.length = 0;
      resolve();
    };
    for (const t of targets) {
      const log = broker.logs.get(t.topic, t.partition);
      if (log !== undefined) unsubscribes.push(log.onAppend(done));
    }
    timer = setTimeout(done, ms);
  });
}

export async function fetchPartitions(
  broker: Broker,
  targets: FetchTarget[],
  opts: {
    maxBytes: number; minBytes: number; maxWaitMs: number; apiVersion: number; isolationLevel?: number;
    /** Pooled memory the response may carry (the request's ctx.buffers): reads go into it. */
    buffers?: ResponseBuffers | null;
  },
): Promise<FetchResult[]> {
  const deadline = Date.now() + Math.max(0, opts.maxWaitMs);
  while (true) {
    const seen = targets.map((t) => broker.logs.get(t.topic, t.partition)?.highWatermark ?? -1);
    const { results, bytes, errors } = await readOnce(broker, targets, opts.maxBytes, opts.apiVersion, opts.isolationLevel ?? 0, opts.buffers ?? null);
    const remaining = deadline - Date.now();
    if (bytes >= opts.minBytes || errors || remaining <= 0 || targets.length === 0) return results;
    // These results are dropped and read again: their pooled buffers go back now, or a long poll
    // woken by many small appends would hold a buffer per wake-up until it answers.
    opts.buffers?.discard();
    await waitForData(broker, targets, seen, remaining);
  }
}
