// Magic 0/1 message sets (Kafka < 0.11), still sent by Produce v0–2 clients such as sarama with its
// default Version, and expected back by Fetch v0–3 consumers. We store only v2 batches, so these
// are converted at the edge.
//
// Message: offset:int64 messageSize:int32 crc:uint32 magic:int8 attributes:int8
//          [timestamp:int64, magic 1 only] key:bytes value:bytes   (bytes = int32 length, -1 null)
// The CRC is CRC32 (IEEE), not CRC32C, over magic..end. Attributes bits 0-2 are the codec (gzip 1,
// snappy 2, lz4 3; zstd needs magic 2), bit 3 (magic 1) the timestamp type. A compressed "wrapper"
// message holds a whole inner message set as its value; inner messages may not be compressed
// again. Under LogAppendTime the wrapper's timestamp applies to every inner message. Magic 0 has no
// timestamp: records get NO_TIMESTAMP (-1). The magic byte sits at offset 16 in every format, so a
// reader can tell a message set from a v2 batch before parsing either.

import { crc32 } from 'node:zlib';
import { ErrorCode } from './errors.ts';
import { decompress } from './compression/index.ts';
import {
  buildRecordBatch,
  Compression,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  decodeRecords,
  isControlBatch,
  magicOf,
  splitBatches,
  timestampTypeOf,
} from './record-batch.ts';
import type { CompressionType } from './record-batch.ts';
import { RecordFormatError } from './records.ts';
import type { DecodedRecord, RecordInput } from './records.ts';

const LOG_OVERHEAD = 12;
const CRC_AT = 12;
const MAGIC_AT = 16;
const ATTRIBUTES_AT = 17;
const TIMESTAMP_AT = 18;
/** crc + magic + attributes + key length + value length, plus the timestamp for magic 1. */
const MIN_MESSAGE_SIZE = [14, 22];
const TIMESTAMP_TYPE_FLAG = 0x08;

/** The magic byte of the first entry of a produce `records` field, or -1 if too short to tell. */
export function messageSetMagic(buf: Buffer): number {
  return buf.length > MAGIC_AT ? buf[MAGIC_AT] : -1;
}

function corrupt(msg: string): RecordFormatError {
  return new RecordFormatError(ErrorCode.CORRUPT_MESSAGE, msg);
}

interface ParseState {
  records: RecordInput[];
  codec: number;
  decompressed: number;
  maxBytes: number;
}

function parseMessageSet(buf: Buffer, start: number, end: number, state: ParseState, inner: boolean, wrapperTime?: number): void {
  let pos = start;
  while (pos < end) {
    if (end - pos < LOG_OVERHEAD) throw corrupt('partial message header');
    const size = buf.readInt32BE(pos + 8);
    if (size < MIN_MESSAGE_SIZE[0] || size > end - pos - LOG_OVERHEAD) throw corrupt(`bad message size ${size}`);
    const msgEnd = pos + LOG_OVERHEAD + size;
    const magic = buf[pos + MAGIC_AT];
    if (magic > 1) throw corrupt(`magic ${magic} in a message set`);
    if (size < MIN_MESSAGE_SIZE[magic]) throw corrupt(`bad message size ${size}`);
    if (crc32(buf.subarray(pos + MAGIC_AT, msgEnd)) !== buf.readUInt32BE(pos + CRC_AT)) throw corrupt('message CRC mismatch');
    const attributes = buf[pos + ATTRIBUTES_AT];
    let p = pos + ATTRIBUTES_AT + 1;
    let timestamp = -1;
    if (magic === 1) {
      timestamp = Number(buf.readBigInt64BE(p));
      p += 8;
    }
    const keyLen = buf.readInt32BE(p);
    p += 4;
    if (keyLen < -1 || p + Math.max(keyLen, 0) + 4 > msgEnd) throw corrupt('bad key length');
    const key = keyLen < 0 ? null : buf.subarray(p, p + keyLen);
    p += Math.max(keyLen, 0);
    const valueLen = buf.readInt32BE(p);
    p += 4;
    if (valueLen < -1 || p + Math.max(valueLen, 0) !== msgEnd) throw corrupt('bad value length');
    const value = valueLen < 0 ? null : buf.subarray(p, msgEnd);

    const codec = attributes & 0x07;
    if (codec === Compression.None) {
      state.records.push({ key, value, timestamp: wrapperTime ?? timestamp });
    } else {
      if (inner) throw new RecordFormatError(ErrorCode.INVALID_RECORD, 'compressed message inside a compressed message');
      if (codec === Compression.Zstd) {
        throw new RecordFormatError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 'zstd requires message format v2');
      }
      if (codec > Compression.Zstd) throw corrupt(`unknown codec ${codec}`);
      if (value === null) throw corrupt('compressed message without a value');
      const set = decompress(codec, value, state.maxBytes - state.decompressed);
      state.decompressed += set.length;
      if (state.codec === Compression.None) state.codec = codec;
      const logAppend = magic === 1 && (attributes & TIMESTAMP_TYPE_FLAG) !== 0;
      parseMessageSet(set, 0, set.length, state, true, logAppend ? timestamp : undefined);
    }
    pos = msgEnd;
  }
}

/**
 * Parses a magic 0/1 message set (wrapper messages decompressed, at most maxBytes in total) into
 * one v2 batch with CreateTime timestamps, no producer id, and base offset 0 for the caller to
 * assign. The batch is compressed with `compression`, by default the codec the client used.
 * Throws RecordFormatError / CompressionError (both KafkaErrors) on bad input.
 */
export function convertLegacyToV2(buf: Buffer, maxBytes: number, compression?: CompressionType): Buffer {
  const state: ParseState = { records: [], codec: Compression.None, decompressed: 0, maxBytes };
  parseMessageSet(buf, 0, buf.length, state, false);
  if (state.records.length === 0) throw new RecordFormatError(ErrorCode.INVALID_RECORD, 'empty message set');
  return buildRecordBatch({
    records: state.records,
    compression: compression ?? (state.codec as CompressionType),
    baseTimestamp: state.records[0].timestamp,
  });
}

/**
 * Down-converts stored v2 batches to an uncompressed magic 0 or 1 message set with absolute
 * offsets, for Fetch v0–3. Control batches are dropped and headers are lost (the old formats have
 * neither). A partial batch at the end (a fetch cut at its byte limit) is left out.
 */
export function convertV2ToLegacy(
  batches: Buffer,
  magic: 0 | 1,
  maxUncompressedBytes = DEFAULT_MAX_UNCOMPRESSED_BYTES,
): Buffer {
  const messages: { record: DecodedRecord; logAppendTime: boolean }[] = [];
  let total = 0;
  const headerSize = LOG_OVERHEAD + MIN_MESSAGE_SIZE[magic];
  for (const { pos, size } of splitBatches(batches, true)) {
    if (magicOf(batches, pos) !== 2) throw corrupt(`stored batch has magic ${magicOf(batches, pos)}`);
    if (isControlBatch(batches, pos)) continue;
    const logAppendTime = timestampTypeOf(batches, pos) === 1;
    for (const record of decodeRecords(batches.subarray(pos, pos + size), maxUncompressedBytes)) {
      messages.push({ record, logAppendTime });
      total += headerSize + (record.key?.length ?? 0) + (record.value?.length ?? 0);
    }
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const { record, logAppendTime } of messages) {
    const start = pos;
    out.writeBigInt64BE(BigInt(record.offset), pos);
    pos += CRC_AT + 4; // size and CRC are filled in below
    out[pos++] = magic;
    out[pos++] = magic === 1 && logAppendTime ? TIMESTAMP_TYPE_FLAG : 0;
    if (magic === 1) {
      out.writeBigInt64BE(BigInt(record.timestamp), pos);
      pos += 8;
    }
    pos = writeLegacyBytes(out, pos, record.key);
    pos = writeLegacyBytes(out, pos, record.value);
    out.writeInt32BE(pos - start - LOG_OVERHEAD, start + 8);
    out.writeUInt32BE(crc32(out.subarray(start + MAGIC_AT, pos)), start + CRC_AT);
  }
  return out;
}

function writeLegacyBytes(out: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) {
    out.writeInt32BE(-1, pos);
    return pos + 4;
  }
  out.writeInt32BE(b.length, pos);
  b.copy(out, pos + 4);
  return pos + 4 + b.length;
}
