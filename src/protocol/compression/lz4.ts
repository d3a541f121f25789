// lz4 (attributes codec 3) uses the LZ4 frame format (KIP-57): magic 0x184D2204, a descriptor
// (FLG, BD, optional content size and dictionary id, header checksum HC), then blocks of
// [uint32 LE size, high bit = stored uncompressed][data][optional XXH32], an end mark 0, and an
// optional XXH32 of the content.
// - Kafka only accepts independent blocks (Java's KafkaLZ4BlockInputStream rejects linked ones),
//   so we reject them too; lz4-napi writes independent blocks.
// - KAFKA-3160: Kafka < 0.10 computed HC over the magic bytes as well as the descriptor. Kafka
//   tolerates that only for magic 0 messages; we accept either checksum (the batch or message CRC
//   already covers these bytes) and decode such frames in JS, since the native decoder insists on
//   the correct HC. We never write the broken form, so pre-0.10 consumers that verify the broken
//   HC must be served uncompressed (legacy down-conversion does that).
// Bounding the output: each block decodes to at most the block maximum size in BD, so before
// decompressing we walk the block headers and bound the output by (compressed blocks × block max +
// stored block bytes), or by the declared content size. Within the cap the native decoder runs;
// otherwise a JS block decoder writes into a buffer of exactly the cap and stops at its end.

import { createRequire } from 'node:module';
import { checkCap, CompressionError, lazyNative } from './compression-error.ts';
import { xxh32 } from './xxhash32.ts';

interface Lz4Native {
  compressFrameSync(data: Buffer): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
}

const lz4 = lazyNative(() => createRequire(import.meta.url)('lz4-napi') as Lz4Native, 'lz4-napi');

const MAGIC = 0x184d2204;
const BLOCK_MAX_SIZES = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];

interface FrameInfo {
  start: number;
  end: number;
  firstBlock: number;
  blockMax: number;
  blockChecksums: boolean;
  contentChecksum: boolean;
  /** -1 when the frame does not declare it. */
  contentSize: number;
  /** Upper bound of the decoded size from the block headers. */
  bound: number;
  standardChecksum: boolean;
}

function corrupt(msg: string): CompressionError {
  return new CompressionError('corrupt', `lz4: ${msg}`);
}

function scanFrame(data: Buffer, start: number): FrameInfo {
  if (start + 7 > data.length) throw corrupt('truncated frame header');
  if (data.readUInt32LE(start) !== MAGIC) throw corrupt('bad magic');
  const flg = data[start + 4];
  const bd = data[start + 5];
  if (flg >> 6 !== 1) throw corrupt(`unsupported frame version ${flg >> 6}`);
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw corrupt('reserved bits set');
  if ((flg & 0x20) === 0) throw new CompressionError('unsupported', 'lz4: linked blocks are not supported');
  if ((flg & 0x01) !== 0) throw new CompressionError('unsupported', 'lz4: dictionary ids are not supported');
  const blockMax = BLOCK_MAX_SIZES[(bd >> 4) & 0x07];
  if (blockMax === 0) throw corrupt('bad block maximum size');
  let pos = start + 6;
  let contentSize = -1;
  if ((flg & 0x08) !== 0) {
    if (pos + 9 > data.length) throw corrupt('truncated frame header');
    const size = data.readBigUInt64LE(pos);
    contentSize = size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size);
    pos += 8;
  }
  const hc = data[pos];
  const standardChecksum = ((xxh32(data, start + 4, pos) >>> 8) & 0xff) === hc;
  if (!standardChecksum && ((xxh32(data, start, pos) >>> 8) & 0xff) !== hc) throw corrupt('bad header checksum');
  pos++;
  const firstBlock = pos;
  const blockChecksums = (flg & 0x10) !== 0;
  let bound = 0;
  for (;;) {
    if (pos + 4 > data.length) throw corrupt('truncated block header');
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockMax) throw corrupt('block larger than the frame block size');
    pos += size + (blockChecksums ? 4 : 0);
    if (pos > data.length) throw corrupt('truncated block');
    bound += word >>> 31 ? size : blockMax;
  }
  const contentChecksum = (flg & 0x04) !== 0;
  if (contentChecksum) pos += 4;
  if (pos > data.length) throw corrupt('truncated content checksum');
  if (contentSize >= 0) bound = Math.min(bound, contentSize);
  return { start, end: pos, firstBlock, blockMax, blockChecksums, contentChecksum, contentSize, bound, standardChecksum };
}

export function lz4Compress(data: Buffer): Buffer {
  return lz4().compressFrameSync(data);
}

export function lz4Decompress(data: Buffer, maxBytes: number): Buffer {
  const frames: FrameInfo[] = [];
  let bound = 0;
  for (let pos = 0; pos < data.length; ) {
    const frame = scanFrame(data, pos);
    if (frame.contentSize >= 0) checkCap(frame.contentSize, maxBytes, 'lz4');
    frames.push(frame);
    bound += frame.bound;
    pos = frame.end;
  }
  if (frames.length === 0) throw corrupt('empty input');
  if (frames.length === 1 && frames[0].standardChecksum && bound <= maxBytes) {
    let out: Buffer;
    try {
      out = lz4().decompressFrameSync(data);
    } catch (err) {
      if (err instanceof CompressionError) throw err;
      throw new CompressionError('corrupt', `lz4: ${(err as Error).message}`, { cause: err });
    }
    checkCap(out.length, maxBytes, 'lz4');
    return out;
  }
  const size = Math.min(bound, maxBytes);
  const capped = bound > maxBytes;
  const out = Buffer.allocUnsafe(size);
  let op = 0;
  for (const frame of frames) op = decodeFrame(data, frame, out, op, capped, maxBytes);
  // Do not pin a mostly-empty buffer in memory when the bound was loose.
  return op < size >>> 1 ? Buffer.from(out.subarray(0, op)) : out.subarray(0, op);
}

function decodeFrame(data: Buffer, f: FrameInfo, out: Buffer, op: number, capped: boolean, maxBytes: number): number {
  const frameOut = op;
  let pos = f.firstBlock;
  for (;;) {
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const end = pos + size;
    if (f.blockChecksums && xxh32(data, pos, end) !== data.readUInt32LE(end)) throw corrupt('bad block checksum');
    const blockLimit = op + f.blockMax;
    const limit = Math.min(blockLimit, out.length);
    const overflow = () =>
      limit < blockLimit && capped
        ? new CompressionError('too-large', `lz4: decompressed size exceeds the limit of ${maxBytes} bytes`)
        : corrupt('block decodes beyond its bound');
    if (word >>> 31) {
      if (op + size > limit) throw overflow();
      data.copy(out, op, pos, end);
      op += size;
    } else {
      op = decodeBlock(data, pos, end, out, op, limit, overflow);
    }
    pos = end + (f.blockChecksums ? 4 : 0);
  }
  if (f.contentSize >= 0 && op - frameOut !== f.contentSize) throw corrupt('content size mismatch');
  if (f.contentChecksum && xxh32(out, frameOut, op) !== data.readUInt32LE(pos)) throw corrupt('bad content checksum');
  return op;
}

/** Decodes one independent LZ4 block from src[sp, send) into out at op, never writing past limit. */
function decodeBlock(
  src: Buffer,
  sp: number,
  send: number,
  out: Buffer,
  op: number,
  limit: number,
  overflow: () => CompressionError,
): number {
  const blockStart = op;
  while (sp < send) {
    const token = src[sp++];
    let n = token >>> 4;
    if (n === 15) {
      let b: number;
      do {
        if (sp >= send) throw corrupt('truncated literal length');
        b = src[sp++];
        n += b;
      } while (b === 255);
    }
    if (sp + n > send) throw corrupt('literals run past the block');
    if (op + n > limit) throw overflow();
    if (n < 32) {
      for (let i = 0; i < n; i++) out[op + i] = src[sp + i];
    } else {
      src.copy(out, op, sp, sp + n);
    }
    sp += n;
    op += n;
    if (sp === send) break; // the last sequence carries literals only
    if (sp + 2 > send) throw corrupt('truncated match offset');
    const offset = src[sp] | (src[sp + 1] << 8);
    sp += 2;
    if (offset === 0 || offset > op - blockStart) throw corrupt('match offset out of range');
    let m = token & 15;
    if (m === 15) {
      let b: number;
      do {
        if (sp >= send) throw corrupt('truncated match length');
        b = src[sp++];
        m += b;
      } while (b === 255);
    }
    m += 4;
    if (op + m > limit) throw overflow();
    let from = op - offset;
    if (offset >= m && m >= 32) {
      out.copyWithin(op, from, from + m);
      op += m;
    } else {
      const stop = op + m;
      while (op < stop) out[op++] = out[from++];
    }
  }
  return op;
}
