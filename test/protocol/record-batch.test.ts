import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32c, crc32cIsNative, crc32cJs } from '../../src/protocol/crc32c.ts';
import {
  ATTRIBUTES,
  BASE_SEQUENCE,
  baseOffsetOf,
  baseTimestampOf,
  BATCH_LENGTH,
  buildRecordBatch,
  Compression,
  compressionOf,
  CONTROL_FLAG,
  CRC,
  decodeRecords,
  isControlBatch,
  isTransactionalBatch,
  LAST_OFFSET_DELTA,
  lastOffsetOf,
  MAGIC,
  maxTimestampOf,
  PRODUCER_ID,
  producerEpochOf,
  producerIdOf,
  recomputeCrc,
  RECORDS,
  RECORDS_COUNT,
  RecordFormatError,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  splitBatches,
  timestampTypeOf,
  validateBatch,
  validateBatchRecords,
} from '../../src/protocol/record-batch.ts';
import type { CompressionType, RecordInput } from '../../src/protocol/record-batch.ts';
import { CompressionError } from '../../src/protocol/compression/index.ts';
import { ControlType, controlTypeOf, coordinatorEpochOf, endTxnMarkerRecord } from '../../src/protocol/records.ts';

const TS = 1_700_000_000_000;
const OK = 0;
const CORRUPT_MESSAGE = 2;
const MESSAGE_TOO_LARGE = 10;
const INVALID_RECORD = 87;
const CODECS: [CompressionType, string][] = [
  [Compression.None, 'none'],
  [Compression.Gzip, 'gzip'],
  [Compression.Snappy, 'snappy'],
  [Compression.Lz4, 'lz4'],
  [Compression.Zstd, 'zstd'],
];

const records: RecordInput[] = [
  { key: Buffer.from('key-1'), value: Buffer.from('value-1'), timestamp: TS },
  { key: null, value: Buffer.from('keyless'), timestamp: TS + 10 },
  { key: Buffer.from('deleted'), value: null, timestamp: TS + 3 },
  {
    key: Buffer.from('with-headers'),
    value: Buffer.from('x'.repeat(2000)),
    headers: [
      { key: 'content-type', value: Buffer.from('text/plain') },
      { key: 'empty', value: null },
    ],
    timestamp: TS - 1000,
  },
];

test('crc32c: known vectors, native and JS agree', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32cJs(Buffer.from('123456789')), 0xe3069283);
  // RFC 3720 (iSCSI) appendix B.4 vectors.
  assert.equal(crc32cJs(Buffer.alloc(32)), 0x8a9136aa);
  assert.equal(crc32cJs(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32cJs(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
  assert.equal(crc32cJs(Buffer.alloc(0)), 0);
  assert.ok(crc32cIsNative, 'the native module should load on this machine');
  for (const size of [1, 7, 8, 9, 63, 1000, 65_537]) {
    const data = randomBytes(size);
    assert.equal(crc32c(data), crc32cJs(data), `size ${size}`);
    const start = size >> 2;
    const end = size - (size >> 3);
    assert.equal(crc32c(data, start, end), crc32cJs(data, start, end), `range of ${size}`);
    assert.equal(crc32c(data, start, end), crc32cJs(data.subarray(start, end)));
  }
});

test('builder → validate → decode round-trips for every codec', () => {
  for (const [compression, name] of CODECS) {
    const batch = buildRecordBatch({ records, compression, baseOffset: 1000 });
    assert.equal(validateBatch(batch, 0), OK, name);
    assert.equal(validateBatchRecords(batch, 0), OK, name);
    assert.equal(compressionOf(batch), compression);
    assert.equal(batch.readInt32BE(BATCH_LENGTH), batch.length - 12);
    assert.equal(batch.readInt32BE(RECORDS_COUNT), records.length);
    assert.equal(lastOffsetOf(batch), 1000 + records.length - 1);
    assert.equal(baseTimestampOf(batch), TS);
    assert.equal(maxTimestampOf(batch), TS + 10);
    assert.equal(producerIdOf(batch), -1n);
    const decoded = decodeRecords(batch);
    assert.deepEqual(
      decoded.map((d) => ({ offset: d.offset, timestamp: d.timestamp, key: d.key, value: d.value, headers: d.headers })),
      records.map((r, i) => ({ offset: 1000 + i, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers ?? [] })),
      name,
    );
  }
});

test('producer fields and flags are written', () => {
  const batch = buildRecordBatch({
    records: records.slice(0, 1),
    producerId: 4242n,
    producerEpoch: 3,
    baseSequence: 17,
    transactional: true,
    partitionLeaderEpoch: 9,
  });
  assert.equal(producerIdOf(batch), 4242n);
  assert.equal(producerEpochOf(batch), 3);
  assert.equal(batch.readInt32BE(BASE_SEQUENCE), 17);
  assert.ok(isTransactionalBatch(batch));
  assert.equal(isControlBatch(batch), false);
  assert.equal(validateBatch(batch, 0), OK);
});

test('a flipped bit anywhere under the CRC is CORRUPT_MESSAGE', () => {
  for (const [compression, name] of CODECS) {
    const batch = buildRecordBatch({ records, compression });
    for (const at of [ATTRIBUTES + 1, LAST_OFFSET_DELTA + 3, RECORDS + 1, batch.length - 1, RECORDS_COUNT + 2]) {
      const copy = Buffer.from(batch);
      copy[at] ^= 0x10;
      assert.equal(validateBatch(copy, 0), CORRUPT_MESSAGE, `${name} byte ${at}`);
    }
    const badCrc = Buffer.from(batch);
    badCrc[CRC] ^= 1;
    assert.equal(validateBatch(badCrc, 0), CORRUPT_MESSAGE);
  }
});

test('base offset and partition leader epoch are outside the CRC and patch in place', () => {
  const batch = buildRecordBatch({ records });
  setBaseOffset(batch, 0, 5_000_000_000);
  setPartitionLeaderEpoch(batch, 0, 12);
  assert.equal(validateBatch(batch, 0, undefined, { internal: true }), OK);
  assert.equal(baseOffsetOf(batch), 5_000_000_000);
  assert.deepEqual(
    decodeRecords(batch).map((r) => r.offset),
    [0, 1, 2, 3].map((i) => 5_000_000_000 + i),
  );
});

test('header sanity: short buffers, bad lengths, magic', () => {
  const batch = buildRecordBatch({ records });
  assert.equal(validateBatch(batch.subarray(0, 10), 0), CORRUPT_MESSAGE);
  assert.equal(validateBatch(batch.subarray(0, batch.length - 1), 0), CORRUPT_MESSAGE);
  const tooShort = Buffer.from(batch);
  tooShort.writeInt32BE(48, BATCH_LENGTH);
  assert.equal(validateBatch(tooShort, 0), CORRUPT_MESSAGE);
  const negative = Buffer.from(batch);
  negative.writeInt32BE(-1, BATCH_LENGTH);
  assert.equal(validateBatch(negative, 0), CORRUPT_MESSAGE);
  for (const [magic, code] of [
    [0, INVALID_RECORD],
    [1, INVALID_RECORD],
    [3, CORRUPT_MESSAGE],
    [0xff, CORRUPT_MESSAGE],
  ]) {
    const copy = Buffer.from(batch);
    copy[MAGIC] = magic;
    assert.equal(validateBatch(copy, 0), code, `magic ${magic}`);
  }
  const badCodec = Buffer.from(batch);
  badCodec[ATTRIBUTES + 1] |= 0x07;
  recomputeCrc(badCodec, 0);
  assert.equal(validateBatch(badCodec, 0), CORRUPT_MESSAGE);
});

test('max.message.bytes is enforced on the whole batch', () => {
  const batch = buildRecordBatch({ records });
  assert.equal(validateBatch(batch, 0, batch.length), OK);
  assert.equal(validateBatch(batch, 0, batch.length - 1), MESSAGE_TOO_LARGE);
  // The same limit given in an options object.
  assert.equal(validateBatch(batch, 0, { maxMessageBytes: batch.length }), OK);
  assert.equal(validateBatch(batch, 0, { maxMessageBytes: batch.length - 1 }), MESSAGE_TOO_LARGE);
});

function patched(batch: Buffer, edit: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(batch);
  edit(copy);
  recomputeCrc(copy, 0);
  return copy;
}

test('lying record counts and offset ranges are INVALID_RECORD', () => {
  for (const [compression, name] of CODECS) {
    const batch = buildRecordBatch({ records, compression });
    const n = records.length;
    // Count disagrees with lastOffsetDelta.
    assert.equal(validateBatch(patched(batch, (b) => b.writeInt32BE(n + 1, RECORDS_COUNT)), 0), INVALID_RECORD, name);
    assert.equal(validateBatch(patched(batch, (b) => b.writeInt32BE(-1, RECORDS_COUNT)), 0), INVALID_RECORD, name);
    assert.equal(validateBatch(patched(batch, (b) => b.writeInt32BE(n + 5, LAST_OFFSET_DELTA)), 0), INVALID_RECORD, name);
    // Count and lastOffsetDelta agree with each other but not with the records.
    const liar = patched(batch, (b) => {
      b.writeInt32BE(n + 1, RECORDS_COUNT);
      b.writeInt32BE(n, LAST_OFFSET_DELTA);
    });
    if (compression === Compression.None) {
      assert.equal(validateBatch(liar, 0), INVALID_RECORD, name);
    } else {
      // Compressed records are only checked by the deep check (they must be decompressed).
      assert.equal(validateBatch(liar, 0), OK, name);
    }
    assert.equal(validateBatchRecords(liar, 0), INVALID_RECORD, name);
    assert.throws(() => decodeRecords(liar), RecordFormatError, name);
  }
});

test('empty batches, control batches and missing sequences are rejected from clients only', () => {
  const empty = buildRecordBatch({ records: [] });
  assert.equal(validateBatch(empty, 0), INVALID_RECORD);
  assert.equal(validateBatch(empty, 0, undefined, { internal: true }), OK);
  assert.deepEqual(decodeRecords(empty), []);

  const marker = buildRecordBatch({
    records: [endTxnMarkerRecord(true, 5, TS)],
    control: true,
    transactional: true,
    producerId: 77n,
    producerEpoch: 1,
  });
  assert.ok(isControlBatch(marker));
  assert.equal(validateBatch(marker, 0), INVALID_RECORD);
  assert.equal(validateBatch(marker, 0, undefined, { internal: true }), OK);
  // allowControl admits the marker (no sequence number) but keeps the other client checks.
  assert.equal(validateBatch(marker, 0, { allowControl: true }), OK);
  assert.equal(validateBatch(patched(marker, (b) => b.writeInt32BE(3, RECORDS_COUNT)), 0, { allowControl: true }), INVALID_RECORD);
  const [record] = decodeRecords(marker);
  assert.equal(controlTypeOf(record.key), ControlType.Commit);
  assert.equal(coordinatorEpochOf(record.value), 5);

  const noSeq = buildRecordBatch({ records, producerId: 9n, producerEpoch: 0, baseSequence: -1 });
  assert.equal(validateBatch(noSeq, 0), INVALID_RECORD);
  const negativeSeq = patched(noSeq, (b) => b.writeInt32BE(-7, BASE_SEQUENCE));
  assert.equal(validateBatch(negativeSeq, 0), INVALID_RECORD);
  const withSeq = patched(noSeq, (b) => b.writeInt32BE(0, BASE_SEQUENCE));
  assert.equal(validateBatch(withSeq, 0), OK);
  const noProducer = patched(noSeq, (b) => b.writeBigInt64BE(-1n, PRODUCER_ID));
  assert.equal(validateBatch(noProducer, 0), OK);

  const control = patched(buildRecordBatch({ records }), (b) => (b[ATTRIBUTES + 1] |= CONTROL_FLAG));
  assert.equal(validateBatch(control, 0), INVALID_RECORD);
});

test('non-sequential offset deltas in an uncompressed client batch are INVALID_RECORD', () => {
  const gapped = buildRecordBatch({
    records: [
      { key: null, value: Buffer.from('a'), offsetDelta: 0, timestamp: TS },
      { key: null, value: Buffer.from('b'), offsetDelta: 2, timestamp: TS },
    ],
    lastOffsetDelta: 1,
  });
  assert.equal(validateBatch(gapped, 0), INVALID_RECORD);
  // Our own compacted batches may have gaps.
  assert.equal(validateBatch(gapped, 0, undefined, { internal: true }), OK);
});

test('requireZeroBaseOffset rejects client batches with a base offset', () => {
  const batch = buildRecordBatch({ records, baseOffset: 3 });
  assert.equal(validateBatch(batch, 0), OK);
  assert.equal(validateBatch(batch, 0, undefined, { requireZeroBaseOffset: true }), INVALID_RECORD);
  setBaseOffset(batch, 0, 0);
  assert.equal(validateBatch(batch, 0, undefined, { requireZeroBaseOffset: true }), OK);
});

test('splitBatches walks concatenated batches and rejects a partial tail', () => {
  const batches = CODECS.map(([compression], i) => buildRecordBatch({ records, compression, baseOffset: i * 10 }));
  const all = Buffer.concat(batches);
  const spans = splitBatches(all);
  assert.deepEqual(
    spans.map((s) => s.size),
    batches.map((b) => b.length),
  );
  for (const [i, span] of spans.entries()) {
    assert.equal(validateBatch(all, span.pos), OK);
    assert.equal(decodeRecords(all.subarray(span.pos, span.pos + span.size))[0].offset, i * 10);
  }
  assert.deepEqual(splitBatches(Buffer.alloc(0)), []);
  for (const cut of [1, 11, 12, 61, batches[4].length - 1]) {
    const partial = all.subarray(0, all.length - cut);
    assert.throws(
      () => splitBatches(partial),
      (err: unknown) => err instanceof RecordFormatError && err.code === CORRUPT_MESSAGE,
    );
    assert.equal(splitBatches(partial, true).length, 4);
  }
  const tiny = Buffer.from(batches[0]);
  tiny.writeInt32BE(10, BATCH_LENGTH);
  assert.throws(() => splitBatches(tiny, true), RecordFormatError);
});

test('setLogAppendTime sets the flag and maxTimestamp, keeps baseTimestamp, fixes the CRC', () => {
  for (const [compression, name] of CODECS) {
    const batch = buildRecordBatch({ records, compression });
    const appendTime = TS + 99_999;
    setLogAppendTime(batch, 0, appendTime);
    assert.equal(validateBatch(batch, 0), OK, name);
    assert.equal(timestampTypeOf(batch), 1);
    assert.equal(maxTimestampOf(batch), appendTime);
    assert.equal(baseTimestampOf(batch), TS);
    assert.equal(compressionOf(batch), compression);
    assert.deepEqual(
      decodeRecords(batch).map((r) => r.timestamp),
      records.map(() => appendTime),
    );
  }
});

test('builder options: LogAppendTime with an explicit maxTimestamp, an explicit offset range', () => {
  const batch = buildRecordBatch({ records: [{ key: null, value: null }], baseTimestamp: 5, timestampType: 1, maxTimestamp: 77 });
  assert.equal(timestampTypeOf(batch), 1);
  assert.equal(decodeRecords(batch)[0].timestamp, 77);
  const kept = buildRecordBatch({ records: [], lastOffsetDelta: 9, baseOffset: 100 });
  assert.equal(lastOffsetOf(kept), 109);
});

test('a compressed bomb inside a valid batch is refused by the decoder and the deep check', () => {
  const big: RecordInput[] = [{ key: null, value: Buffer.alloc(4 << 20), timestamp: TS }];
  for (const compression of [Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
    const batch = buildRecordBatch({ records: big, compression });
    assert.ok(batch.length < 300_000);
    assert.equal(validateBatch(batch, 0, 1 << 20), OK);
    assert.equal(validateBatchRecords(batch, 0, 1 << 20), MESSAGE_TOO_LARGE);
    assert.throws(
      () => decodeRecords(batch, 1 << 20),
      (err: unknown) => err instanceof CompressionError && err.kind === 'too-large',
    );
  }
});
