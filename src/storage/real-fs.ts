// FileSystem on node:fs/promises. Reads and writes are positional (pread/pwritev) on file handles, so
// concurrent reads never disturb a file offset and appends need no O_APPEND.

import { constants, writev as writevCb } from 'node:fs';
import { open, mkdir, readdir, readFile, rename, rm, stat, unlink, type FileHandle as NodeHandle } from 'node:fs/promises';
import type { FileHandle, FileStat, FileSystem, OpenMode } from './fs.ts';

class RealFileHandle implements FileHandle {
  readonly #h: NodeHandle;
  constructor(h: NodeHandle) {
    this.#h = h;
  }

  async read(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    let total = 0;
    while (total < length) {
      const { bytesRead } = await this.#h.read(buf, offset + total, length - total, position + total);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    return total;
  }

  async writev(bufs: readonly Buffer[], position: number): Promise<void> {
    let list = bufs as Buffer[];
    let pos = position;
    const fd = this.#h.fd;
    for (;;) {
      let want = 0;
      for (const b of list) want += b.length;
      if (want === 0) return;
      // The callback API on the descriptor: one promise per write, no FileHandle bookkeeping.
      const bytesWritten = await new Promise<number>((resolve, reject) => {
        writevCb(fd, list, pos, (err, n) => (err === null ? resolve(n) : reject(err)));
      });
      if (bytesWritten === want) return;
      // Short write: continue with the bytes not yet written.
      pos += bytesWritten;
      let skip = bytesWritten;
      const rest: Buffer[] = [];
      for (const b of list) {
        if (skip >= b.length) skip -= b.length;
        else {
          rest.push(skip > 0 ? b.subarray(skip) : b);
          skip = 0;
        }
      }
      list = rest;
    }
  }

  datasync(): Promise<void> {
    return this.#h.datasync();
  }

  truncate(length: number): Promise<void> {
    return this.#h.truncate(length);
  }

  async size(): Promise<number> {
    return (await this.#h.stat()).size;
  }

  close(): Promise<void> {
    return this.#h.close();
  }
}

const FLAGS: Record<OpenMode, number> = {
  r: constants.O_RDONLY,
  'r+': constants.O_RDWR,
  'w+': constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC,
  'wx+': constants.O_RDWR | constants.O_CREAT | constants.O_EXCL,
};

export class RealFileSystem implements FileSystem {
  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    return new RealFileHandle(await open(path, FLAGS[mode], 0o644));
  }

  readFile(path: string): Promise<Buffer> {
    return readFile(path);
  }

  async mkdir(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
  }

  readdir(path: string): Promise<string[]> {
    return readdir(path);
  }

  async stat(path: string): Promise<FileStat | null> {
    try {
      const s = await stat(path);
      return { size: s.size, isDirectory: s.isDirectory(), mtimeMs: s.mtimeMs };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  rename(from: string, to: string): Promise<void> {
    return rename(from, to);
  }

  unlink(path: string): Promise<void> {
    return unlink(path);
  }

  rm(path: string): Promise<void> {
    return rm(path, { recursive: true, force: true });
  }

  async syncDir(path: string): Promise<void> {
    const h = await open(path, constants.O_RDONLY);
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }
}

export const realFs: FileSystem = new RealFileSystem();
