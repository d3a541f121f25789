// Seeded mutations of encoded Kafka messages, shared by the decoder fuzz test and the end-to-end
// frame fuzzer (scripts/fuzz-frames.ts). Each mutator models a way a hostile or broken peer lies:
// flipped bits, replaced or inserted bytes, truncation, a length or count that claims more than
// the frame holds, varints longer than the 5 (int) / 10 (long) bytes KIP-482 allows.
import type { Rng } from '../protocol/schema-samples.ts';

export { mulberry32, type Rng } from '../protocol/schema-samples.ts';

/** The seed from `envName` if set, else a fresh random one (printed by the caller, so a failure replays). */
export function fuzzSeed(envName = 'BROOK_FUZZ_SEED'): number {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return Number(fromEnv) >>> 0;
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

export const randInt = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];

/** Values that sit on the edges decoders get wrong: null markers, sign bits, counts near the limits. */
const INT32_EDGES = [-1, -2, 0, 1, 0x7fffffff, -0x80000000, 0x7ffffffe, 0x10000, 0x01000000];
const INT16_EDGES = [-1, -2, 0, 1, 0x7fff, -0x8000, 0x100];

export function uvarint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function splice(buf: Buffer, at: number, remove: number, insert: Buffer): Buffer {
  return Buffer.concat([buf.subarray(0, at), insert, buf.subarray(Math.min(buf.length, at + remove))]);
}

function overwrite(buf: Buffer, at: number, bytes: Buffer): Buffer {
  const out = Buffer.from(buf);
  bytes.copy(out, at, 0, Math.max(0, Math.min(bytes.length, out.length - at)));
  return out;
}

export interface Mutator {
  name: string;
  apply(buf: Buffer, rng: Rng): Buffer;
}

export const MUTATORS: readonly Mutator[] = [
  {
    name: 'bit-flip',
    apply(buf, rng) {
      if (buf.length === 0) return Buffer.from([randInt(rng, 0, 255)]);
      const out = Buffer.from(buf);
      for (let i = randInt(rng, 1, 4); i > 0; i--) out[randInt(rng, 0, out.length - 1)] ^= 1 << randInt(rng, 0, 7);
      return out;
    },
  },
  {
    name: 'byte-replace',
    apply(buf, rng) {
      if (buf.length === 0) return Buffer.from([0xff]);
      const out = Buffer.from(buf);
      for (let i = randInt(rng, 1, 4); i > 0; i--) out[randInt(rng, 0, out.length - 1)] = pick(rng, [0x00, 0xff, 0x7f, 0x80, 0x01, randInt(rng, 0, 255)]);
      return out;
    },
  },
  {
    name: 'truncate',
    apply(buf, rng) {
      return buf.subarray(0, randInt(rng, 0, Math.max(0, buf.length - 1)));
    },
  },
  {
    name: 'insert-bytes',
    apply(buf, rng) {
      const junk = Buffer.from(Array.from({ length: randInt(rng, 1, 16) }, () => randInt(rng, 0, 255)));
      return splice(buf, randInt(rng, 0, buf.length), 0, junk);
    },
  },
  {
    name: 'delete-bytes',
    apply(buf, rng) {
      if (buf.length === 0) return buf;
      return splice(buf, randInt(rng, 0, buf.length - 1), randInt(rng, 1, 8), Buffer.alloc(0));
    },
  },
  {
    name: 'lying-int32',
    apply(buf, rng) {
      const b = Buffer.alloc(4);
      b.writeInt32BE(pick(rng, [...INT32_EDGES, buf.length + 1, buf.length * 2 + 7]) | 0);
      return overwrite(buf, randInt(rng, 0, Math.max(0, buf.length - 1)), b);
    },
  },
  {
    name: 'lying-int16',
    apply(buf, rng) {
      const b = Buffer.alloc(2);
      b.writeInt16BE(pick(rng, [...INT16_EDGES, Math.min(0x7fff, buf.length + 1)]));
      return overwrite(buf, randInt(rng, 0, Math.max(0, buf.length - 1)), b);
    },
  },
  {
    name: 'lying-uvarint',
    apply(buf, rng) {
      const n = pick(rng, [0xffffffff, 0x7fffffff, buf.length + 2, 0x10000, 0]);
      return splice(buf, randInt(rng, 0, buf.length), randInt(rng, 0, 2), uvarint(n));
    },
  },
  {
    name: 'overlong-varint',
    apply(buf, rng) {
      // Continuation bits past the 5th (int) or 10th (long) byte.
      const len = pick(rng, [6, 7, 11, 12, 20]);
      const v = Buffer.alloc(len, 0xff);
      v[len - 1] = rng() < 0.5 ? 0x01 : 0xff;
      return splice(buf, randInt(rng, 0, buf.length), randInt(rng, 0, 1), v);
    },
  },
  {
    name: 'duplicate-range',
    apply(buf, rng) {
      if (buf.length < 2) return Buffer.concat([buf, buf]);
      const from = randInt(rng, 0, buf.length - 1);
      const piece = buf.subarray(from, Math.min(buf.length, from + randInt(rng, 1, 32)));
      return splice(buf, randInt(rng, 0, buf.length), 0, piece);
    },
  },
  {
    name: 'random-bytes',
    apply(buf, rng) {
      return Buffer.from(Array.from({ length: randInt(rng, 0, Math.max(8, buf.length)) }, () => randInt(rng, 0, 255)));
    },
  },
];

/** One to three stacked mutations; returns the bytes and the mutators' names. */
export function mutate(buf: Buffer, rng: Rng): { bytes: Buffer; how: string } {
  let out = buf;
  const names: string[] = [];
  for (let i = rng() < 0.75 ? 1 : randInt(rng, 2, 3); i > 0; i--) {
    const m = pick(rng, MUTATORS);
    out = m.apply(out, rng);
    names.push(m.name);
  }
  return { bytes: out, how: names.join('+') };
}
