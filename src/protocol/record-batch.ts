// Record batch v2 (magic 2) header layout and in-place accessors. A batch is kept as the bytes the
// producer sent: we read header fields at fixed offsets, and patch base offset and partition leader
// epoch in place; records are never decoded on the produce or fetch path (validateBatch only walks
// the record lengths of uncompressed batches, without allocating).
//
// baseOffset:int64 batchLength:int32 partitionLeaderEpoch:int32 magic:int8 crc:uint32
// attributes:int16 lastOffsetDelta:int32 baseTimestamp:int64 maxTimestamp:int64 producerId:int64
// producerEpoch:int16 baseSequence:int32 recordsCount:int32 records...
// The CRC32C covers attributes..end. batchLength counts the bytes after the batchLength field.

import { crc32c } from './crc32c.ts';
import { ErrorCode } from './errors.ts';
import { CompressionError, compress, decompress } from './compression/index.ts';
import {
  decodeRecordsSection,
  recordsLayoutValid,
  recordsSize,
  RecordFormatError,
  writeRecords,
} from './records.ts';
import type { DecodedRecord, RecordInput } from './records.ts';

export type { DecodedRecord, RecordHeader, RecordInput } from './records.ts';
export { RecordFormatError } from './records.ts';

export const BASE_OFFSET = 0;
export const BATCH_LENGTH = 8;
export const PARTITION_LEADER_EPOCH = 12;
export const MAGIC = 16;
export const CRC = 17;
export const ATTRIBUTES = 21;
export const LAST_OFFSET_DELTA = 23;
export const BASE_TIMESTAMP = 27;
export const MAX_TIMESTAMP = 35;
export const PRODUCER_ID = 43;
export const PRODUCER_EPOCH = 51;
export const BASE_SEQUENCE = 53;
export const RECORDS_COUNT = 57;
export const RECORDS = 61;
/** Bytes before batchLength's payload starts: baseOffset + batchLength. */
export const LOG_OVERHEAD = 12;
export const BATCH_HEADER_SIZE = RECORDS;

export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_FLAG = 0x08;
export const TRANSACTIONAL_FLAG = 0x10;
export const CONTROL_FLAG = 0x20;
export const DELETE_HORIZON_FLAG = 0x40;

export const Compression = { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 } as const;
export type CompressionType = (typeof Compression)[keyof typeof Compression];

/** Total size in bytes of the batch starting at `pos` (from its batchLength field). */
export function batchSizeAt(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD;
}

export function baseOffsetOf(buf: Buffer, pos = 0): number {
  return Number(buf.readBigInt64BE(pos + BASE_OFFSET));
}

export function lastOffsetDeltaOf(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + LAST_OFFSET_DELTA);
}

export function lastOffsetOf(buf: Buffer, pos = 0): number {
  return baseOffsetOf(buf, pos) + lastOffsetDeltaOf(buf, pos);
}

export function maxTimestampOf(buf: Buffer, pos = 0): number {
  return Number(buf.readBigInt64BE(pos + MAX_TIMESTAMP));
}

export function baseTimestampOf(buf: Buffer, pos = 0): number {
  return Number(buf.readBigInt64BE(pos + BASE_TIMESTAMP));
}

export function attributesOf(buf: Buffer, pos = 0): number {
  return buf.readInt16BE(pos + ATTRIBUTES);
}

export function magicOf(buf: Buffer, pos = 0): number {
  return buf.readInt8(pos + MAGIC);
}

export function recordsCountOf(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + RECORDS_COUNT);
}

export function producerIdOf(buf: Buffer, pos = 0): bigint {
  return buf.readBigInt64BE(pos + PRODUCER_ID);
}

export function producerEpochOf(buf: Buffer, pos = 0): number {
  return buf.readInt16BE(pos + PRODUCER_EPOCH);
}

export function baseSequenceOf(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + BASE_SEQUENCE);
}

export function partitionLeaderEpochOf(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + PARTITION_LEADER_EPOCH);
}

/** Patch base offset in place (not covered by the CRC). */
export function setBaseOffset(buf: Buffer, pos: number, offset: number): void {
  buf.writeBigInt64BE(BigInt(offset), pos + BASE_OFFSET);
}

/** Patch partition leader epoch in place (not covered by the CRC). */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH);
}

// --- validation, splitting and in-place edits ------------------------------------------------

const { NONE, CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, INVALID_RECORD } = ErrorCode;

/** Smallest legal batchLength: a header with no records. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;

/** Default cap on the decompressed records of one batch when the caller gives none. */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024;

export function compressionOf(buf: Buffer, pos = 0): number {
  return buf[pos + ATTRIBUTES + 1] & COMPRESSION_MASK;
}

export function isControlBatch(buf: Buffer, pos = 0): boolean {
  return (buf[pos + ATTRIBUTES + 1] & CONTROL_FLAG) !== 0;
}

export function isTransactionalBatch(buf: Buffer, pos = 0): boolean {
  return (buf[pos + ATTRIBUTES + 1] & TRANSACTIONAL_FLAG) !== 0;
}

/** 0 = CreateTime, 1 = LogAppendTime. */
export function timestampTypeOf(buf: Buffer, pos = 0): 0 | 1 {
  return (buf[pos + ATTRIBUTES + 1] & TIMESTAMP_TYPE_FLAG) !== 0 ? 1 : 0;
}

export interface ValidateBatchOptions {
  /** Topic max.message.bytes: larger batches get MESSAGE_TOO_LARGE. */
  maxMessageBytes?: number;
  /**
   * Accept control batches (transaction markers written by the coordinator path); they carry no
   * sequence number, so the sequence check is skipped for them.
   */
  allowControl?: boolean;
  /**
   * The batch comes from our own writers (coordinators, replication): skip every check Kafka
   * applies only to client appends (control flag, record count and offset-delta consistency,
   * sequence numbers, record layout). Compacted batches legitimately have offset gaps.
   */
  internal?: boolean;
  /** Kafka's UnifiedLog rejects client batches whose baseOffset is not 0 (INVALID_RECORD). */
  requireZeroBaseOffset?: boolean;
}

const NO_OPTIONS: ValidateBatchOptions = {};

/**
 * Validates the v2 batch at `pos` (one produce-path check per batch: fixed-offset reads, one CRC,
 * and for uncompressed batches an allocation-free walk of the record lengths). Returns a Kafka
 * error code, 0 when valid. Magic 0/1 gives INVALID_RECORD as Kafka does for Produce v3+ (callers
 * handling Produce v0–2 convert legacy message sets first). The third argument is either
 * max.message.bytes or an options object; hoist the object to a constant on hot paths.
 */
export function validateBatch(
  buf: Buffer,
  pos: number,
  limit: number | ValidateBatchOptions = Number.POSITIVE_INFINITY,
  moreOptions: ValidateBatchOptions = NO_OPTIONS,
): number {
  const options = typeof limit === 'number' ? moreOptions : limit;
  const maxMessageBytes = typeof limit === 'number' ? limit : (limit.maxMessageBytes ?? Number.POSITIVE_INFINITY);
  const available = buf.length - pos;
  if (available < MAGIC + 1) return CORRUPT_MESSAGE;
  const magic = buf[pos + MAGIC];
  if (magic !== 2) return magic === 0 || magic === 1 ? INVALID_RECORD : CORRUPT_MESSAGE;
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH);
  if (batchLength < MIN_BATCH_LENGTH || batchLength > available - LOG_OVERHEAD) return CORRUPT_MESSAGE;
  const size = batchLength + LOG_OVERHEAD;
  const end = pos + size;
  if (options.requireZeroBaseOffset && (buf.readInt32BE(pos) !== 0 || buf.readInt32BE(pos + 4) !== 0)) {
    return INVALID_RECORD;
  }
  if (size > maxMessageBytes) return MESSAGE_TOO_LARGE;
  if (crc32c(buf, pos + ATTRIBUTES, end) !== buf.readUInt32BE(pos + CRC)) return CORRUPT_MESSAGE;
  const attributes = buf[pos + ATTRIBUTES + 1];
  const compression = attributes & COMPRESSION_MASK;
  if (compression > Compression.Zstd) return CORRUPT_MESSAGE;
  const count = buf.readInt32BE(pos + RECORDS_COUNT);
  if (count < 0) return INVALID_RECORD;
  if (options.internal) return NONE;

  const control = (attributes & CONTROL_FLAG) !== 0;
  if (control && !options.allowControl) return INVALID_RECORD;
  // Kafka: the offset range must be positive and equal to the record count.
  if (count === 0 || buf.readInt32BE(pos + LAST_OFFSET_DELTA) !== count - 1) return INVALID_RECORD;
  // A producer id (high word ≥ 0 means ≥ 0) requires a sequence number (KIP-98).
  if (!control && buf.readInt32BE(pos + PRODUCER_ID) >= 0 && buf.readInt32BE(pos + BASE_SEQUENCE) < 0) {
    return INVALID_RECORD;
  }
  if (compression === Compression.None && !recordsLayoutValid(buf, pos + RECORDS, end, count)) {
    return INVALID_RECORD;
  }
  return NONE;
}

/**
 * Deep check of a batch's records, decompressing if needed (Kafka's LogValidator does this for
 * compressed batches; validateBatch only walks uncompressed ones). Returns a Kafka error code.
 */
export function validateBatchRecords(buf: Buffer, pos: number, maxUncompressedBytes = DEFAULT_MAX_UNCOMPRESSED_BYTES): number {
  const end = pos + batchSizeAt(buf, pos);
  const compression = compressionOf(buf, pos);
  if (compression === Compression.None) {
    return recordsLayoutValid(buf, pos + RECORDS, end, recordsCountOf(buf, pos)) ? NONE : INVALID_RECORD;
  }
  let records: Buffer;
  try {
    records = decompress(compression, buf.subarray(pos + RECORDS, end), maxUncompressedBytes);
  } catch (err) {
    if (err instanceof CompressionError) return err.code;
    throw err;
  }
  return recordsLayoutValid(records, 0, records.length, recordsCountOf(buf, pos)) ? NONE : INVALID_RECORD;
}

export interface BatchSpan {
  pos: number;
  size: number;
}

/**
 * Splits concatenated v2 batches (a Produce `records` field may hold several). A trailing partial
 * batch throws CORRUPT_MESSAGE unless `allowPartialTail` (fetched log data may end mid-batch), in
 * which case it is left out. Batch contents are not checked here; see validateBatch.
 */
export function splitBatches(buf: Buffer, allowPartialTail = false): BatchSpan[] {
  const spans: BatchSpan[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const remaining = buf.length - pos;
    if (remaining < LOG_OVERHEAD) {
      if (allowPartialTail) break;
      throw new RecordFormatError(CORRUPT_MESSAGE, `partial batch header: ${remaining} trailing bytes`);
    }
    const batchLength = buf.readInt32BE(pos + BATCH_LENGTH);
    if (batchLength < MIN_BATCH_LENGTH) {
      throw new RecordFormatError(CORRUPT_MESSAGE, `batch length ${batchLength} is below the minimum`);
    }
    const size = batchLength + LOG_OVERHEAD;
    if (size > remaining) {
      if (allowPartialTail) break;
      throw new RecordFormatError(CORRUPT_MESSAGE, `partial batch: ${size} bytes declared, ${remaining} present`);
    }
    spans.push({ pos, size });
    pos += size;
  }
  return spans;
}

/** Rewrites the CRC after an edit to a covered field (attributes..end). */
export function recomputeCrc(buf: Buffer, pos: number): void {
  buf.writeUInt32BE(crc32c(buf, pos + ATTRIBUTES, pos + batchSizeAt(buf, pos)), pos + CRC);
}

/**
 * Stamps LogAppendTime (topic message.timestamp.type=LogAppendTime): as Kafka does, set the
 * timestamp-type flag and maxTimestamp, leave baseTimestamp and the record deltas alone (readers
 * then use maxTimestamp for every record), and recompute the CRC.
 */
export function setLogAppendTime(buf: Buffer, pos: number, timestamp: number): void {
  buf[pos + ATTRIBUTES + 1] |= TIMESTAMP_TYPE_FLAG;
  buf.writeBigInt64BE(BigInt(timestamp), pos + MAX_TIMESTAMP);
  recomputeCrc(buf, pos);
}

// --- building and decoding (our own writers, tests, compaction; not the produce path) -------

export interface BuildBatchOptions {
  records: readonly RecordInput[];
  baseOffset?: number;
  compression?: CompressionType;
  producerId?: bigint | number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  partitionLeaderEpoch?: number;
  /** 0 = CreateTime (default), 1 = LogAppendTime. */
  timestampType?: 0 | 1;
  /** Defaults to the first record's timestamp, else the current time (-1 for no records). */
  baseTimestamp?: number;
  /** Defaults to the largest record timestamp (-1 for no records). */
  maxTimestamp?: number;
  /** Defaults to the largest record offset delta (-1 for no records); set it to keep a range. */
  lastOffsetDelta?: number;
}

export function buildRecordBatch(opts: BuildBatchOptions): Buffer {
  const records = opts.records;
  const baseTimestamp =
    opts.baseTimestamp ?? (records.length === 0 ? -1 : (records[0].timestamp ?? Date.now()));
  let maxTimestamp = -1;
  let lastOffsetDelta = -1;
  for (let i = 0; i < records.length; i++) {
    maxTimestamp = Math.max(maxTimestamp, records[i].timestamp ?? baseTimestamp);
    lastOffsetDelta = Math.max(lastOffsetDelta, records[i].offsetDelta ?? i);
  }
  const compression = opts.compression ?? Compression.None;
  let buf: Buffer;
  if (compression === Compression.None) {
    buf = Buffer.allocUnsafe(RECORDS + recordsSize(records, baseTimestamp));
    writeRecords(buf, RECORDS, records, baseTimestamp);
  } else {
    const raw = Buffer.allocUnsafe(recordsSize(records, baseTimestamp));
    writeRecords(raw, 0, records, baseTimestamp);
    const packed = compress(compression, raw);
    buf = Buffer.allocUnsafe(RECORDS + packed.length);
    packed.copy(buf, RECORDS);
  }
  let attributes = compression;
  if (opts.timestampType === 1) attributes |= TIMESTAMP_TYPE_FLAG;
  if (opts.transactional) attributes |= TRANSACTIONAL_FLAG;
  if (opts.control) attributes |= CONTROL_FLAG;
  buf.writeBigInt64BE(BigInt(opts.baseOffset ?? 0), BASE_OFFSET);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, BATCH_LENGTH);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH);
  buf.writeInt8(2, MAGIC);
  buf.writeInt16BE(attributes, ATTRIBUTES);
  buf.writeInt32BE(opts.lastOffsetDelta ?? lastOffsetDelta, LAST_OFFSET_DELTA);
  buf.writeBigInt64BE(BigInt(baseTimestamp), BASE_TIMESTAMP);
  buf.writeBigInt64BE(BigInt(opts.maxTimestamp ?? maxTimestamp), MAX_TIMESTAMP);
  buf.writeBigInt64BE(BigInt(opts.producerId ?? -1), PRODUCER_ID);
  buf.writeInt16BE(opts.producerEpoch ?? -1, PRODUCER_EPOCH);
  buf.writeInt32BE(opts.baseSequence ?? -1, BASE_SEQUENCE);
  buf.writeInt32BE(records.length, RECORDS_COUNT);
  recomputeCrc(buf, 0);
  return buf;
}

/**
 * Decodes the records of the v2 batch that starts at batch[0] (pass a subarray for a batch inside a
 * larger buffer), decompressing with a cap. Offsets are absolute (baseOffset + offsetDelta); under
 * LogAppendTime every record carries the batch maxTimestamp. Keys and values are views into the
 * batch or its decompressed records. Throws RecordFormatError or CompressionError (KafkaErrors) on
 * malformed input; the CRC is not checked (validateBatch does that).
 */
export function decodeRecords(batch: Buffer, maxUncompressedBytes = DEFAULT_MAX_UNCOMPRESSED_BYTES): DecodedRecord[] {
  if (batch.length < RECORDS) throw new RecordFormatError(CORRUPT_MESSAGE, 'truncated batch header');
  if (magicOf(batch) !== 2) throw new RecordFormatError(CORRUPT_MESSAGE, `not a v2 batch (magic ${magicOf(batch)})`);
  const size = batchSizeAt(batch, 0);
  if (size < RECORDS || size > batch.length) throw new RecordFormatError(CORRUPT_MESSAGE, 'bad batch length');
  const count = recordsCountOf(batch);
  if (count < 0) throw new RecordFormatError(CORRUPT_MESSAGE, 'negative record count');
  const compression = compressionOf(batch);
  let records = batch;
  let start = RECORDS;
  let end = size;
  if (compression !== Compression.None) {
    records = decompress(compression, batch.subarray(start, end), maxUncompressedBytes);
    start = 0;
    end = records.length;
  }
  const logAppendTime = timestampTypeOf(batch) === 1 ? maxTimestampOf(batch) : undefined;
  return decodeRecordsSection(records, start, end, count, baseOffsetOf(batch), baseTimestampOf(batch), logAppendTime);
}
