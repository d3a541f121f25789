// Bounds-checked reader over one Kafka frame. Every read checks the remaining length first, and
// every length or count read from the wire is checked against the remaining bytes before anything
// is allocated, so a lying length can never make us allocate beyond the frame.

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const NULL_UUID = '00000000-0000-0000-0000-000000000000';
const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

export class Reader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  need(n: number): void {
    if (n < 0 || this.offset + n > this.end) {
      throw new ProtocolError(`need ${n} bytes at offset ${this.offset}, have ${this.end - this.offset}`);
    }
  }

  readInt8(): number {
    this.need(1);
    return this.buf.readInt8(this.offset++);
  }

  readBool(): boolean {
    return this.readInt8() !== 0;
  }

  readInt16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  readUInt16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  readInt32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  readUInt32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  readInt64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  readFloat64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  /** Unsigned varint, at most 5 bytes (32 bits). */
  readUVarint(): number {
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      this.need(1);
      const b = this.buf[this.offset++];
      value |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value >>> 0;
      shift += 7;
    }
    throw new ProtocolError('varint is longer than 5 bytes');
  }

  /** Zig-zag signed varint (32 bits). */
  readVarint(): number {
    const u = this.readUVarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zig-zag signed varlong (64 bits), returned as a number (exact up to 2^53). */
  readVarlong(): number {
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      this.need(1);
      const b = this.buf[this.offset++];
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        const signed = (value >> 1n) ^ -(value & 1n);
        return Number(BigInt.asIntN(64, signed));
      }
      shift += 7n;
    }
    throw new ProtocolError('varlong is longer than 10 bytes');
  }

  readUuid(): string {
    this.need(16);
    const b = this.buf;
    const o = this.offset;
    this.offset += 16;
    let s = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
      s += HEX[b[o + i]];
    }
    return s;
  }

  private str(len: number): string {
    this.need(len);
    const s = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return s;
  }

  readString(): string {
    const len = this.readInt16();
    if (len < 0) throw new ProtocolError('non-nullable string is null');
    return this.str(len);
  }

  readNullableString(): string | null {
    const len = this.readInt16();
    if (len < 0) return null;
    return this.str(len);
  }

  readCompactString(): string {
    const len = this.readUVarint() - 1;
    if (len < 0) throw new ProtocolError('non-nullable compact string is null');
    return this.str(len);
  }

  readCompactNullableString(): string | null {
    const len = this.readUVarint() - 1;
    if (len < 0) return null;
    return this.str(len);
  }

  /** A slice of the frame (no copy). */
  readRaw(len: number): Buffer {
    this.need(len);
    const b = this.buf.subarray(this.offset, this.offset + len);
    this.offset += len;
    return b;
  }

  readBytes(): Buffer {
    const len = this.readInt32();
    if (len < 0) throw new ProtocolError('non-nullable bytes are null');
    return this.readRaw(len);
  }

  readNullableBytes(): Buffer | null {
    const len = this.readInt32();
    if (len < 0) return null;
    return this.readRaw(len);
  }

  readCompactBytes(): Buffer {
    const len = this.readUVarint() - 1;
    if (len < 0) throw new ProtocolError('non-nullable compact bytes are null');
    return this.readRaw(len);
  }

  readCompactNullableBytes(): Buffer | null {
    const len = this.readUVarint() - 1;
    if (len < 0) return null;
    return this.readRaw(len);
  }

  /** Array length (int32), checked against the bytes left: each element takes at least one byte. */
  readArrayLength(): number {
    const n = this.readInt32();
    if (n > this.remaining) throw new ProtocolError(`array length ${n} exceeds remaining ${this.remaining} bytes`);
    return n;
  }

  readCompactArrayLength(): number {
    const n = this.readUVarint() - 1;
    if (n > this.remaining) throw new ProtocolError(`array length ${n} exceeds remaining ${this.remaining} bytes`);
    return n;
  }

  /** Skips the tagged-field section of a flexible struct, calling `onTag` for each tag. */
  readTaggedFields(onTag?: (tag: number, size: number, r: Reader) => boolean): void {
    const n = this.readUVarint();
    if (n > this.remaining) throw new ProtocolError(`tagged field count ${n} exceeds remaining bytes`);
    for (let i = 0; i < n; i++) {
      const tag = this.readUVarint();
      const size = this.readUVarint();
      this.need(size);
      const end = this.offset + size;
      if (onTag !== undefined) {
        const sub = new Reader(this.buf, this.offset, end);
        if (onTag(tag, size, sub)) {
          this.offset = end;
          continue;
        }
      }
      this.offset = end;
    }
  }
}

export { NULL_UUID };
