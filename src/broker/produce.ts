// Validation and append of one partition's records for Produce. Runs synchronously up to the
// append (offsets are assigned in arrival order, so pipelined requests keep their order); the
// caller awaits `done` only when acks != 0. Batches with a producer id (idempotent and
// transactional producers, KIP-98) are checked against the partition's producer state first: a
// retry of one of the producer's last 5 batches is answered with its original offsets and not
// appended again; epochs, sequences and transaction membership are enforced (issue 6).
import { ErrorCode } from '../protocol/errors.ts';
import {
  ATTRIBUTES, COMPRESSION_MASK, MAGIC, batchSizeAt, baseTimestampOf, maxTimestampOf,
  validateBatch, validateBatchRecords, setLogAppendTime, decodeRecords,
} from '../protocol/record-batch.ts';
import { KafkaError } from '../protocol/errors.ts';
import { convertLegacyToV2 } from '../protocol/legacy-message-set.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import type { TopicSettings } from './topic-settings.ts';
import { checkProduce, hasProducerBatches, type TxnVerifier } from '../txn/produce-check.ts';
import type { ProducerStates } from '../txn/producer-states.ts';
import type { BatchMeta } from '../txn/producer-state.ts';

export interface AppendOutcome {
  errorCode: number;
  errorMessage: string | null;
  baseOffset: number;
  logAppendTime: number;
  logStartOffset: number;
  done: Promise<void> | null;
}

const fail = (errorCode: number, errorMessage: string | null = null, log?: PartitionLog): AppendOutcome => ({
  errorCode, errorMessage, baseOffset: -1, logAppendTime: -1, logStartOffset: log ? log.logStartOffset : -1, done: null,
});

/**
 * Most bytes a produced batch may decompress to. Compressed batches are decompressed to check their
 * records (as Kafka's LogValidator does), so a "bomb" is refused at this cap instead of expanded.
 */
export function maxDecompressedBytes(settings: TopicSettings): number {
  return Math.max(64 * 1024 * 1024, 16 * settings.maxMessageBytes);
}

/** Checks every batch in `records`; returns an error outcome, or null when all are acceptable. */
function validate(records: Buffer, settings: TopicSettings, now: number): AppendOutcome | null {
  let pos = 0;
  while (pos < records.length) {
    if (records.length - pos < 61) return fail(ErrorCode.CORRUPT_MESSAGE, 'truncated record batch');
    if (records.readInt8(pos + MAGIC) !== 2) return fail(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, 'only record batch magic 2 is accepted at this version');
    const code = validateBatch(records, pos, { maxMessageBytes: settings.maxMessageBytes, allowControl: false });
    if (code !== 0) return fail(code, `record batch rejected (${code})`);
    const size = batchSizeAt(records, pos);
    if (settings.timestampType === 'CreateTime') {
      const base = baseTimestampOf(records, pos);
      const max = maxTimestampOf(records, pos);
      if ((base >= 0 && base < now - settings.timestampBeforeMaxMs) || max > now + settings.timestampAfterMaxMs) {
        return fail(ErrorCode.INVALID_TIMESTAMP, 'timestamp out of the range set by message.timestamp.before/after.max.ms');
      }
    }
    if ((records.readInt16BE(pos + ATTRIBUTES) & COMPRESSION_MASK) !== 0 && !settings.compacted) {
      const deep = validateBatchRecords(records, pos, maxDecompressedBytes(settings));
      if (deep !== 0) return fail(deep, `compressed record batch rejected (${deep})`);
    }
    if (settings.compacted) {
      try {
        for (const r of decodeRecords(records.subarray(pos, pos + size), maxDecompressedBytes(settings))) {
          if (r.key === null) return fail(ErrorCode.INVALID_RECORD, 'compacted topics do not accept records without a key');
        }
      } catch (e) {
        return fail(e instanceof KafkaError ? e.code : ErrorCode.CORRUPT_MESSAGE, (e as Error).message);
      }
    }
    pos += size;
  }
  return null;
}

/**
 * A retry of a batch already in the log: its first offset, once the original is as durable as this
 * request asks (the original may still be in flight through the append pipeline).
 */
function duplicateOutcome(log: PartitionLog, batch: BatchMeta, acks: number, sync: boolean): AppendOutcome {
  const end = batch.lastOffset + 1;
  const settled = end <= log.highWatermark && (!sync || end <= log.recoveryPoint);
  return {
    errorCode: 0, errorMessage: null, baseOffset: batch.firstOffset, logAppendTime: -1, logStartOffset: log.logStartOffset,
    done: settled || acks === 0 ? null : log.flush(),
  };
}

export function appendToPartition(
  log: PartitionLog,
  input: Buffer | null,
  opts: {
    settings: TopicSettings; apiVersion: number; acks: number; leaderEpoch: number; fsyncAcksAll: boolean; now: number;
    producers: ProducerStates;
    /** Set when the request names a transactional id: may this producer write here in its transaction? */
    verify: TxnVerifier | null;
  },
): AppendOutcome {
  if (input === null || input.length === 0) return fail(ErrorCode.INVALID_RECORD, 'no records', log);
  let records = input;
  if (opts.apiVersion < 3 || input.readInt8(Math.min(MAGIC, input.length - 1)) < 2) {
    // Produce v0–2 carry magic 0/1 message sets: converted to one v2 batch (see README).
    try {
      records = convertLegacyToV2(input, opts.settings.maxMessageBytes * 4);
    } catch (e) {
      return fail(e instanceof KafkaError ? e.code : ErrorCode.CORRUPT_MESSAGE, `bad legacy message set: ${(e as Error).message}`, log);
    }
  }
  const invalid = validate(records, opts.settings, opts.now);
  if (invalid !== null) {
    invalid.logStartOffset = log.logStartOffset;
    return invalid;
  }
  const state = opts.producers.stateFor(log);
  if (state === null) return fail(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the partition\'s producer state is loading', log);
  const sync = opts.acks === -1 && opts.fsyncAcksAll;
  const idempotent = hasProducerBatches(records);
  if (idempotent) {
    const c = checkProduce(state, records, log.logEndOffset, opts.verify);
    if (c.kind === 'error') return fail(c.errorCode, c.message, log);
    if (c.kind === 'duplicate') return duplicateOutcome(log, c.batch, opts.acks, sync);
  }
  let logAppendTime = -1;
  if (opts.settings.timestampType === 'LogAppendTime') {
    logAppendTime = opts.now;
    for (let pos = 0; pos < records.length; pos += batchSizeAt(records, pos)) setLogAppendTime(records, pos, opts.now);
  }
  try {
    const { baseOffset, done } = log.append(records, { leaderEpoch: opts.leaderEpoch, sync });
    opts.producers.afterAppend(log, records, idempotent);
    return { errorCode: 0, errorMessage: null, baseOffset, logAppendTime, logStartOffset: log.logStartOffset, done };
  } catch (e) {
    return fail(ErrorCode.KAFKA_STORAGE_ERROR, (e as Error).message, log);
  }
}

