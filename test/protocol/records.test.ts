import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ControlType,
  controlTypeOf,
  coordinatorEpochOf,
  decodeRecordsSection,
  encodeControlKey,
  encodeRecords,
  endTxnMarkerRecord,
  RecordFormatError,
  recordsLayoutValid,
  recordsSize,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from '../../src/protocol/records.ts';
import type { RecordInput } from '../../src/protocol/records.ts';
import { Reader } from '../../src/protocol/reader.ts';
import { KafkaError } from '../../src/protocol/errors.ts';

const BASE_TS = 1_700_000_000_000;

const sample: RecordInput[] = [
  { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: BASE_TS },
  { key: null, value: Buffer.from('no key'), timestamp: BASE_TS + 5 },
  { key: Buffer.from('tombstone'), value: null, timestamp: BASE_TS - 3 },
  { key: Buffer.alloc(0), value: Buffer.alloc(0) },
  {
    key: Buffer.from('h'),
    value: Buffer.alloc(300, 7),
    headers: [
      { key: 'trace', value: Buffer.from('abc') },
      { key: 'nul', value: null },
      { key: 'ünï', value: Buffer.alloc(0) },
    ],
    timestamp: BASE_TS + 2 ** 40,
  },
];

test('varint and varlong writers agree with their size functions and with Reader', () => {
  const buf = Buffer.alloc(16);
  for (const v of [0, 1, -1, 63, -64, 64, -65, 8191, 8192, 2 ** 20, -(2 ** 27), 2 ** 31 - 1, -(2 ** 31)]) {
    const end = writeVarint(buf, 0, v);
    assert.equal(end, varintSize(v), `size of ${v}`);
    assert.equal(new Reader(buf, 0, end).readVarint(), v);
  }
  for (const v of [0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 40, -(2 ** 40), BASE_TS, -BASE_TS, 2 ** 51]) {
    const end = writeVarlong(buf, 0, v);
    assert.equal(end, varlongSize(v), `size of ${v}`);
    assert.equal(new Reader(buf, 0, end).readVarlong(), v);
  }
});

test('records round-trip: keys, null keys, null values, empty buffers, headers, timestamps', () => {
  const section = encodeRecords(sample, BASE_TS);
  assert.equal(section.length, recordsSize(sample, BASE_TS));
  assert.ok(recordsLayoutValid(section, 0, section.length, sample.length));
  const decoded = decodeRecordsSection(section, 0, section.length, sample.length, 100, BASE_TS);
  assert.equal(decoded.length, sample.length);
  decoded.forEach((d, i) => {
    const r = sample[i];
    assert.equal(d.offset, 100 + i);
    assert.equal(d.timestamp, r.timestamp ?? BASE_TS);
    assert.deepEqual(d.key, r.key);
    assert.deepEqual(d.value, r.value);
    assert.deepEqual(d.headers, r.headers ?? []);
  });
  // An empty key is not a null key.
  assert.notEqual(decoded[3].key, null);
  assert.equal(decoded[1].key, null);
});

test('LogAppendTime overrides every record timestamp', () => {
  const section = encodeRecords(sample, BASE_TS);
  const decoded = decodeRecordsSection(section, 0, section.length, sample.length, 0, BASE_TS, 42);
  assert.deepEqual(
    decoded.map((d) => d.timestamp),
    sample.map(() => 42),
  );
});

test('explicit offset deltas are kept and rejected by the layout check when not sequential', () => {
  const records = [
    { key: null, value: Buffer.from('a'), offsetDelta: 0 },
    { key: null, value: Buffer.from('b'), offsetDelta: 5 },
  ];
  const section = encodeRecords(records, 0);
  const decoded = decodeRecordsSection(section, 0, section.length, 2, 10, 0);
  assert.deepEqual(
    decoded.map((d) => d.offset),
    [10, 15],
  );
  assert.equal(recordsLayoutValid(section, 0, section.length, 2), false);
});

test('lying counts and trailing bytes are rejected', () => {
  const section = encodeRecords(sample, BASE_TS);
  const n = sample.length;
  assert.equal(recordsLayoutValid(section, 0, section.length, n + 1), false);
  assert.equal(recordsLayoutValid(section, 0, section.length, n - 1), false);
  assert.throws(() => decodeRecordsSection(section, 0, section.length, n + 1, 0, 0), RecordFormatError);
  assert.throws(() => decodeRecordsSection(section, 0, section.length, n - 1, 0, 0), RecordFormatError);
  const padded = Buffer.concat([section, Buffer.from([0])]);
  assert.equal(recordsLayoutValid(padded, 0, padded.length, n), false);
});

test('every truncation point is rejected by both the layout check and the decoder', () => {
  const section = encodeRecords(sample, BASE_TS);
  for (let cut = 0; cut < section.length; cut++) {
    assert.equal(recordsLayoutValid(section, 0, cut, sample.length), false, `cut at ${cut}`);
    assert.throws(() => decodeRecordsSection(section, 0, cut, sample.length, 0, 0), RecordFormatError, `cut at ${cut}`);
  }
});

test('hand-made malformed records are rejected', () => {
  // A well-formed minimal record: length 6, attributes, tsDelta 0, offsetDelta 0, null key, null
  // value, no headers (varints are zig-zag: 12 = 6, 1 = -1).
  const good = Buffer.from([12, 0, 0, 0, 1, 1, 0]);
  assert.ok(recordsLayoutValid(good, 0, good.length, 1));
  assert.equal(decodeRecordsSection(good, 0, good.length, 1, 0, 0)[0].value, null);
  const cases: [string, number[]][] = [
    ['key length below -1', [12, 0, 0, 0, 3, 1, 0]],
    ['null header key', [16, 0, 0, 0, 1, 1, 2, 1, 1]],
    ['negative header count', [12, 0, 0, 0, 1, 1, 1]],
    ['record length larger than its fields', [14, 0, 0, 0, 1, 1, 0, 0]],
    ['record length smaller than its fields', [10, 0, 0, 0, 1, 1, 0]],
    ['six-byte varint', [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
  ];
  for (const [name, bytes] of cases) {
    const buf = Buffer.from(bytes);
    assert.equal(recordsLayoutValid(buf, 0, buf.length, 1), false, name);
    assert.throws(() => decodeRecordsSection(buf, 0, buf.length, 1, 0, 0), RecordFormatError, name);
  }
});

test('random byte flips never crash the decoder or the layout check', () => {
  const section = encodeRecords(sample, BASE_TS);
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 2000; i++) {
    const copy = Buffer.from(section);
    copy[Math.floor(rand() * copy.length)] ^= 1 << Math.floor(rand() * 8);
    const ok = recordsLayoutValid(copy, 0, copy.length, sample.length);
    try {
      decodeRecordsSection(copy, 0, copy.length, sample.length, 0, 0);
    } catch (err) {
      assert.ok(err instanceof RecordFormatError);
      assert.equal(ok, false);
    }
  }
});

test('RecordFormatError is a KafkaError with INVALID_RECORD for malformed records', () => {
  try {
    decodeRecordsSection(Buffer.from([5]), 0, 1, 1, 0, 0);
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof KafkaError);
    assert.equal((err as KafkaError).code, 87);
  }
});

test('transaction marker and control key helpers', () => {
  const commit = endTxnMarkerRecord(true, 7, BASE_TS);
  assert.equal(controlTypeOf(commit.key), ControlType.Commit);
  assert.equal(coordinatorEpochOf(commit.value), 7);
  assert.equal(controlTypeOf(endTxnMarkerRecord(false, 0).key), ControlType.Abort);
  assert.deepEqual(encodeControlKey(ControlType.LeaderChange), Buffer.from([0, 0, 0, 2]));
  assert.equal(controlTypeOf(Buffer.from([0, 0])), -1);
  assert.equal(controlTypeOf(null), -1);
});
