import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { compress, CompressionError, decompress } from '../../src/protocol/compression/index.ts';
import { snappyCompressRaw, XERIAL_MAGIC } from '../../src/protocol/compression/snappy.ts';
import { lz4Compress } from '../../src/protocol/compression/lz4.ts';
import { xxh32 } from '../../src/protocol/compression/xxhash32.ts';
import { KafkaError } from '../../src/protocol/errors.ts';

const MiB = 1 << 20;
const CODECS = [
  [1, 'gzip'],
  [2, 'snappy'],
  [3, 'lz4'],
  [4, 'zstd'],
] as const;

function textLike(size: number): Buffer {
  const words = ['kafka', 'broker', 'record', 'batch', 'offset', 'partition', 'leader', '{"id":', '}\n'];
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < size; i++) {
    const w = words[(i * 7 + (i >> 3)) % words.length] + (i % 13 === 0 ? String(i) : '');
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

function expectKind(fn: () => unknown, kind: string): void {
  assert.throws(fn, (err: unknown) => err instanceof CompressionError && err.kind === kind);
}

test('every codec round-trips empty, small, random and compressible data', () => {
  const inputs = [Buffer.alloc(0), Buffer.from('x'), randomBytes(70_000), textLike(300_000), Buffer.alloc(5 * MiB)];
  for (const [type, name] of CODECS) {
    for (const input of inputs) {
      const packed = compress(type, input);
      const out = decompress(type, packed, input.length);
      assert.ok(out.equals(input), `${name} ${input.length} bytes`);
    }
  }
  assert.ok(decompress(0, Buffer.from('abc'), 3).equals(Buffer.from('abc')));
});

test('output of exactly the cap passes; one byte less fails as too-large', () => {
  const input = textLike(200_000);
  for (const [type, name] of CODECS) {
    const packed = compress(type, input);
    assert.equal(decompress(type, packed, input.length).length, input.length, name);
    expectKind(() => decompress(type, packed, input.length - 1), 'too-large');
  }
});

test('CompressionError is a KafkaError with the code to answer with', () => {
  const tooLarge = new CompressionError('too-large', 'x');
  assert.ok(tooLarge instanceof KafkaError);
  assert.equal(tooLarge.code, 10);
  assert.equal(new CompressionError('corrupt', 'x').code, 2);
  assert.equal(new CompressionError('unsupported', 'x').code, 76);
  expectKind(() => decompress(5, Buffer.alloc(4), 10), 'unsupported');
  expectKind(() => compress(7, Buffer.alloc(4)), 'unsupported');
});

test('garbage input fails with CompressionError for every codec', () => {
  for (const [type, name] of CODECS) {
    for (const junk of [Buffer.alloc(0), Buffer.from([1, 2, 3]), randomBytes(64), Buffer.alloc(64, 0xff)]) {
      assert.throws(() => decompress(type, junk, MiB), CompressionError, `${name} ${junk.toString('hex')}`);
    }
  }
});

test('truncated compressed data fails cleanly', () => {
  const input = textLike(100_000);
  for (const [type, name] of CODECS) {
    const packed = compress(type, input);
    for (const cut of [1, 10, packed.length >> 1, packed.length - 1]) {
      assert.throws(() => decompress(type, packed.subarray(0, cut), MiB), CompressionError, `${name} cut ${cut}`);
    }
  }
});

// --- bombs: a small input that would expand far beyond the cap --------------------------------

test('gzip bomb (200 concatenated members, 200 MB) is stopped at a 1 MiB cap', () => {
  const member = gzipSync(Buffer.alloc(MiB));
  const bomb = Buffer.concat(Array.from({ length: 200 }, () => member));
  assert.ok(bomb.length < 300_000);
  expectKind(() => decompress(1, bomb, MiB), 'too-large');
  assert.equal(decompress(1, bomb.subarray(0, member.length * 2), 2 * MiB).length, 2 * MiB);
});

test('zstd bomb (200 concatenated frames, 200 MB) is stopped at a 1 MiB cap', () => {
  const frame = zstdCompressSync(Buffer.alloc(MiB));
  const bomb = Buffer.concat(Array.from({ length: 200 }, () => frame));
  expectKind(() => decompress(4, bomb, MiB), 'too-large');
});

test('snappy raw block claiming 1 GB is rejected from its preamble alone', () => {
  // Preamble varint 2^30, followed by bytes that are not valid snappy: the cap check comes first.
  const claim = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04, 0xff, 0xff, 0xff]);
  expectKind(() => decompress(2, claim, MiB), 'too-large');
  expectKind(() => decompress(2, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), MiB), 'corrupt');
});

test('xerial chunks whose stated sizes sum past the cap are rejected before decompressing', () => {
  const chunk = snappyCompressRaw(Buffer.alloc(MiB));
  const parts: Buffer[] = [xerialHeader()];
  for (let i = 0; i < 3; i++) parts.push(int32(chunk.length), chunk);
  const framed = Buffer.concat(parts);
  expectKind(() => decompress(2, framed, 2 * MiB), 'too-large');
  assert.equal(decompress(2, framed, 3 * MiB).length, 3 * MiB);
});

test('lz4 frame declaring a 1 GB content size is rejected from its header', () => {
  const frame = withContentSize(lz4Compress(Buffer.from('small')), 2 ** 30);
  expectKind(() => decompress(3, frame, MiB), 'too-large');
});

test('lz4 frame that expands past the cap is stopped by the block decoder', () => {
  const frame = lz4Compress(Buffer.alloc(16 * MiB));
  assert.ok(frame.length < 100_000);
  expectKind(() => decompress(3, frame, MiB), 'too-large');
});

// --- snappy framing ----------------------------------------------------------------------------

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
}

function xerialHeader(): Buffer {
  return Buffer.concat([XERIAL_MAGIC, int32(1), int32(1)]);
}

test('hand-built xerial frame (as the Java producer writes) is decoded', () => {
  const a = Buffer.from('first chunk of a java producer batch '.repeat(20));
  const b = randomBytes(1000);
  const framed = Buffer.concat([xerialHeader(), int32(snappyCompressRaw(a).length), snappyCompressRaw(a), int32(snappyCompressRaw(b).length), snappyCompressRaw(b)]);
  assert.ok(decompress(2, framed, MiB).equals(Buffer.concat([a, b])));
  // Bad chunk length / truncated chunk.
  expectKind(() => decompress(2, framed.subarray(0, framed.length - 3), MiB), 'corrupt');
  expectKind(() => decompress(2, Buffer.concat([xerialHeader(), int32(-5)]), MiB), 'corrupt');
});

test('raw snappy blocks (librdkafka, sarama) are decoded', () => {
  const input = textLike(50_000);
  assert.ok(decompress(2, snappyCompressRaw(input), MiB).equals(input));
});

test('our snappy output is xerial-framed in 32 KiB chunks', () => {
  const input = textLike(100_000);
  const packed = compress(2, input);
  assert.ok(packed.subarray(0, 8).equals(XERIAL_MAGIC));
  assert.equal(packed.readInt32BE(8), 1);
  assert.equal(packed.readInt32BE(12), 1);
  let chunks = 0;
  for (let pos = 16; pos < packed.length; pos += 4 + packed.readInt32BE(pos)) chunks++;
  assert.equal(chunks, Math.ceil(input.length / 32768));
});

// --- lz4 frame details -------------------------------------------------------------------------

test('xxh32 matches the reference vectors', () => {
  assert.equal(xxh32(Buffer.alloc(0)), 0x02cc5d05);
  assert.equal(xxh32(Buffer.from('abc')), 0x32d153ff);
  assert.equal(xxh32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
});

/** Rebuilds a frame descriptor with a new FLG/content size and returns a frame with a correct HC. */
function rebuild(frame: Buffer, edit: (flg: number) => number, contentSize?: number): Buffer {
  const flg = frame[4];
  const hasSize = (flg & 0x08) !== 0;
  const descEnd = 6 + (hasSize ? 8 : 0);
  const newFlg = edit(flg) | (contentSize !== undefined ? 0x08 : 0);
  const size = Buffer.alloc(contentSize !== undefined ? 8 : 0);
  if (contentSize !== undefined) size.writeBigUInt64LE(BigInt(contentSize));
  const desc = Buffer.concat([Buffer.from([newFlg, frame[5]]), size]);
  const hc = (xxh32(desc) >>> 8) & 0xff;
  return Buffer.concat([frame.subarray(0, 4), desc, Buffer.from([hc]), frame.subarray(descEnd + 1)]);
}

function withContentSize(frame: Buffer, size: number): Buffer {
  return rebuild(frame, (f) => f, size);
}

test('our lz4 frames use independent blocks (Kafka rejects linked ones)', () => {
  const frame = lz4Compress(textLike(10_000));
  assert.equal(frame.readUInt32LE(0), 0x184d2204);
  assert.notEqual(frame[4] & 0x20, 0);
  expectKind(() => decompress(3, rebuild(frame, (f) => f & ~0x20), MiB), 'unsupported');
});

test('lz4 JS block decoder matches the input (two frames, and a cap below the block bound)', () => {
  for (const input of [textLike(700_000), randomBytes(300_000), Buffer.alloc(100_000, 9), Buffer.alloc(1)]) {
    const one = lz4Compress(input);
    // Two concatenated frames are always decoded by the JS path.
    const two = Buffer.concat([one, one]);
    assert.ok(decompress(3, two, 2 * input.length).equals(Buffer.concat([input, input])));
    // A cap equal to the real size but below blocks × block max also forces the JS path.
    assert.ok(decompress(3, one, input.length).equals(input));
  }
});

test('lz4 frame with a declared content size decodes and is checked', () => {
  const input = textLike(50_000);
  const frame = withContentSize(lz4Compress(input), input.length);
  assert.ok(decompress(3, frame, MiB).equals(input));
  assert.ok(decompress(3, Buffer.concat([frame, frame]), MiB).equals(Buffer.concat([input, input])));
  expectKind(() => decompress(3, Buffer.concat([withContentSize(lz4Compress(input), input.length - 1), frame]), MiB), 'corrupt');
});

test('lz4 header checksum: correct and KAFKA-3160 forms accepted, others rejected', () => {
  const input = textLike(20_000);
  const frame = lz4Compress(input);
  const hcPos = 6;
  const legacy = Buffer.from(frame);
  legacy[hcPos] = (xxh32(frame, 0, hcPos) >>> 8) & 0xff; // pre-0.10 Kafka hashed the magic too
  assert.notEqual(legacy[hcPos], frame[hcPos]);
  assert.ok(decompress(3, legacy, MiB).equals(input));
  const wrong = Buffer.from(frame);
  wrong[hcPos] ^= 0x5a;
  expectKind(() => decompress(3, wrong, MiB), 'corrupt');
});

test('lz4 block and content checksums are verified', async () => {
  const { compressFrameSync } = (await import('lz4-napi')) as unknown as {
    compressFrameSync(d: Buffer, o: { blockChecksums: boolean; contentChecksum: boolean }): Buffer;
  };
  const input = textLike(30_000);
  const frame = compressFrameSync(input, { blockChecksums: true, contentChecksum: true });
  assert.equal(frame[4] & 0x14, 0x14);
  assert.ok(decompress(3, frame, MiB).equals(input));
  assert.ok(decompress(3, Buffer.concat([frame, frame]), MiB).equals(Buffer.concat([input, input])));
  const badContent = Buffer.from(frame);
  badContent[badContent.length - 1] ^= 1;
  expectKind(() => decompress(3, Buffer.concat([badContent, frame]), MiB), 'corrupt');
  expectKind(() => decompress(3, badContent, MiB), 'corrupt');
  const badBlock = Buffer.from(frame);
  badBlock[badBlock.length - 9] ^= 1; // last byte of the block checksum
  expectKind(() => decompress(3, Buffer.concat([badBlock, frame]), MiB), 'corrupt');
});
