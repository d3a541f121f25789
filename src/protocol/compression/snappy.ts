// snappy (attributes codec 2). Two encodings reach a broker:
// - a raw snappy block: varint uncompressed length, then the compressed stream (librdkafka, kafkajs
//   plugins, sarama);
// - xerial snappy-java framing, written by the Java producer: magic \x82SNAPPY\x00, int32 version,
//   int32 minimum compatible version, then [int32 length][raw snappy block] chunks. Readers detect it
//   by the magic (as Kafka, librdkafka and sarama do), so we accept both and write xerial like Java.
// Every raw block states its uncompressed size up front: all of them are summed and checked against
// the cap before anything is decompressed.

import { createRequire } from 'node:module';
import { checkCap, CompressionError, lazyNative } from './compression-error.ts';

interface SnappyNative {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array): string | Buffer;
}

const snappy = lazyNative(() => createRequire(import.meta.url)('snappy') as SnappyNative, 'snappy');

export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
/** snappy-java's default block size: the input is cut into chunks of this many bytes. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

export function isXerial(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** Uncompressed length stated by a raw snappy block's preamble (unsigned varint, ≤ 32 bits). */
export function snappyRawLength(data: Uint8Array, start = 0, end = data.length): number {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (start + i >= end) break;
    const b = data[start + i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (value > 0xffffffff) break;
      return value;
    }
  }
  throw new CompressionError('corrupt', 'snappy: bad length preamble');
}

function rawDecompress(block: Uint8Array, expected: number): Buffer {
  let out: Buffer;
  try {
    out = snappy().uncompressSync(block) as Buffer;
  } catch (err) {
    if (err instanceof CompressionError) throw err;
    throw new CompressionError('corrupt', `snappy: ${(err as Error).message}`, { cause: err });
  }
  if (out.length !== expected) throw new CompressionError('corrupt', 'snappy: block length mismatch');
  return out;
}

export function snappyCompressRaw(data: Uint8Array): Buffer {
  return snappy().compressSync(data);
}

/** Xerial-framed snappy, as the Java producer writes it. */
export function snappyCompress(data: Uint8Array): Buffer {
  const native = snappy();
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8); // version
  header.writeInt32BE(1, 12); // minimum compatible version
  parts.push(header);
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_SIZE) {
    const block = native.compressSync(data.subarray(pos, Math.min(data.length, pos + XERIAL_BLOCK_SIZE)));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

export function snappyDecompress(data: Uint8Array, maxBytes: number): Buffer {
  if (!isXerial(data)) {
    const size = snappyRawLength(data);
    checkCap(size, maxBytes, 'snappy');
    return rawDecompress(data, size);
  }
  // First pass: walk the chunk lengths and sum the stated sizes, without decompressing.
  let total = 0;
  let chunks = 0;
  for (let pos = XERIAL_HEADER_SIZE; pos < data.length; ) {
    if (pos + 4 > data.length) throw new CompressionError('corrupt', 'snappy: truncated xerial chunk length');
    const len = (data[pos] << 24) | (data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3];
    if (len <= 0 || pos + 4 + len > data.length) throw new CompressionError('corrupt', 'snappy: bad xerial chunk length');
    total += snappyRawLength(data, pos + 4, pos + 4 + len);
    checkCap(total, maxBytes, 'snappy');
    chunks++;
    pos += 4 + len;
  }
  if (chunks === 1) {
    const block = data.subarray(XERIAL_HEADER_SIZE + 4);
    return rawDecompress(block, total);
  }
  const out = Buffer.allocUnsafe(total);
  let written = 0;
  for (let pos = XERIAL_HEADER_SIZE, i = 0; i < chunks; i++) {
    const len = (data[pos] << 24) | (data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3];
    const block = data.subarray(pos + 4, pos + 4 + len);
    const part = rawDecompress(block, snappyRawLength(block));
    part.copy(out, written);
    written += part.length;
    pos += 4 + len;
  }
  return out;
}
