// Reusable memory for the large buffers of the data path: Produce request frames and the file
// reads Fetch responses carry.
//
// A producer at full speed sends frames of about a megabyte each, and a consumer gets responses as
// large. Allocating a fresh buffer for each makes V8 account for that much external memory per
// request, which starts a full garbage collection every few requests (external-memory pressure)
// however small the heap; fresh memory also costs page faults on first touch. So frames are read
// straight into buffers taken from here and handed back once nothing refers to them any more: a
// Produce frame once every append made from it has been written to its segment file (the
// connection releases the frame only after the handler's result has settled, and the Produce
// handler settles only then, acks=0 included); a Fetch read buffer once the response carrying it
// has been written to the socket (RequestContext.buffers).
//
// Buffers come in power-of-two classes from MIN_POOLED to MAX_POOLED bytes; at most `maxBytes` are
// kept idle in all classes together (a class short of room takes it from the others). Another size,
// or any size while its class is empty, simply gets a fresh buffer. A buffer is released at most
// once; releasing never fails.

export const MIN_POOLED = 64 * 1024;
export const MAX_POOLED = 16 * 1024 * 1024;

export interface PooledBuffer {
  /** Exactly the `size` bytes asked for, at the start of `base`. */
  bytes: Buffer;
  /** What to hand back to the pool; null when the buffer was not pooled. */
  base: Buffer | null;
}

function classOf(size: number): number {
  return Math.max(MIN_POOLED, 2 ** Math.ceil(Math.log2(size)));
}

export class FramePool {
  readonly #free = new Map<number, Buffer[]>();
  readonly #maxBytes: number;
  #idleBytes = 0;
  /** Pooled buffers handed out and not yet released (tests and diagnostics). */
  outstanding = 0;
  /** Pooled buffers handed out since the start. */
  handedOut = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get idleBytes(): number {
    return this.#idleBytes;
  }

  /** A buffer for a frame of `size` bytes, pooled when its size is in the pooled range. */
  acquire(size: number): PooledBuffer {
    if (size < MIN_POOLED || size > MAX_POOLED || this.#maxBytes === 0) return { bytes: Buffer.allocUnsafeSlow(size), base: null };
    const cls = classOf(size);
    let base = this.#free.get(cls)?.pop();
    if (base === undefined) base = Buffer.allocUnsafeSlow(cls);
    else this.#idleBytes -= cls;
    this.outstanding++;
    this.handedOut++;
    return { bytes: base.subarray(0, size), base };
  }

  /** Hands `base` back; nothing may read or write the frame afterwards. */
  release(base: Buffer | null): void {
    if (base === null) return;
    this.outstanding--;
    const cls = base.length;
    // The cap is shared: idle buffers of other sizes make room (the workload changed, say from
    // producing to consuming), else this one goes to the GC.
    while (this.#idleBytes + cls > this.#maxBytes && this.#evictOther(cls));
    if (this.#idleBytes + cls > this.#maxBytes) return;
    let list = this.#free.get(cls);
    if (list === undefined) this.#free.set(cls, (list = []));
    list.push(base);
    this.#idleBytes += cls;
  }

  /** Drops one idle buffer of the class holding the most idle bytes other than `keep`. */
  #evictOther(keep: number): boolean {
    let victim: Buffer[] | undefined;
    let most = 0;
    for (const [cls, list] of this.#free) {
      if (cls !== keep && cls * list.length > most) {
        most = cls * list.length;
        victim = list;
      }
    }
    const dropped = victim?.pop();
    if (dropped === undefined) return false;
    this.#idleBytes -= dropped.length;
    return true;
  }
}
