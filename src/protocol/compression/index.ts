// Codecs by the record batch attributes id (bits 0-2): 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
// (zstd only in magic 2). Every decompression takes a cap and fails with CompressionError
// 'too-large' without expanding past it, so a small batch cannot make the broker allocate gigabytes.

import { checkCap, CompressionError } from './compression-error.ts';
import { gzipCompress, gzipDecompress } from './gzip.ts';
import { lz4Compress, lz4Decompress } from './lz4.ts';
import { snappyCompress, snappyDecompress } from './snappy.ts';
import { zstdCompress, zstdDecompress } from './zstd.ts';

export { CompressionError } from './compression-error.ts';
export type { CompressionErrorKind } from './compression-error.ts';

export const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function compress(type: number, data: Uint8Array): Buffer {
  switch (type) {
    case 0:
      return asBuffer(data);
    case 1:
      return gzipCompress(data);
    case 2:
      return snappyCompress(data);
    case 3:
      return lz4Compress(asBuffer(data));
    case 4:
      return zstdCompress(data);
    default:
      throw new CompressionError('unsupported', `unknown compression type ${type}`);
  }
}

/** Decompresses `data`, failing with 'too-large' as soon as the output would exceed maxBytes. */
export function decompress(type: number, data: Uint8Array, maxBytes: number): Buffer {
  let out: Buffer;
  switch (type) {
    case 0:
      out = asBuffer(data);
      break;
    case 1:
      out = gzipDecompress(data, maxBytes);
      break;
    case 2:
      out = snappyDecompress(data, maxBytes);
      break;
    case 3:
      out = lz4Decompress(asBuffer(data), maxBytes);
      break;
    case 4:
      out = zstdDecompress(data, maxBytes);
      break;
    default:
      throw new CompressionError('unsupported', `unknown compression type ${type}`);
  }
  checkCap(out.length, maxBytes, CODEC_NAMES[type]);
  return out;
}
