// zstd (attributes codec 4, KIP-110): only in record batch v2, i.e. Produce v7+ / Fetch v10+.
// Node 24's zlib has zstd built in. Decompression is streaming inside zlib, so a frame that declares
// a huge content size is still bounded by maxOutputLength.

import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { outputLimit, zlibError } from './gzip.ts';

export function zstdCompress(data: Uint8Array): Buffer {
  return zstdCompressSync(data);
}

export function zstdDecompress(data: Uint8Array, maxBytes: number): Buffer {
  try {
    return zstdDecompressSync(data, { maxOutputLength: outputLimit(maxBytes) });
  } catch (err) {
    throw zlibError('zstd', err, maxBytes);
  }
}
