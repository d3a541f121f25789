// Growable writer. Small values go into a scratch buffer; large byte blobs (record batches) are
// referenced, not copied, so a Fetch response can carry file bytes straight to the socket.

const REF_THRESHOLD = 4096;

export class Writer {
  private buf: Buffer;
  private pos = 0;
  private chunkStart = 0;
  private readonly chunks: Buffer[] = [];
  private flushedLength = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.flushedLength + (this.pos - this.chunkStart);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.chunkStart;
    const size = Math.max(this.buf.length * 2, used + n, 256);
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.chunkStart, this.pos);
    this.buf = next;
    this.chunkStart = 0;
    this.pos = used;
  }

  writeInt8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos++);
  }

  writeBool(v: boolean): void {
    this.writeInt8(v ? 1 : 0);
  }

  writeInt16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  writeUInt16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  writeInt32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  writeUInt32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  writeInt64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }

  writeFloat64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  writeUVarint(v: number): void {
    this.ensure(5);
    let x = v >>> 0;
    while (x >= 0x80) {
      this.buf[this.pos++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    this.buf[this.pos++] = x;
  }

  writeVarint(v: number): void {
    this.writeUVarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  writeVarlong(v: number): void {
    this.ensure(10);
    let x = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n));
    while (x >= 0x80n) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
  }

  writeUuid(v: string): void {
    const hex = v.replaceAll('-', '');
    if (hex.length !== 32) throw new Error(`bad uuid ${v}`);
    this.ensure(16);
    this.buf.write(hex, this.pos, 16, 'hex');
    this.pos += 16;
  }

  writeRaw(b: Buffer): void {
    if (b.length >= REF_THRESHOLD) {
      this.flushScratch();
      this.chunks.push(b);
      this.flushedLength += b.length;
      return;
    }
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  private writeUtf8(s: string, len: number): void {
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }

  writeString(s: string): void {
    const len = Buffer.byteLength(s);
    this.writeInt16(len);
    this.writeUtf8(s, len);
  }

  writeNullableString(s: string | null): void {
    if (s === null) return this.writeInt16(-1);
    this.writeString(s);
  }

  writeCompactString(s: string): void {
    const len = Buffer.byteLength(s);
    this.writeUVarint(len + 1);
    this.writeUtf8(s, len);
  }

  writeCompactNullableString(s: string | null): void {
    if (s === null) return this.writeUVarint(0);
    this.writeCompactString(s);
  }

  writeBytes(b: Buffer): void {
    this.writeInt32(b.length);
    this.writeRaw(b);
  }

  writeNullableBytes(b: Buffer | null): void {
    if (b === null) return this.writeInt32(-1);
    this.writeBytes(b);
  }

  writeCompactBytes(b: Buffer): void {
    this.writeUVarint(b.length + 1);
    this.writeRaw(b);
  }

  writeCompactNullableBytes(b: Buffer | null): void {
    if (b === null) return this.writeUVarint(0);
    this.writeCompactBytes(b);
  }

  private flushScratch(): void {
    if (this.pos > this.chunkStart) {
      this.chunks.push(this.buf.subarray(this.chunkStart, this.pos));
      this.flushedLength += this.pos - this.chunkStart;
      this.chunkStart = this.pos;
    }
  }

  /** The written bytes as a list of buffers (large blobs by reference). The writer is spent. */
  toChunks(): Buffer[] {
    this.flushScratch();
    return this.chunks;
  }

  /** The written bytes as one buffer. */
  toBuffer(): Buffer {
    const chunks = this.toChunks();
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.flushedLength);
  }
}
