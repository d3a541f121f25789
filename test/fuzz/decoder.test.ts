// Decoder fuzzing: every request and response schema at every version (API_CODECS), seeded.
// Valid messages must round-trip; mutated and truncated ones (bit flips, replaced/inserted/deleted
// bytes, lying int16/int32/varint lengths and counts, over-long varints) must either decode or
// throw the codec's own ProtocolError — never another exception — and a decoded value may not hold
// more than a small constant number of objects per input byte (no allocation beyond the frame).
// The seed is printed; BROOK_FUZZ_SEED=<n> replays a run, BROOK_FUZZ_CASES=<n> changes the count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader, ProtocolError } from '../../src/protocol/reader.ts';
import { API_CODECS } from '../../src/protocol/generated/api-index.ts';
import { messageSamples, type MessageSample } from './samples.ts';
import { fuzzSeed, mulberry32, mutate, uvarint, pick } from './mutations.ts';

const SEED = fuzzSeed();
const CASES = Number(process.env.BROOK_FUZZ_CASES ?? 100_000);
/** Objects, array slots and scalars a decoded value may hold per input byte, plus a constant. */
const MAX_NODES_PER_BYTE = 8;
const NODE_SLACK = 64;

console.log(`decoder fuzz: seed=${SEED} (replay with BROOK_FUZZ_SEED=${SEED}), ${CASES} mutated cases`);

const { samples, source } = await messageSamples({ seed: SEED, perVersion: 3, responses: true });
const requests = samples.filter((s) => s.kind === 'request');
const responses = samples.filter((s) => s.kind === 'response');

/** Counts the values a decoded message holds (objects, array elements, scalars). */
function nodes(value: unknown): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    n++;
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) continue;
    if (Array.isArray(v)) for (const e of v) stack.push(e);
    else for (const k in v) stack.push((v as Record<string, unknown>)[k]);
  }
  return n;
}

interface Failure {
  what: string;
  error: string;
  hex: string;
}

class Outcomes {
  cases = 0;
  decoded = 0;
  rejected = 0;
  maxRatio = 0;
  readonly failures: Failure[] = [];

  run(s: MessageSample, bytes: Buffer, how: string): void {
    this.cases++;
    let value: unknown;
    try {
      value = s.decode(new Reader(bytes), s.version);
    } catch (e) {
      if (e instanceof ProtocolError) {
        this.rejected++;
        return;
      }
      this.fail(s, how, bytes, `${(e as Error)?.name}: ${(e as Error)?.message ?? e}`);
      return;
    }
    this.decoded++;
    const count = nodes(value);
    this.maxRatio = Math.max(this.maxRatio, count / Math.max(1, bytes.length));
    if (count > MAX_NODES_PER_BYTE * bytes.length + NODE_SLACK) {
      this.fail(s, how, bytes, `decoded ${count} values from ${bytes.length} bytes`);
    }
  }

  private fail(s: MessageSample, how: string, bytes: Buffer, error: string): void {
    if (this.failures.length < 10) {
      this.failures.push({ what: `${s.name} v${s.version} (${how})`, error, hex: bytes.subarray(0, 96).toString('hex') });
    }
  }

  check(label: string): void {
    console.log(`${label}: ${this.cases} cases, ${this.decoded} decoded, ${this.rejected} rejected with ProtocolError, `
      + `max ${this.maxRatio.toFixed(2)} values per byte`);
    assert.deepEqual(this.failures, [], `${label} (seed ${SEED}): decoders failed other than with ProtocolError`);
  }
}

test('the samples cover every API key and version, requests and responses', () => {
  console.log(`samples from ${source}: ${requests.length} requests, ${responses.length} responses`);
  for (const codec of API_CODECS.values()) {
    for (let v = codec.minVersion; v <= codec.maxVersion; v++) {
      assert.ok(requests.some((s) => s.apiKey === codec.apiKey && s.version === v), `${codec.name} request v${v}`);
      assert.ok(responses.some((s) => s.apiKey === codec.apiKey && s.version === v), `${codec.name} response v${v}`);
    }
  }
});

test('every sample round-trips at its version', () => {
  for (const s of samples) {
    const r = new Reader(s.bytes);
    const back = s.decode(r, s.version);
    assert.equal(r.remaining, 0, `${s.name} v${s.version}: trailing bytes`);
    assert.deepEqual(back, s.value, `${s.name} v${s.version}`);
  }
});

test('a huge claimed length or count on a tiny buffer throws ProtocolError without allocating it', () => {
  const int32 = (n: number) => {
    const b = Buffer.alloc(6);
    b.writeInt32BE(n, 0);
    return b;
  };
  const int16 = (n: number) => {
    const b = Buffer.alloc(3);
    b.writeInt16BE(n, 0);
    return b;
  };
  const huge = uvarint(0xffffffff);
  const cases: [string, Buffer, (r: Reader) => unknown][] = [
    ['array length 2^31-1', int32(0x7fffffff), (r) => r.readArrayLength()],
    ['bytes length 2^31-1', int32(0x7fffffff), (r) => r.readBytes()],
    ['nullable bytes length 2^31-1', int32(0x7fffffff), (r) => r.readNullableBytes()],
    ['string length 32767', int16(0x7fff), (r) => r.readString()],
    ['compact array length 2^32-2', Buffer.concat([huge, Buffer.alloc(2)]), (r) => r.readCompactArrayLength()],
    ['compact string length 2^32-2', Buffer.concat([huge, Buffer.alloc(2)]), (r) => r.readCompactString()],
    ['compact bytes length 2^32-2', Buffer.concat([huge, Buffer.alloc(2)]), (r) => r.readCompactBytes()],
    ['tagged field count 2^32-1', Buffer.concat([huge, Buffer.alloc(2)]), (r) => r.readTaggedFields()],
    ['tagged field size 2^32-1', Buffer.concat([uvarint(1), uvarint(0), huge]), (r) => r.readTaggedFields()],
    ['raw length -1', Buffer.alloc(4), (r) => r.readRaw(-1)],
    ['6-byte varint', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), (r) => r.readUVarint()],
    ['11-byte varlong', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), (r) => r.readVarlong()],
  ];
  const before = process.memoryUsage().arrayBuffers;
  for (let round = 0; round < 1000; round++) {
    for (const [what, bytes, read] of cases) {
      assert.throws(() => read(new Reader(bytes)), ProtocolError, what);
    }
  }
  // Every request decoder, fed a frame that claims 2^31-1 of whatever comes first.
  for (const codec of API_CODECS.values()) {
    for (let v = codec.minVersion; v <= codec.maxVersion; v++) {
      for (const bytes of [Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(8, 0xff)]) {
        try {
          codec.decodeRequest(new Reader(bytes), v);
        } catch (e) {
          assert.ok(e instanceof ProtocolError, `${codec.name} v${v}: ${e}`);
        }
      }
    }
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 64 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
});

test('every prefix and every lying int32/int16/varint position of each request sample is handled', () => {
  const out = new Outcomes();
  const lies = [0x7fffffff, -1, -2, 0x01000000];
  for (const s of requests) {
    for (let cut = 0; cut < s.bytes.length; cut++) out.run(s, s.bytes.subarray(0, cut), `prefix ${cut}`);
    for (let at = 0; at < s.bytes.length; at++) {
      const lie = Buffer.from(s.bytes);
      const n = lies[at % lies.length];
      if (at + 4 <= lie.length) lie.writeInt32BE(n, at);
      else lie[at] = 0xff;
      out.run(s, lie, `int32 ${n} at ${at}`);
      const short = Buffer.from(s.bytes);
      if (at + 2 <= short.length) {
        short.writeInt16BE(at % 2 === 0 ? 0x7fff : -2, at);
        out.run(s, short, `int16 at ${at}`);
      }
      const v = Buffer.concat([s.bytes.subarray(0, at), uvarint(0xffffffff), s.bytes.subarray(at + 1)]);
      out.run(s, v, `uvarint 2^32-1 at ${at}`);
    }
  }
  out.check('exhaustive request positions');
});

test(`${CASES} randomly mutated requests raise only ProtocolError`, () => {
  const rng = mulberry32(SEED ^ 0x9e3779b9);
  const out = new Outcomes();
  for (let i = 0; i < CASES; i++) {
    const s = requests[i % requests.length];
    const { bytes, how } = mutate(s.bytes, rng);
    out.run(s, bytes, how);
  }
  assert.ok(out.cases >= CASES);
  out.check('mutated requests');
});

test('randomly mutated responses (what a hostile broker could send our client) raise only ProtocolError', () => {
  const rng = mulberry32(SEED ^ 0x85ebca6b);
  const out = new Outcomes();
  const n = Math.max(1000, Math.floor(CASES / 4));
  for (let i = 0; i < n; i++) {
    const s = pick(rng, responses);
    const { bytes, how } = mutate(s.bytes, rng);
    out.run(s, bytes, how);
  }
  out.check('mutated responses');
});
