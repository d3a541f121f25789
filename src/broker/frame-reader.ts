// Cuts a connection's byte stream into size-prefixed request frames, each in a buffer of its own.
//
// Two ways in: `feed(chunk)` copies from chunks the socket produced (the portable path), and
// `readBuffer()` / `onRead()` serve a socket created with `onread`, where the kernel writes into
// memory we choose. There, once a large frame has started, the rest of it is read straight into
// the frame's own buffer (no copy in user space, no 64 KiB buffer per read); everything else lands
// in one small scratch buffer shared by all connections — safe because every read is handed to
// onRead synchronously and its bytes are copied out before the next read can happen.
//
// The size prefix is checked before anything is allocated for the frame (`checkSize` may refuse
// it: the connection then closes). A frame whose first bytes show it is a Produce request (API key
// 0) and whose size is in the pool's range gets pooled memory; the owner of a taken frame must
// release it (FrameReader.release) once nothing refers to it.
import type { FramePool, PooledBuffer } from './frame-pool.ts';

/** Reads smaller than this into a frame's remainder go through the scratch buffer instead. */
const DIRECT_MIN = 16 * 1024;
const SCRATCH = Buffer.allocUnsafeSlow(64 * 1024);
const PRODUCE_KEY = 0;

/** A request frame: its bytes, and the pooled memory behind them (to be released by the taker) or null. */
export type Frame = PooledBuffer;

export class FrameReader {
  readonly #pool: FramePool | null;
  readonly #checkSize: (size: number) => boolean;
  readonly #ready: Frame[] = [];
  #readyBytes = 0;
  readonly #header = Buffer.alloc(4);
  #headerFilled = 0;
  #current: Frame | null = null;
  #filled = 0;
  #given: Buffer = SCRATCH;
  /** A size was refused: nothing more is read. */
  failed = false;

  constructor(pool: FramePool | null, checkSize: (size: number) => boolean) {
    this.#pool = pool;
    this.#checkSize = checkSize;
  }

  /** Bytes received and not yet taken as a frame (complete frames waiting, and a partial one). */
  get unreadBytes(): number {
    return this.#readyBytes + this.#headerFilled + this.#filled;
  }

  /** A frame has started arriving but is not complete. */
  get partial(): boolean {
    return this.#headerFilled > 0 || this.#current !== null;
  }

  get readyCount(): number {
    return this.#ready.length;
  }

  /** The next complete frame, or undefined. */
  take(): Frame | undefined {
    const f = this.#ready.shift();
    if (f !== undefined) this.#readyBytes -= f.bytes.length;
    return f;
  }

  /** Drops everything held (the connection closed); frames never taken go back to the pool. */
  discard(): void {
    for (const f of this.#ready) this.#pool?.release(f.base);
    this.#ready.length = 0;
    this.#readyBytes = 0;
    if (this.#current !== null) this.#pool?.release(this.#current.base);
    this.#current = null;
    this.#filled = 0;
    this.#headerFilled = 0;
  }

  release(frame: Frame): void {
    this.#pool?.release(frame.base);
  }

  /** onread: where the kernel should put the next bytes. */
  readBuffer(): Buffer {
    const cur = this.#current;
    if (cur !== null && cur.bytes.length - this.#filled >= DIRECT_MIN) this.#given = cur.bytes.subarray(this.#filled);
    else this.#given = SCRATCH;
    return this.#given;
  }

  /** onread: `n` bytes were read into `buf` (the buffer readBuffer returned last). */
  onRead(n: number, buf: Buffer): void {
    const cur = this.#current;
    if (buf !== SCRATCH && cur !== null && buf === this.#given) {
      this.#filled += n;
      if (this.#filled === cur.bytes.length) this.#complete();
      return;
    }
    this.feed(buf.subarray(0, n));
  }

  /** Copies `chunk` into frames; `chunk` may be reused by the caller afterwards. */
  feed(chunk: Buffer): void {
    let pos = 0;
    const n = chunk.length;
    while (pos < n && !this.failed) {
      const cur = this.#current;
      if (cur === null) {
        const want = 4 - this.#headerFilled;
        const got = Math.min(want, n - pos);
        chunk.copy(this.#header, this.#headerFilled, pos, pos + got);
        this.#headerFilled += got;
        pos += got;
        if (this.#headerFilled < 4) return;
        const size = this.#header.readInt32BE(0);
        if (!this.#checkSize(size)) {
          this.failed = true;
          return;
        }
        // The API key is the frame's first two bytes: a Produce frame may use pooled memory.
        const produce = n - pos >= 2 && chunk.readInt16BE(pos) === PRODUCE_KEY;
        this.#current = produce && this.#pool !== null ? this.#pool.acquire(size) : { bytes: Buffer.allocUnsafe(size), base: null };
        this.#filled = 0;
        if (size === 0) this.#complete();
        continue;
      }
      const got = Math.min(cur.bytes.length - this.#filled, n - pos);
      chunk.copy(cur.bytes, this.#filled, pos, pos + got);
      this.#filled += got;
      pos += got;
      if (this.#filled === cur.bytes.length) this.#complete();
    }
  }

  #complete(): void {
    const f = this.#current!;
    this.#ready.push(f);
    this.#readyBytes += f.bytes.length;
    this.#current = null;
    this.#filled = 0;
    this.#headerFilled = 0;
  }
}
