// Record batch v2 (magic 2) header layout and in-place accessors. A batch is kept as the bytes the
// producer sent: we read header fields at fixed offsets, and patch base offset and partition leader
// epoch in place; records are never decoded on the produce or fetch path.
//
// baseOffset:int64 batchLength:int32 partitionLeaderEpoch:int32 magic:int8 crc:uint32
// attributes:int16 lastOffsetDelta:int32 baseTimestamp:int64 maxTimestamp:int64 producerId:int64
// producerEpoch:int16 baseSequence:int32 recordsCount:int32 records...
// The CRC32C covers attributes..end. batchLength counts the bytes after the batchLength field.

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
