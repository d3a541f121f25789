// An in-memory FileSystem that models what a disk promises and what it does not:
// - file bytes become durable only at datasync(); directory entries (creations, renames, deletions)
//   only at syncDir() of their directory, as POSIX requires;
// - crash() throws away what was not durable: everything ('none'), nothing ('all', a kill -9 where the
//   page cache survives), or a random prefix of each file's unsynced writes with the next one torn
//   ('random', power loss);
// - failNext() makes the next matching call fail with an errno (EIO, ENOSPC, ...), optionally after
//   writing part of the data; `capacityBytes` makes writes past it fail with ENOSPC.

import { posix } from 'node:path';
import type { FileHandle, FileStat, FileSystem, OpenMode } from './fs.ts';

type Op = { kind: 'write'; pos: number; data: Buffer } | { kind: 'truncate'; len: number };

class Inode {
  mtimeMs = 0;
  buf = Buffer.alloc(0);
  len = 0;
  durable = Buffer.alloc(0);
  ops: Op[] = [];

  content(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  setLength(len: number): void {
    if (len > this.buf.length) {
      const next = Buffer.alloc(Math.max(len, this.buf.length * 2, 64));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    } else if (len < this.len) {
      this.buf.fill(0, len, this.len);
    }
    this.len = len;
  }

  write(pos: number, data: Buffer, record: boolean): void {
    const end = pos + data.length;
    if (end > this.len) this.setLength(end);
    data.copy(this.buf, pos);
    if (record) this.ops.push({ kind: 'write', pos, data: Buffer.from(data) });
  }

  truncate(len: number, record: boolean): void {
    this.setLength(len);
    if (record) this.ops.push({ kind: 'truncate', len });
  }

  sync(): void {
    this.durable = Buffer.from(this.content());
    this.ops = [];
  }

  /**
   * Reverts to the durable bytes, then replays `keep` unsynced ops and `tear` bytes of the next write;
   * `garble` (optional) picks a byte of a replayed write to flip (unsynced blocks may hold garbage).
   */
  revert(keep: number, tear: number, garble?: (len: number) => number): void {
    const ops = this.ops;
    this.buf = Buffer.from(this.durable);
    this.len = this.buf.length;
    for (let i = 0; i < keep && i < ops.length; i++) {
      const op = ops[i];
      if (op.kind === 'write') {
        const at = garble?.(op.data.length) ?? -1;
        if (at >= 0) {
          const bad = Buffer.from(op.data);
          bad[at] ^= 0xff;
          this.write(op.pos, bad, false);
        } else this.write(op.pos, op.data, false);
      } else this.truncate(op.len, false);
    }
    const next = ops[keep];
    if (next !== undefined && next.kind === 'write' && tear > 0) {
      this.write(next.pos, next.data.subarray(0, Math.min(tear, next.data.length)), false);
    }
    this.ops = [];
    this.durable = Buffer.from(this.content());
  }
}

class Dir {
  entries = new Map<string, Inode | Dir>();
  durable = new Map<string, Inode | Dir>();
}

export type FaultOp = 'open' | 'read' | 'write' | 'datasync' | 'truncate' | 'rename' | 'unlink' | 'syncDir';

interface Fault {
  op: FaultOp;
  code: string;
  pathIncludes?: string;
  /** For writes: bytes written before the failure. */
  partialBytes?: number;
}

export type CrashMode = 'none' | 'all' | 'random';

function errno(code: string, what: string): Error {
  return Object.assign(new Error(`${code}: ${what}`), { code });
}

export class MemoryFileSystem implements FileSystem {
  readonly root = new Dir();
  /** Wall clock used for modification times. */
  now: () => number = Date.now;
  /** Writes that would take the total size of all files past this fail with ENOSPC. */
  capacityBytes = Number.POSITIVE_INFINITY;
  #faults: Fault[] = [];
  #generation = 0;
  openHandles = 0;

  constructor() {
    this.root.durable = this.root.entries;
  }

  /** The next call of `op` (on a path containing `pathIncludes`, when given) fails with `code`. */
  failNext(op: FaultOp, code = 'EIO', opts: { pathIncludes?: string; partialBytes?: number } = {}): void {
    this.#faults.push({ op, code, ...opts });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  takeFault(op: FaultOp, path: string): Fault | undefined {
    const i = this.#faults.findIndex((f) => f.op === op && (f.pathIncludes === undefined || path.includes(f.pathIncludes)));
    if (i < 0) return undefined;
    return this.#faults.splice(i, 1)[0];
  }

  checkFault(op: FaultOp, path: string): void {
    const f = this.takeFault(op, path);
    if (f !== undefined) throw errno(f.code, `${op} ${path}`);
  }

  get generation(): number {
    return this.#generation;
  }

  usedBytes(): number {
    let total = 0;
    const walk = (d: Dir): void => {
      for (const n of d.entries.values()) {
        if (n instanceof Dir) walk(n);
        else total += n.len;
      }
    };
    walk(this.root);
    return total;
  }

  /**
   * Simulates the machine stopping: open handles die, and whatever was not durable is lost as `mode`
   * says. `rng` (default Math.random) picks how much of each file's unsynced writes survive in 'random',
   * and with probability `garbleRate` per surviving unsynced write, flips one of its bytes.
   */
  crash(mode: CrashMode = 'none', rng: () => number = Math.random, garbleRate = 0): void {
    this.#generation++;
    this.openHandles = 0;
    this.#faults = [];
    if (mode === 'all') return;
    const seen = new Set<Inode>();
    const walk = (d: Dir): void => {
      if (d !== this.root) d.entries = new Map(d.durable);
      for (const n of d.entries.values()) {
        if (n instanceof Dir) walk(n);
        else if (!seen.has(n)) {
          seen.add(n);
          if (mode === 'none' || n.ops.length === 0) n.revert(0, 0);
          else {
            const keep = Math.floor(rng() * (n.ops.length + 1));
            const next = n.ops[keep];
            const tear = next !== undefined && next.kind === 'write' ? Math.floor(rng() * next.data.length) : 0;
            n.revert(keep, tear, (len) => (len > 0 && rng() < garbleRate ? Math.floor(rng() * len) : -1));
          }
        }
      }
    };
    walk(this.root);
  }

  // --- path helpers -----------------------------------------------------------------------------

  #split(path: string): string[] {
    return posix.normalize(posix.resolve('/', path)).split('/').filter((s) => s.length > 0);
  }

  #lookup(path: string): Inode | Dir | undefined {
    let node: Inode | Dir = this.root;
    for (const part of this.#split(path)) {
      if (!(node instanceof Dir)) return undefined;
      const next: Inode | Dir | undefined = node.entries.get(part);
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }

  #parent(path: string): { dir: Dir; name: string } {
    const parts = this.#split(path);
    const name = parts.pop();
    if (name === undefined) throw errno('EISDIR', path);
    const dir = this.#lookup('/' + parts.join('/'));
    if (!(dir instanceof Dir)) throw errno('ENOENT', path);
    return { dir, name };
  }

  #file(path: string): Inode {
    const n = this.#lookup(path);
    if (n === undefined) throw errno('ENOENT', path);
    if (n instanceof Dir) throw errno('EISDIR', path);
    return n;
  }

  /** Test helper: the current bytes of a file (not a copy). */
  peek(path: string): Buffer {
    return this.#file(path).content();
  }

  /** Test helper: overwrite bytes in place, durably (as a disk corrupting data behind our back). */
  corrupt(path: string, pos: number, bytes: Buffer): void {
    const f = this.#file(path);
    f.write(pos, bytes, false);
    f.sync();
  }

  // --- FileSystem ------------------------------------------------------------------------------

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    this.checkFault('open', path);
    let node = this.#lookup(path);
    if (node instanceof Dir) throw errno('EISDIR', path);
    if (node !== undefined && mode === 'wx+') throw errno('EEXIST', path);
    if (node === undefined) {
      if (mode === 'r' || mode === 'r+') throw errno('ENOENT', path);
      const { dir, name } = this.#parent(path);
      node = new Inode();
      node.mtimeMs = this.now();
      dir.entries.set(name, node);
    } else if (mode === 'w+') {
      node.truncate(0, true);
    }
    this.openHandles++;
    return new MemoryFileHandle(this, node, path, mode === 'r');
  }

  async readFile(path: string): Promise<Buffer> {
    this.checkFault('read', path);
    return Buffer.from(this.#file(path).content());
  }

  async mkdir(path: string): Promise<void> {
    let dir = this.root;
    for (const part of this.#split(path)) {
      let next = dir.entries.get(part);
      if (next === undefined) {
        next = new Dir();
        dir.entries.set(part, next);
      } else if (!(next instanceof Dir)) throw errno('ENOTDIR', path);
      dir = next;
    }
  }

  async readdir(path: string): Promise<string[]> {
    const d = this.#lookup(path);
    if (d === undefined) throw errno('ENOENT', path);
    if (!(d instanceof Dir)) throw errno('ENOTDIR', path);
    return [...d.entries.keys()];
  }

  async stat(path: string): Promise<FileStat | null> {
    const n = this.#lookup(path);
    if (n === undefined) return null;
    return n instanceof Dir ? { size: 0, isDirectory: true, mtimeMs: 0 } : { size: n.len, isDirectory: false, mtimeMs: n.mtimeMs };
  }

  async rename(from: string, to: string): Promise<void> {
    this.checkFault('rename', from);
    const src = this.#parent(from);
    const node = src.dir.entries.get(src.name);
    if (node === undefined) throw errno('ENOENT', from);
    const dst = this.#parent(to);
    src.dir.entries.delete(src.name);
    dst.dir.entries.set(dst.name, node);
  }

  async unlink(path: string): Promise<void> {
    this.checkFault('unlink', path);
    const { dir, name } = this.#parent(path);
    const n = dir.entries.get(name);
    if (n === undefined) throw errno('ENOENT', path);
    if (n instanceof Dir) throw errno('EISDIR', path);
    dir.entries.delete(name);
  }

  async rm(path: string): Promise<void> {
    const parts = this.#split(path);
    if (parts.length === 0) throw errno('EPERM', path);
    const { dir, name } = this.#parent(path);
    dir.entries.delete(name);
  }

  async syncDir(path: string): Promise<void> {
    this.checkFault('syncDir', path);
    const d = this.#lookup(path);
    if (!(d instanceof Dir)) throw errno(d === undefined ? 'ENOENT' : 'ENOTDIR', path);
    if (d !== this.root) d.durable = new Map(d.entries);
  }
}

class MemoryFileHandle implements FileHandle {
  readonly #fs: MemoryFileSystem;
  readonly #node: Inode;
  readonly #path: string;
  readonly #readOnly: boolean;
  readonly #generation: number;
  #closed = false;

  constructor(fs: MemoryFileSystem, node: Inode, path: string, readOnly: boolean) {
    this.#fs = fs;
    this.#node = node;
    this.#path = path;
    this.#readOnly = readOnly;
    this.#generation = fs.generation;
  }

  #check(): void {
    if (this.#closed) throw errno('EBADF', this.#path);
    if (this.#generation !== this.#fs.generation) throw errno('EIO', `${this.#path} (handle from before a crash)`);
  }

  async read(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    this.#check();
    this.#fs.checkFault('read', this.#path);
    const n = this.#node;
    const avail = Math.max(0, Math.min(length, n.len - position));
    n.buf.copy(buf, offset, position, position + avail);
    return avail;
  }

  async writev(bufs: readonly Buffer[], position: number): Promise<void> {
    this.#check();
    if (this.#readOnly) throw errno('EBADF', this.#path);
    const data = bufs.length === 1 ? bufs[0] : Buffer.concat(bufs);
    const fault = this.#fs.takeFault('write', this.#path);
    const grow = Math.max(0, position + data.length - this.#node.len);
    const room = this.#fs.capacityBytes - this.#fs.usedBytes();
    let allowed = data.length;
    let code: string | undefined;
    if (grow > room) {
      allowed = Math.max(0, data.length - (grow - Math.max(0, room)));
      code = 'ENOSPC';
    }
    if (fault !== undefined) {
      allowed = Math.min(allowed, fault.partialBytes ?? 0);
      code = fault.code;
    }
    if (allowed > 0) {
      this.#node.write(position, data.subarray(0, allowed), true);
      this.#node.mtimeMs = this.#fs.now();
    }
    if (code !== undefined) throw errno(code, `write ${this.#path}`);
  }

  async datasync(): Promise<void> {
    this.#check();
    this.#fs.checkFault('datasync', this.#path);
    this.#node.sync();
  }

  async truncate(length: number): Promise<void> {
    this.#check();
    this.#fs.checkFault('truncate', this.#path);
    this.#node.truncate(length, true);
  }

  async size(): Promise<number> {
    this.#check();
    return this.#node.len;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#generation === this.#fs.generation) this.#fs.openHandles--;
  }
}
