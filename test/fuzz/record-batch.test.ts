// Record-level fuzzing: the produce path's batch checks and the record decoders, on mutated v2
// batches of every codec and on mutated magic 0/1 message sets. validateBatch must answer with an
// error code and never throw; decoding and conversion must fail only with KafkaErrors (which carry
// the code to answer with: CORRUPT_MESSAGE, INVALID_RECORD, MESSAGE_TOO_LARGE...). Compression
// bombs of every codec are refused at the cap, not expanded. Seeded like decoder.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildRecordBatch, validateBatch, validateBatchRecords, decodeRecords, Compression, RECORDS_COUNT,
  LAST_OFFSET_DELTA, BATCH_LENGTH, recomputeCrc, type CompressionType,
} from '../../src/protocol/record-batch.ts';
import { convertLegacyToV2, convertV2ToLegacy } from '../../src/protocol/legacy-message-set.ts';
import { compress, decompress, CompressionError } from '../../src/protocol/compression/index.ts';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';
import { fuzzSeed, mulberry32, mutate, randInt } from './mutations.ts';

const SEED = fuzzSeed();
const CASES = Math.max(2000, Math.floor(Number(process.env.BROOK_FUZZ_CASES ?? 100_000) / 4));
console.log(`record batch fuzz: seed=${SEED} (replay with BROOK_FUZZ_SEED=${SEED}), ${CASES} cases`);

const CODECS: CompressionType[] = [Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd];
const CAP = 1 << 20;

function sampleBatches(): Buffer[] {
  const rng = mulberry32(SEED);
  const out: Buffer[] = [];
  for (const compression of CODECS) {
    for (let n = 1; n <= 3; n++) {
      const records = Array.from({ length: n }, (_, i) => ({
        key: rng() < 0.3 ? null : Buffer.from(`key-${i}`),
        value: Buffer.alloc(randInt(rng, 0, 200), randInt(rng, 0, 255)),
        headers: rng() < 0.5 ? [] : [{ key: 'h', value: Buffer.from('v') }],
        timestamp: 1_700_000_000_000 + i,
      }));
      out.push(buildRecordBatch({ records, compression }));
    }
  }
  return out;
}

test('mutated v2 batches: validateBatch answers with a code, decoders fail only with KafkaError', () => {
  const rng = mulberry32(SEED ^ 0x27d4eb2f);
  const batches = sampleBatches();
  for (const b of batches) assert.equal(validateBatch(b, 0, { maxMessageBytes: CAP }), 0, 'samples are valid');
  const failures: string[] = [];
  const codes = new Map<number, number>();
  for (let i = 0; i < CASES; i++) {
    const original = batches[i % batches.length];
    let { bytes, how } = mutate(original, rng);
    // Half the time fix the CRC, so the checks behind it see the damage too.
    if (bytes.length >= 61 && rng() < 0.5) {
      const len = bytes.readInt32BE(BATCH_LENGTH);
      if (len >= 49 && len + 12 <= bytes.length) {
        bytes = Buffer.from(bytes);
        recomputeCrc(bytes, 0);
        how += '+crc';
      }
    }
    try {
      const code = validateBatch(bytes, 0, { maxMessageBytes: CAP });
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (code === 0) {
        const deep = validateBatchRecords(bytes, 0, CAP);
        if (deep === 0) decodeRecords(bytes, CAP);
      } else {
        try {
          decodeRecords(bytes, CAP);
        } catch (e) {
          if (!(e instanceof KafkaError)) throw e;
        }
      }
    } catch (e) {
      if (!(e instanceof KafkaError) && failures.length < 10) failures.push(`${how}: ${(e as Error)?.stack ?? e} ${bytes.subarray(0, 80).toString('hex')}`);
    }
  }
  console.log(`validateBatch codes: ${JSON.stringify(Object.fromEntries(codes))}`);
  assert.deepEqual(failures, [], `seed ${SEED}`);
  assert.ok((codes.get(ErrorCode.CORRUPT_MESSAGE) ?? 0) > 0 && (codes.get(ErrorCode.INVALID_RECORD) ?? 0) > 0);
});

test('record counts and offset deltas that lie are INVALID_RECORD, a bad CRC is CORRUPT_MESSAGE', () => {
  for (const b of sampleBatches().filter((x) => (x[22] & 7) === 0)) {
    const count = Buffer.from(b);
    count.writeInt32BE(count.readInt32BE(RECORDS_COUNT) + 1, RECORDS_COUNT);
    recomputeCrc(count, 0);
    assert.equal(validateBatch(count, 0), ErrorCode.INVALID_RECORD, 'count one more than the records');
    const delta = Buffer.from(b);
    delta.writeInt32BE(delta.readInt32BE(LAST_OFFSET_DELTA) + 5, LAST_OFFSET_DELTA);
    recomputeCrc(delta, 0);
    assert.equal(validateBatch(delta, 0), ErrorCode.INVALID_RECORD, 'offset delta beyond the count');
    const crc = Buffer.from(b);
    crc[crc.length - 1] ^= 0x40;
    assert.equal(validateBatch(crc, 0), ErrorCode.CORRUPT_MESSAGE, 'flipped bit under the CRC');
  }
});

test('mutated magic 0/1 message sets fail conversion only with KafkaError', () => {
  const rng = mulberry32(SEED ^ 0x165667b1);
  const sets = [0, 1].flatMap((magic) => sampleBatches().map((b) => convertV2ToLegacy(b, magic as 0 | 1)));
  const failures: string[] = [];
  for (let i = 0; i < Math.floor(CASES / 2); i++) {
    const { bytes, how } = mutate(sets[i % sets.length], rng);
    try {
      convertLegacyToV2(bytes, CAP);
    } catch (e) {
      if (!(e instanceof KafkaError) && failures.length < 10) failures.push(`${how}: ${(e as Error)?.stack ?? e}`);
    }
  }
  assert.deepEqual(failures, [], `seed ${SEED}`);
});

test('compression bombs of every codec stop at the cap with MESSAGE_TOO_LARGE', () => {
  const zeros = Buffer.alloc(64 << 20);
  for (const codec of CODECS.filter((c) => c !== Compression.None)) {
    const bomb = compress(codec, zeros);
    assert.ok(bomb.length < zeros.length / 20, `codec ${codec} packs 64 MiB of zeros into ${bomb.length} bytes`);
    assert.throws(() => decompress(codec, bomb, CAP), (e: unknown) => e instanceof CompressionError && e.kind === 'too-large' && e.code === ErrorCode.MESSAGE_TOO_LARGE, `codec ${codec}`);
    // Inside a batch: the deep check and the decoder refuse it the same way.
    const batch = buildRecordBatch({ records: [{ key: null, value: Buffer.from('x') }], compression: codec });
    const framed = Buffer.concat([batch.subarray(0, 61), bomb]);
    framed.writeInt32BE(framed.length - 12, BATCH_LENGTH);
    recomputeCrc(framed, 0);
    assert.equal(validateBatchRecords(framed, 0, CAP), ErrorCode.MESSAGE_TOO_LARGE, `codec ${codec} in a batch`);
    assert.throws(() => decodeRecords(framed, CAP), KafkaError);
  }
});
