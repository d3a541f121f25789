import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { convertLegacyToV2, convertV2ToLegacy, messageSetMagic } from '../../src/protocol/legacy-message-set.ts';
import {
  buildRecordBatch,
  Compression,
  compressionOf,
  decodeRecords,
  RecordFormatError,
  setBaseOffset,
  setLogAppendTime,
  validateBatch,
} from '../../src/protocol/record-batch.ts';
import { compress, CompressionError } from '../../src/protocol/compression/index.ts';
import { endTxnMarkerRecord } from '../../src/protocol/records.ts';

const TS = 1_600_000_000_000;
const MiB = 1 << 20;

interface Msg {
  offset?: number;
  magic: 0 | 1;
  attributes?: number;
  timestamp?: number;
  key: Buffer | null;
  value: Buffer | null;
}

/** Encodes one magic 0/1 message, written independently of the code under test. */
function message(m: Msg): Buffer {
  const bytes = (b: Buffer | null) => {
    const len = Buffer.alloc(4);
    len.writeInt32BE(b === null ? -1 : b.length);
    return b === null ? len : Buffer.concat([len, b]);
  };
  const head = Buffer.alloc(m.magic === 1 ? 10 : 2);
  head[0] = m.magic;
  head[1] = m.attributes ?? 0;
  if (m.magic === 1) head.writeBigInt64BE(BigInt(m.timestamp ?? -1), 2);
  const body = Buffer.concat([head, bytes(m.key), bytes(m.value)]);
  const prefix = Buffer.alloc(16);
  prefix.writeBigInt64BE(BigInt(m.offset ?? 0), 0);
  prefix.writeInt32BE(body.length + 4, 8);
  prefix.writeUInt32BE(crc32(body), 12);
  return Buffer.concat([prefix, body]);
}

interface Parsed {
  offset: number;
  magic: number;
  attributes: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

/** Independent parser for checking down-converted output (verifies every CRC). */
function parse(set: Buffer): Parsed[] {
  const out: Parsed[] = [];
  let pos = 0;
  while (pos < set.length) {
    const size = set.readInt32BE(pos + 8);
    const end = pos + 12 + size;
    assert.equal(crc32(set.subarray(pos + 16, end)), set.readUInt32BE(pos + 12), 'message CRC');
    const magic = set[pos + 16];
    let p = pos + 18;
    let timestamp = -1;
    if (magic === 1) {
      timestamp = Number(set.readBigInt64BE(p));
      p += 8;
    }
    const read = () => {
      const len = set.readInt32BE(p);
      p += 4;
      if (len < 0) return null;
      p += len;
      return set.subarray(p - len, p);
    };
    const key = read();
    const value = read();
    assert.equal(p, end);
    out.push({ offset: Number(set.readBigInt64BE(pos)), magic, attributes: set[pos + 17], timestamp, key, value });
    pos = end;
  }
  return out;
}

const kv = [
  { key: Buffer.from('a'), value: Buffer.from('alpha') },
  { key: null, value: Buffer.from('no key') },
  { key: Buffer.from('gone'), value: null },
  { key: Buffer.alloc(0), value: Buffer.alloc(0) },
];

test('magic 0 set → v2 batch: keys and values kept, timestamps NO_TIMESTAMP', () => {
  const set = Buffer.concat(kv.map((r, i) => message({ magic: 0, offset: i, ...r })));
  assert.equal(messageSetMagic(set), 0);
  const batch = convertLegacyToV2(set, MiB);
  assert.equal(validateBatch(batch, 0), 0);
  assert.equal(compressionOf(batch), Compression.None);
  const decoded = decodeRecords(batch);
  assert.deepEqual(
    decoded.map((d) => [d.offset, d.timestamp, d.key, d.value]),
    kv.map((r, i) => [i, -1, r.key, r.value]),
  );
});

test('magic 1 set → v2 batch keeps per-message timestamps', () => {
  const set = Buffer.concat(kv.map((r, i) => message({ magic: 1, timestamp: TS + i * 7, ...r })));
  const decoded = decodeRecords(convertLegacyToV2(set, MiB));
  assert.deepEqual(
    decoded.map((d) => d.timestamp),
    kv.map((_, i) => TS + i * 7),
  );
  assert.deepEqual(
    decoded.map((d) => d.value),
    kv.map((r) => r.value),
  );
});

test('compressed wrapper messages (gzip, snappy, lz4) are unpacked and the codec is kept', () => {
  for (const codec of [Compression.Gzip, Compression.Snappy, Compression.Lz4]) {
    // Magic 1 wrappers carry inner messages with relative offsets 0..n-1.
    const inner = Buffer.concat(kv.map((r, i) => message({ magic: 1, offset: i, timestamp: TS + i, ...r })));
    const wrapper = message({ magic: 1, offset: kv.length - 1, attributes: codec, timestamp: TS + 3, key: null, value: compress(codec, inner) });
    const plain = message({ magic: 1, timestamp: TS + 50, key: Buffer.from('after'), value: Buffer.from('wrapper') });
    const batch = convertLegacyToV2(Buffer.concat([wrapper, plain]), MiB);
    assert.equal(validateBatch(batch, 0), 0);
    assert.equal(compressionOf(batch), codec);
    const decoded = decodeRecords(batch);
    assert.deepEqual(
      decoded.map((d) => [d.offset, d.timestamp, d.key, d.value]),
      [...kv.map((r, i) => [i, TS + i, r.key, r.value]), [4, TS + 50, Buffer.from('after'), Buffer.from('wrapper')]],
    );
    // The caller may choose another codec for storage.
    assert.equal(compressionOf(convertLegacyToV2(Buffer.concat([wrapper, plain]), MiB, Compression.Zstd)), Compression.Zstd);
  }
});

test('magic 0 gzip wrapper with an inner magic 0 set', () => {
  const inner = Buffer.concat(kv.map((r) => message({ magic: 0, ...r })));
  const wrapper = message({ magic: 0, attributes: Compression.Gzip, key: null, value: compress(Compression.Gzip, inner) });
  const decoded = decodeRecords(convertLegacyToV2(wrapper, MiB));
  assert.deepEqual(
    decoded.map((d) => d.key),
    kv.map((r) => r.key),
  );
});

test('a LogAppendTime wrapper gives its timestamp to every inner message', () => {
  const inner = Buffer.concat(kv.map((r, i) => message({ magic: 1, offset: i, timestamp: TS + i, ...r })));
  const wrapper = message({ magic: 1, attributes: Compression.Gzip | 0x08, timestamp: TS + 999, key: null, value: compress(Compression.Gzip, inner) });
  const decoded = decodeRecords(convertLegacyToV2(wrapper, MiB));
  assert.deepEqual(
    decoded.map((d) => d.timestamp),
    kv.map(() => TS + 999),
  );
});

function rejectsWith(fn: () => unknown, code: number): void {
  assert.throws(fn, (err: unknown) => (err instanceof RecordFormatError || err instanceof CompressionError) && err.code === code);
}

test('bad legacy input is refused with the right error code', () => {
  const good = message({ magic: 1, timestamp: TS, key: Buffer.from('k'), value: Buffer.from('v') });
  const flipped = Buffer.from(good);
  flipped[flipped.length - 1] ^= 1;
  rejectsWith(() => convertLegacyToV2(flipped, MiB), 2);
  rejectsWith(() => convertLegacyToV2(good.subarray(0, good.length - 1), MiB), 2);
  rejectsWith(() => convertLegacyToV2(Buffer.concat([good, good.subarray(0, 5)]), MiB), 2);
  rejectsWith(() => convertLegacyToV2(Buffer.alloc(0), MiB), 87);
  const badKeyLength = Buffer.from(good);
  badKeyLength.writeInt32BE(1000, 26);
  badKeyLength.writeUInt32BE(crc32(badKeyLength.subarray(16)), 12);
  rejectsWith(() => convertLegacyToV2(badKeyLength, MiB), 2);
  const magic2 = Buffer.from(good);
  magic2[16] = 2;
  rejectsWith(() => convertLegacyToV2(magic2, MiB), 2);

  const innerCompressed = message({ magic: 1, attributes: Compression.Gzip, key: null, value: compress(Compression.Gzip, good) });
  const nested = message({ magic: 1, attributes: Compression.Gzip, key: null, value: compress(Compression.Gzip, innerCompressed) });
  rejectsWith(() => convertLegacyToV2(nested, MiB), 87);
  const zstd = message({ magic: 1, attributes: Compression.Zstd, key: null, value: compress(Compression.Zstd, good) });
  rejectsWith(() => convertLegacyToV2(zstd, MiB), 76);
  const nullWrapper = message({ magic: 1, attributes: Compression.Gzip, key: null, value: null });
  rejectsWith(() => convertLegacyToV2(nullWrapper, MiB), 2);
});

test('a compressed wrapper expanding past maxBytes is refused', () => {
  const inner = message({ magic: 1, timestamp: TS, key: null, value: Buffer.alloc(4 * MiB) });
  const wrapper = message({ magic: 1, attributes: Compression.Gzip, key: null, value: compress(Compression.Gzip, inner) });
  rejectsWith(() => convertLegacyToV2(wrapper, MiB), 10);
  // The cap is on the total across wrappers.
  const small = message({ magic: 1, attributes: Compression.Gzip, key: null, value: compress(Compression.Gzip, message({ magic: 1, key: null, value: Buffer.alloc(600_000) })) });
  rejectsWith(() => convertLegacyToV2(Buffer.concat([small, small]), MiB), 10);
  assert.equal(decodeRecords(convertLegacyToV2(small, MiB)).length, 1);
});

test('v2 → magic 1 and magic 0 down-conversion: absolute offsets, timestamps, no control batches', () => {
  const first = buildRecordBatch({ records: kv.map((r, i) => ({ ...r, timestamp: TS + i })), baseOffset: 100, compression: Compression.Lz4 });
  const marker = buildRecordBatch({ records: [endTxnMarkerRecord(true, 0, TS)], control: true, transactional: true, producerId: 1n, producerEpoch: 0, baseOffset: 104 });
  const second = buildRecordBatch({
    records: [{ key: Buffer.from('h'), value: Buffer.from('dropped headers'), headers: [{ key: 'x', value: null }], timestamp: TS }],
    baseOffset: 105,
  });
  setLogAppendTime(second, 0, TS + 5000);
  const partial = buildRecordBatch({ records: kv, baseOffset: 106 }).subarray(0, 40);
  const stored = Buffer.concat([first, marker, second, partial]);

  const v1 = parse(convertV2ToLegacy(stored, 1));
  assert.deepEqual(
    v1.map((m) => [m.offset, m.magic, m.attributes, m.timestamp, m.key, m.value]),
    [
      ...kv.map((r, i) => [100 + i, 1, 0, TS + i, r.key, r.value]),
      [105, 1, 0x08, TS + 5000, Buffer.from('h'), Buffer.from('dropped headers')],
    ],
  );
  const v0 = parse(convertV2ToLegacy(stored, 0));
  assert.deepEqual(
    v0.map((m) => [m.offset, m.magic, m.attributes, m.timestamp, m.key, m.value]),
    [...kv.map((r, i) => [100 + i, 0, 0, -1, r.key, r.value]), [105, 0, 0, -1, Buffer.from('h'), Buffer.from('dropped headers')]],
  );
  assert.equal(convertV2ToLegacy(Buffer.alloc(0), 1).length, 0);
});

test('v2 → legacy → v2 round trip', () => {
  const original = buildRecordBatch({ records: kv.map((r, i) => ({ ...r, timestamp: TS + i })), compression: Compression.Snappy });
  setBaseOffset(original, 0, 42);
  const legacy = convertV2ToLegacy(original, 1);
  const back = convertLegacyToV2(legacy, MiB);
  assert.deepEqual(
    decodeRecords(back).map((d) => [d.timestamp, d.key, d.value]),
    decodeRecords(original).map((d) => [d.timestamp, d.key, d.value]),
  );
});
