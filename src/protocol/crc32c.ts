// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of record batch v2 (KIP-98),
// covering attributes through the end of the batch. Magic 0/1 messages use CRC32 (IEEE) instead.
// The native @node-rs/crc32 implementation (SSE4.2 / ARMv8 instructions) is used when it loads; the
// table-driven fallback below gives the same result and is exported so tests can compare them.

import { createRequire } from 'node:module';

type NativeCrc = (input: Uint8Array, initialState?: number | null) => number;

function loadNative(): NativeCrc | null {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc };
    return typeof mod.crc32c === 'function' ? mod.crc32c : null;
  } catch {
    return null;
  }
}

const native = loadNative();

/** True when the native implementation is in use. */
export const crc32cIsNative = native !== null;

// Slicing-by-8 tables: TABLES[k][b] is the CRC of byte b followed by k zero bytes.
const TABLES: Int32Array[] = [];
{
  const t0 = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t0[n] = c;
  }
  TABLES.push(t0);
  for (let k = 1; k < 8; k++) {
    const prev = TABLES[k - 1];
    const t = new Int32Array(256);
    for (let n = 0; n < 256; n++) t[n] = (prev[n] >>> 8) ^ t0[prev[n] & 0xff];
    TABLES.push(t);
  }
}
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES;

/** Pure-JS CRC32C of buf[start, end), unsigned. */
export function crc32cJs(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = -1;
  let i = start;
  const last8 = end - 8;
  while (i <= last8) {
    const a = crc ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
    crc =
      T7[a & 0xff] ^
      T6[(a >>> 8) & 0xff] ^
      T5[(a >>> 16) & 0xff] ^
      T4[a >>> 24] ^
      T3[buf[i + 4]] ^
      T2[buf[i + 5]] ^
      T1[buf[i + 6]] ^
      T0[buf[i + 7]];
    i += 8;
  }
  while (i < end) crc = (crc >>> 8) ^ T0[(crc ^ buf[i++]) & 0xff];
  return ~crc >>> 0;
}

/** CRC32C of buf[start, end), unsigned. */
export const crc32c: (buf: Uint8Array, start?: number, end?: number) => number =
  native === null
    ? crc32cJs
    : (buf, start = 0, end = buf.length) =>
        native(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
