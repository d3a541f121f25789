// Records inside a v2 batch (KIP-98). Each record is
//   length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint
//   keyLength:varint key valueLength:varint value headerCount:varint
//   [headerKeyLength:varint headerKey(utf8) headerValueLength:varint headerValue]*
// with zig-zag varints; length -1 means null (a header key may not be null). `length` counts the
// bytes after itself and must match what the fields consume exactly, and the records must fill the
// batch exactly (Kafka: "Incorrect declared batch size"). Record attributes are unused (0).

import { ErrorCode, KafkaError } from './errors.ts';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Defaults to the batch base timestamp. */
  timestamp?: number;
  /** Defaults to the record's index in the batch. */
  offsetDelta?: number;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  /** Views into the batch (or its decompressed records), not copies. */
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** A malformed record, batch or message set; `code` is the Kafka error to answer with. */
export class RecordFormatError extends KafkaError {
  override name = 'RecordFormatError';
}

// --- sizes and writers -----------------------------------------------------------------------

export function uvarintSize(u: number): number {
  return u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5;
}

export function varintSize(v: number): number {
  return uvarintSize(((v << 1) ^ (v >> 31)) >>> 0);
}

function zigzag64(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

export function varlongSize(v: number): number {
  let z = zigzag64(v);
  let n = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    n++;
  }
  return n;
}

export function writeUVarint(buf: Buffer, pos: number, u: number): number {
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

export function writeVarint(buf: Buffer, pos: number, v: number): number {
  return writeUVarint(buf, pos, ((v << 1) ^ (v >> 31)) >>> 0);
}

/** Exact for |v| < 2^52, which covers every timestamp delta. */
export function writeVarlong(buf: Buffer, pos: number, v: number): number {
  let z = zigzag64(v);
  while (z >= 128) {
    buf[pos++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[pos++] = z;
  return pos;
}

function bytesFieldSize(b: Buffer | null): number {
  return b === null ? 1 : varintSize(b.length) + b.length;
}

function recordBodySize(r: RecordInput, index: number, baseTimestamp: number): number {
  let size = 1 + varlongSize((r.timestamp ?? baseTimestamp) - baseTimestamp) + varintSize(r.offsetDelta ?? index);
  size += bytesFieldSize(r.key) + bytesFieldSize(r.value);
  const headers = r.headers ?? [];
  size += varintSize(headers.length);
  for (const h of headers) {
    const klen = Buffer.byteLength(h.key);
    size += varintSize(klen) + klen + bytesFieldSize(h.value);
  }
  return size;
}

/** Size of the encoded records section (everything after recordsCount). */
export function recordsSize(records: readonly RecordInput[], baseTimestamp: number): number {
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const body = recordBodySize(records[i], i, baseTimestamp);
    total += varintSize(body) + body;
  }
  return total;
}

function writeBytesField(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  b.copy(buf, pos);
  return pos + b.length;
}

/** Writes the records section at pos; returns the end position. */
export function writeRecords(buf: Buffer, pos: number, records: readonly RecordInput[], baseTimestamp: number): number {
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    pos = writeVarint(buf, pos, recordBodySize(r, i, baseTimestamp));
    buf[pos++] = 0; // attributes
    pos = writeVarlong(buf, pos, (r.timestamp ?? baseTimestamp) - baseTimestamp);
    pos = writeVarint(buf, pos, r.offsetDelta ?? i);
    pos = writeBytesField(buf, pos, r.key);
    pos = writeBytesField(buf, pos, r.value);
    const headers = r.headers ?? [];
    pos = writeVarint(buf, pos, headers.length);
    for (const h of headers) {
      const klen = Buffer.byteLength(h.key);
      pos = writeVarint(buf, pos, klen);
      pos += buf.write(h.key, pos, klen, 'utf8');
      pos = writeBytesField(buf, pos, h.value);
    }
  }
  return pos;
}

export function encodeRecords(records: readonly RecordInput[], baseTimestamp: number): Buffer {
  const buf = Buffer.allocUnsafe(recordsSize(records, baseTimestamp));
  writeRecords(buf, 0, records, baseTimestamp);
  return buf;
}

// --- readers ---------------------------------------------------------------------------------
// A module-level cursor lets the readers return a value and advance without allocating.

let cur = 0;

function bad(msg: string): RecordFormatError {
  return new RecordFormatError(ErrorCode.INVALID_RECORD, msg);
}

function readVarint(buf: Buffer, end: number): number {
  let u = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (cur >= end) throw bad('truncated varint');
    const b = buf[cur++];
    u |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return (u >>> 1) ^ -(u & 1);
  }
  throw bad('varint longer than 5 bytes');
}

function readVarlong(buf: Buffer, end: number): number {
  let z = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (cur >= end) throw bad('truncated varlong');
    const b = buf[cur++];
    z += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    scale *= 128;
  }
  throw bad('varlong longer than 10 bytes');
}

/** Reads a length-prefixed field and returns its length (-1 = null), leaving cur after it. */
function skipBytesField(buf: Buffer, end: number, nullable: boolean): number {
  const len = readVarint(buf, end);
  if (len < -1 || (len === -1 && !nullable)) throw bad(`bad field length ${len}`);
  if (len > 0) {
    if (cur + len > end) throw bad('field runs past its record');
    cur += len;
  }
  return len;
}

function readBytesField(buf: Buffer, end: number): Buffer | null {
  const len = skipBytesField(buf, end, true);
  return len < 0 ? null : buf.subarray(cur - len, cur);
}

/**
 * Checks the records section buf[start, end) holds exactly `count` well-formed records with offset
 * deltas 0..count-1, without allocating. Used on the produce path for uncompressed batches.
 */
export function recordsLayoutValid(buf: Buffer, start: number, end: number, count: number): boolean {
  cur = start;
  try {
    for (let i = 0; i < count; i++) {
      const len = readVarint(buf, end);
      if (len < 0 || cur + len > end) return false;
      const recordEnd = cur + len;
      cur++; // attributes
      readVarlong(buf, recordEnd);
      if (readVarint(buf, recordEnd) !== i) return false;
      skipBytesField(buf, recordEnd, true);
      skipBytesField(buf, recordEnd, true);
      const headers = readVarint(buf, recordEnd);
      if (headers < 0) return false;
      for (let h = 0; h < headers; h++) {
        skipBytesField(buf, recordEnd, false);
        skipBytesField(buf, recordEnd, true);
      }
      if (cur !== recordEnd) return false;
    }
    return cur === end;
  } catch (err) {
    if (err instanceof RecordFormatError) return false;
    throw err;
  }
}

/**
 * Decodes `count` records from buf[start, end). Timestamps are baseTimestamp + delta, or
 * `logAppendTime` for every record when it is given (the batch's maxTimestamp under LogAppendTime).
 */
export function decodeRecordsSection(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  baseOffset: number,
  baseTimestamp: number,
  logAppendTime?: number,
): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  cur = start;
  for (let i = 0; i < count; i++) {
    const len = readVarint(buf, end);
    if (len < 0 || cur + len > end) throw bad('record length runs past the batch');
    const recordEnd = cur + len;
    cur++; // attributes
    const tsDelta = readVarlong(buf, recordEnd);
    const offsetDelta = readVarint(buf, recordEnd);
    const key = readBytesField(buf, recordEnd);
    const value = readBytesField(buf, recordEnd);
    const headerCount = readVarint(buf, recordEnd);
    if (headerCount < 0 || headerCount > recordEnd - cur) throw bad('bad header count');
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const klen = skipBytesField(buf, recordEnd, false);
      const hkey = buf.toString('utf8', cur - klen, cur);
      headers.push({ key: hkey, value: readBytesField(buf, recordEnd) });
    }
    if (cur !== recordEnd) throw bad('record length does not match its fields');
    out.push({
      offset: baseOffset + offsetDelta,
      timestamp: logAppendTime ?? baseTimestamp + tsDelta,
      key,
      value,
      headers,
    });
  }
  if (cur !== end) throw bad('bytes remain after the last record');
  return out;
}

// --- control records (KIP-98 transaction markers; KIP-595 raft control records) ---------------
// Key: version:int16 (0) type:int16. EndTxnMarker value: version:int16 (0) coordinatorEpoch:int32.

export const ControlType = {
  Abort: 0,
  Commit: 1,
  LeaderChange: 2,
  SnapshotHeader: 3,
  SnapshotFooter: 4,
  KRaftVersion: 5,
  KRaftVoters: 6,
} as const;

export function encodeControlKey(type: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return key;
}

/** Control type from a control record key, or -1 when the key is malformed. */
export function controlTypeOf(key: Buffer | null): number {
  if (key === null || key.length < 4) return -1;
  return key.readInt16BE(2);
}

/** The single record of a transaction marker batch (write it with control + transactional set). */
export function endTxnMarkerRecord(commit: boolean, coordinatorEpoch: number, timestamp?: number): RecordInput {
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return { key: encodeControlKey(commit ? ControlType.Commit : ControlType.Abort), value, timestamp };
}

export function coordinatorEpochOf(markerValue: Buffer | null): number {
  if (markerValue === null || markerValue.length < 6) throw bad('bad transaction marker value');
  return markerValue.readInt32BE(2);
}
