// Sequential batch scanning of a segment file: recovery (which must trust nothing after the recovery
// point), index rebuilds, timestamp search, compaction and producer-state replay all walk batches
// this way. Reads are positional into one reused buffer; a batch straddling the buffer's end is
// re-read from its start, into a bigger buffer when it does not fit.

import { crc32c } from '../protocol/crc32c.ts';
import { ATTRIBUTES, BATCH_HEADER_SIZE, BATCH_LENGTH, CRC, LAST_OFFSET_DELTA, LOG_OVERHEAD, MAGIC, RECORDS_COUNT } from '../protocol/record-batch.ts';
import type { FileHandle } from './fs.ts';

/** More bytes are needed to see the whole batch. */
export const INCOMPLETE = -1;
/** The bytes cannot be a valid magic-2 batch. */
export const CORRUPT = -2;

/**
 * Checks the batch at buf[pos, end): length sane, magic 2, CRC32C over attributes..end (KIP-98),
 * counts non-negative. Returns its size, INCOMPLETE or CORRUPT. The base offset and leader epoch are
 * not covered by the CRC; callers check offsets against their neighbours.
 */
export function checkBatch(buf: Buffer, pos: number, end: number, validateCrc = true): number {
  if (end - pos < LOG_OVERHEAD) return INCOMPLETE;
  const length = buf.readInt32BE(pos + BATCH_LENGTH);
  if (length < BATCH_HEADER_SIZE - LOG_OVERHEAD) return CORRUPT;
  const size = length + LOG_OVERHEAD;
  if (end - pos < BATCH_HEADER_SIZE) return INCOMPLETE;
  if (buf.readInt8(pos + MAGIC) !== 2) return CORRUPT;
  if (buf.readInt32BE(pos + LAST_OFFSET_DELTA) < 0 || buf.readInt32BE(pos + RECORDS_COUNT) < 0) return CORRUPT;
  if (end - pos < size) return INCOMPLETE;
  if (validateCrc && crc32c(buf, pos + ATTRIBUTES, pos + size) !== buf.readUInt32BE(pos + CRC)) return CORRUPT;
  return size;
}

export type ScanStop = 'end' | 'torn' | 'corrupt' | 'visitor';

export interface ScanResult {
  /** File position just after the last batch visited (or accepted). */
  position: number;
  stop: ScanStop;
}

/**
 * Receives each batch: buf[pos, pos+size) holds it, `filePos` is where it starts in the file. The
 * buffer is reused after the call returns; copy what must be kept. Return false to stop before it.
 */
export type BatchVisitor = (buf: Buffer, pos: number, size: number, filePos: number) => boolean | void;

export interface ScanOptions {
  /** Validate length/magic/CRC (recovery); otherwise only lengths are trusted. */
  validate: boolean;
  /** Read size; default 1 MiB. */
  chunkBytes?: number;
  /** Called between reads, e.g. to yield the event loop during compaction. */
  between?: () => Promise<void> | void;
}

/**
 * Walks batches from `start` until `end` (file position, exclusive). Stops at the first incomplete
 * batch ('torn': the file ends inside it) or invalid one ('corrupt').
 */
export async function scanBatches(h: FileHandle, start: number, end: number, visit: BatchVisitor, opts: ScanOptions): Promise<ScanResult> {
  const chunk = opts.chunkBytes ?? 1 << 20;
  let buf = Buffer.allocUnsafe(Math.min(chunk, Math.max(end - start, BATCH_HEADER_SIZE)));
  let filePos = start;
  while (filePos < end) {
    const want = Math.min(buf.length, end - filePos);
    const n = await h.read(buf, 0, want, filePos);
    let p = 0;
    for (;;) {
      const size = checkBatch(buf, p, n, opts.validate);
      if (size === CORRUPT) return { position: filePos + p, stop: 'corrupt' };
      if (size === INCOMPLETE) break;
      if (visit(buf, p, size, filePos + p) === false) return { position: filePos + p, stop: 'visitor' };
      p += size;
    }
    const remaining = end - (filePos + p);
    if (remaining === 0) return { position: end, stop: 'end' };
    if (p === 0) {
      // The batch at filePos does not fit in what was read: torn if the file ends first, else grow.
      if (n < want || n === end - filePos) return { position: filePos, stop: 'torn' };
      const need = n >= LOG_OVERHEAD ? buf.readInt32BE(BATCH_LENGTH) + LOG_OVERHEAD : BATCH_HEADER_SIZE;
      if (need > end - filePos) return { position: filePos, stop: 'torn' };
      buf = Buffer.allocUnsafe(Math.max(need, buf.length));
      continue;
    }
    filePos += p;
    if (n < want) return { position: filePos, stop: 'torn' };
    if (opts.between !== undefined) await opts.between();
  }
  return { position: filePos, stop: 'end' };
}
