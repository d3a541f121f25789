// Small metadata files (checkpoints, partition.metadata, producer snapshots) are replaced atomically:
// write <name>.tmp, fdatasync it, rename over <name>, fsync the directory. A crash leaves either the
// old or the new file, never a mix. Checkpoints use Kafka's text format:
//   <version>\n<entry count>\n<entry>\n...   (entries are space-separated fields)

import { posix } from 'node:path';
import type { FileSystem } from './fs.ts';

export async function writeFileAtomic(fs: FileSystem, path: string, data: Buffer): Promise<void> {
  const tmp = path + '.tmp';
  const h = await fs.open(tmp, 'w+');
  try {
    await h.writev([data], 0);
    await h.datasync();
  } finally {
    await h.close();
  }
  await fs.rename(tmp, path);
  await fs.syncDir(posix.dirname(path));
}

/** Reads a file, or null when it does not exist. */
export async function readFileIfExists(fs: FileSystem, path: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(path);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw err;
  }
}

export const CHECKPOINT_VERSION = 0;

export function formatCheckpoint(entries: readonly (readonly (string | number)[])[], version = CHECKPOINT_VERSION): Buffer {
  let s = `${version}\n${entries.length}\n`;
  for (const e of entries) s += e.join(' ') + '\n';
  return Buffer.from(s, 'utf8');
}

/**
 * Parses a checkpoint; null when the text is malformed (wrong version, count mismatch, fields per
 * line ≠ `fields`), which callers treat like a missing file — Kafka does the same after an unclean
 * write of a file that was not replaced atomically.
 */
export function parseCheckpoint(data: Buffer, fields: number, version = CHECKPOINT_VERSION): string[][] | null {
  const lines = data.toString('utf8').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2 || Number(lines[0]) !== version) return null;
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count !== lines.length - 2) return null;
  const out: string[][] = [];
  for (let i = 2; i < lines.length; i++) {
    const parts = lines[i].split(' ');
    if (parts.length !== fields) return null;
    out.push(parts);
  }
  return out;
}

/** `topic partition offset` entries, keyed "topic-partition". */
export async function readOffsetCheckpoint(fs: FileSystem, path: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const data = await readFileIfExists(fs, path);
  if (data === null) return out;
  const rows = parseCheckpoint(data, 3);
  if (rows === null) return out;
  for (const [topic, partition, offset] of rows) {
    const p = Number(partition);
    const o = Number(offset);
    if (Number.isInteger(p) && Number.isSafeInteger(o)) out.set(`${topic}-${p}`, o);
  }
  return out;
}

export function formatOffsetCheckpoint(entries: Iterable<{ topic: string; partition: number; offset: number }>): Buffer {
  const rows: (string | number)[][] = [];
  for (const e of entries) rows.push([e.topic, e.partition, e.offset]);
  return formatCheckpoint(rows);
}

/**
 * Serialises replacements of one file: at most one write in flight, and a request made while one is
 * running is coalesced into a single follow-up write of the newest content.
 */
export class SerialFileWriter {
  readonly #fs: FileSystem;
  readonly #path: string;
  #running: Promise<void> | null = null;
  #next: { content: () => Buffer; waiters: PromiseWithResolvers<void>[] } | null = null;

  constructor(fs: FileSystem, path: string) {
    this.#fs = fs;
    this.#path = path;
  }

  /** Writes content() (evaluated when the write starts); resolves once that or a newer version is durable. */
  write(content: () => Buffer): Promise<void> {
    const w = Promise.withResolvers<void>();
    if (this.#next === null) this.#next = { content, waiters: [w] };
    else {
      this.#next.content = content;
      this.#next.waiters.push(w);
    }
    if (this.#running === null) this.#running = this.#drain();
    return w.promise;
  }

  async #drain(): Promise<void> {
    while (this.#next !== null) {
      const job = this.#next;
      this.#next = null;
      try {
        await writeFileAtomic(this.#fs, this.#path, job.content());
        for (const w of job.waiters) w.resolve();
      } catch (err) {
        for (const w of job.waiters) w.reject(err);
      }
    }
    this.#running = null;
  }
}
