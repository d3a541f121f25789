// gzip (attributes codec 1): zlib's own format. Several concatenated gzip members are one stream
// (zlib follows on to the next member), which is why the cap must be on the output, not per member.

import { constants } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CompressionError } from './compression-error.ts';

export function gzipCompress(data: Uint8Array): Buffer {
  return gzipSync(data);
}

export function gzipDecompress(data: Uint8Array, maxBytes: number): Buffer {
  try {
    // maxOutputLength stops inflating as soon as the output would pass the cap.
    return gunzipSync(data, { maxOutputLength: outputLimit(maxBytes) });
  } catch (err) {
    throw zlibError('gzip', err, maxBytes);
  }
}

export function zlibError(codec: string, err: unknown, maxBytes: number): CompressionError {
  const code = (err as { code?: unknown }).code;
  if (code === 'ERR_BUFFER_TOO_LARGE') {
    return new CompressionError('too-large', `${codec}: decompressed size exceeds the limit of ${maxBytes} bytes`, { cause: err });
  }
  return new CompressionError('corrupt', `${codec}: ${(err as Error).message}`, { cause: err });
}

/** zlib's maxOutputLength must be in [1, buffer.constants.MAX_LENGTH]. */
export function outputLimit(maxBytes: number): number {
  return Math.max(1, Math.min(maxBytes, constants.MAX_LENGTH));
}
