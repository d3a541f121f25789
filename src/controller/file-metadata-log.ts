// The single-node metadata log: one file, <dir>/__cluster_metadata-0/00000000000000000000.log (the
// directory Kafka's KRaft uses for the metadata topic-partition). It holds one frame per append:
//
//   int32  length       bytes after this field
//   uint32 crc32c       of every byte after this field
//   int64  baseOffset   offset of the first record; frames are contiguous from 0
//   int32  recordCount  >= 1
//   recordCount x (uvarint size, size bytes of a framed metadata record)
//
// A frame is the unit of atomicity: an append is durable (fdatasync) before it resolves, and on
// open every frame is checked (length inside the file, CRC, offsets continuing the previous frame,
// record sizes adding up). The first frame that fails and everything after it — a write torn by a
// crash — is truncated away, as Kafka's log recovery truncates to the last valid batch.
// A failed append truncates back to where it started, so the file never keeps half a frame.
//
// Not done here: segments, snapshots and compaction (the Raft-backed log brings snapshots).

import { crc32c } from '../protocol/crc32c.ts';
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import { storageError, StorageError } from '../storage/errors.ts';
import type { FileHandle, FileSystem } from '../storage/fs.ts';
import { realFs } from '../storage/real-fs.ts';
import { join } from '../storage/file-names.ts';
import type { MetadataLog } from './metadata-log.ts';

export const METADATA_PARTITION_DIR = '__cluster_metadata-0';
export const METADATA_LOG_FILE = '00000000000000000000.log';

const HEADER = 4 + 4 + 8 + 4;
/** Longest frame accepted on open; a bigger length field is corruption. */
const MAX_FRAME = 256 * 1024 * 1024;

export interface OpenFileMetadataLogOptions {
  fs?: FileSystem;
}

export interface RecoveryInfo {
  /** Bytes of valid frames kept. */
  validBytes: number;
  /** Bytes cut off the end because they did not form valid frames. */
  truncatedBytes: number;
  nextOffset: number;
}

function encodeFrame(baseOffset: number, records: readonly Buffer[]): Buffer {
  const body = new Writer(256);
  body.writeInt64(BigInt(baseOffset));
  body.writeInt32(records.length);
  for (const r of records) {
    body.writeUVarint(r.length);
    body.writeRaw(r);
  }
  const bytes = body.toBuffer();
  const frame = Buffer.allocUnsafe(8 + bytes.length);
  frame.writeInt32BE(4 + bytes.length, 0);
  frame.writeUInt32BE(crc32c(bytes), 4);
  bytes.copy(frame, 8);
  return frame;
}

/** Records of the frame at `pos`, or null when it is not a valid frame continuing at `expectedBase`. */
function decodeFrame(file: Buffer, pos: number, expectedBase: number): { records: Buffer[]; end: number } | null {
  if (file.length - pos < HEADER) return null;
  const length = file.readInt32BE(pos);
  if (length < HEADER - 4 || length > MAX_FRAME || pos + 4 + length > file.length) return null;
  const end = pos + 4 + length;
  if (crc32c(file, pos + 8, end) !== file.readUInt32BE(pos + 4)) return null;
  try {
    const r = new Reader(file, pos + 8, end);
    if (r.readInt64() !== BigInt(expectedBase)) return null;
    const count = r.readInt32();
    if (count < 1 || count > r.remaining) return null;
    const records: Buffer[] = [];
    for (let i = 0; i < count; i++) records.push(r.readRaw(r.readUVarint()));
    if (r.remaining !== 0) return null;
    return { records, end };
  } catch {
    return null;
  }
}

/** Walks the valid frames of `file`, calling `cb` per record; returns where the valid prefix ends. */
function scan(file: Buffer, cb?: (record: Buffer, offset: number) => void): { validBytes: number; nextOffset: number } {
  let pos = 0;
  let next = 0;
  for (;;) {
    const frame = decodeFrame(file, pos, next);
    if (frame === null) return { validBytes: pos, nextOffset: next };
    if (cb !== undefined) for (const r of frame.records) cb(r, next++);
    else next += frame.records.length;
    pos = frame.end;
  }
}

export class FileMetadataLog implements MetadataLog {
  readonly path: string;
  readonly recovery: RecoveryInfo;
  readonly #handle: FileHandle;
  #size: number;
  #nextOffset: number;
  #tail: Promise<unknown> = Promise.resolve();
  #broken: StorageError | null = null;
  #closed = false;

  private constructor(path: string, handle: FileHandle, recovery: RecoveryInfo) {
    this.path = path;
    this.#handle = handle;
    this.recovery = recovery;
    this.#size = recovery.validBytes;
    this.#nextOffset = recovery.nextOffset;
  }

  /** Opens (creating when missing) the log under `dir`, truncating an invalid tail. */
  static async open(dir: string, opts: OpenFileMetadataLogOptions = {}): Promise<FileMetadataLog> {
    const fs = opts.fs ?? realFs;
    const partDir = join(dir, METADATA_PARTITION_DIR);
    const path = join(partDir, METADATA_LOG_FILE);
    try {
      await fs.mkdir(partDir);
      let handle: FileHandle;
      if ((await fs.stat(path)) === null) {
        handle = await fs.open(path, 'wx+');
        await handle.datasync();
        await fs.syncDir(partDir);
        await fs.syncDir(dir);
      } else {
        handle = await fs.open(path, 'r+');
      }
      const size = await handle.size();
      const file = Buffer.alloc(size);
      await handle.read(file, 0, size, 0);
      const { validBytes, nextOffset } = scan(file);
      if (validBytes < size) {
        await handle.truncate(validBytes);
        await handle.datasync();
      }
      return new FileMetadataLog(path, handle, { validBytes, truncatedBytes: size - validBytes, nextOffset });
    } catch (err) {
      throw storageError(`opening the metadata log ${path}`, err);
    }
  }

  /** Offset the next record will get. */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  append(records: Buffer[]): Promise<number> {
    const run = this.#tail.then(() => this.#append(records));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #append(records: Buffer[]): Promise<number> {
    if (this.#closed) throw new StorageError('the metadata log is closed', 'OFFLINE');
    if (this.#broken !== null) throw this.#broken;
    if (records.length === 0) return this.#nextOffset - 1;
    const frame = encodeFrame(this.#nextOffset, records);
    const start = this.#size;
    try {
      await this.#handle.writev([frame], start);
      await this.#handle.datasync();
    } catch (err) {
      const failure = storageError(`appending to the metadata log ${this.path}`, err);
      try {
        await this.#handle.truncate(start);
        await this.#handle.datasync();
      } catch {
        // The file may now end in a partial frame: refuse further appends; reopening recovers.
        this.#broken = failure;
      }
      throw failure;
    }
    this.#size = start + frame.length;
    this.#nextOffset += records.length;
    return this.#nextOffset - 1;
  }

  async replay(cb: (record: Buffer, offset: number) => void): Promise<void> {
    await this.#tail;
    const size = this.#size;
    const file = Buffer.alloc(size);
    try {
      await this.#handle.read(file, 0, size, 0);
    } catch (err) {
      throw storageError(`reading the metadata log ${this.path}`, err);
    }
    scan(file, cb);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#tail;
    this.#closed = true;
    await this.#handle.close();
  }
}
