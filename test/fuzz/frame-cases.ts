// Malformed frames for the end-to-end fuzzer (scripts/fuzz-frames.ts), each with the reaction it
// must get from the broker:
//   close  — a size prefix that is negative / zero / over the limit, an unknown API key or version,
//            a header or body the codec rejects: the broker closes the connection without an answer;
//   answer — ApiVersions at an unknown version (KIP-511), a Produce with a bad CRC (the answer must
//            carry CORRUPT_MESSAGE) or a compression bomb: the broker answers;
//   any    — a mutation that still decodes is a valid request: an answer, a close, or a wait (long
//            poll, acks=0) are all fine.
// Requests that change cluster state (topics, configs, records, groups) are only sent when the
// mutation makes them undecodable, so a run cannot create 100,000-partition topics or rewrite the
// broker's configuration by accident.
import { Reader } from '../../src/protocol/reader.ts';
import { Writer } from '../../src/protocol/writer.ts';
import { API_CODECS } from '../../src/protocol/generated/api-index.ts';
import { readRequestHeader, isFlexibleRequest, writeRequestHeader } from '../../src/protocol/request-header.ts';
import { buildRecordBatch, CRC, Compression, type CompressionType } from '../../src/protocol/record-batch.ts';
import type { MessageSample } from './samples.ts';
import { mutate, pick, randInt, type Rng } from './mutations.ts';

export type Expect = 'close' | 'answer' | 'any';

export interface FrameCase {
  kind: string;
  bytes: Buffer;
  expect: Expect;
  correlationId: number;
  /** For answers: the partition error codes the answer must carry (Produce), if any. */
  expectErrorCode?: number;
  /** The client closes its side after writing (a frame cut short by a disconnect). */
  endAfterWrite?: boolean;
}

/** API keys whose valid requests change topics, configs, records or groups. */
const STATEFUL = new Set([0, 8, 19, 20, 21, 33, 37, 42, 44, 47]);

export interface FrameContext {
  samples: MessageSample[];
  /** apiKey → [min, max] advertised by the broker. */
  ranges: ReadonlyMap<number, readonly [number, number]>;
  maxRequestBytes: number;
  /** A topic with one partition that bad-CRC produces target. */
  topic: string;
  /** A topic the compression bombs go to. */
  bombTopic: string;
  bombs: Buffer[];
}

function withHeader(apiKey: number, version: number, correlationId: number, body: Buffer, clientId: string | null = 'fuzz'): Buffer {
  const w = new Writer(64 + body.length);
  writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId }, isFlexibleRequest(apiKey, version));
  w.writeRaw(body);
  return w.toBuffer();
}

export function sized(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

/** What the broker will make of `payload` (the frame without its size prefix), judged with the same codec. */
export function classify(payload: Buffer, ranges: FrameContext['ranges']): { decodes: boolean; apiKey: number; apiVersion: number } {
  const r = new Reader(payload);
  try {
    const h = readRequestHeader(r);
    const range = ranges.get(h.apiKey);
    if (range === undefined || h.apiVersion < range[0] || h.apiVersion > range[1]) return { decodes: false, apiKey: h.apiKey, apiVersion: h.apiVersion };
    if (isFlexibleRequest(h.apiKey, h.apiVersion)) r.readTaggedFields();
    API_CODECS.get(h.apiKey)!.decodeRequest(r, h.apiVersion);
    return { decodes: true, apiKey: h.apiKey, apiVersion: h.apiVersion };
  } catch {
    return { decodes: false, apiKey: -1, apiVersion: -1 };
  }
}

function produceFrame(correlationId: number, version: number, topic: string, records: Buffer): Buffer {
  const w = new Writer(256 + records.length);
  writeRequestHeader(w, { apiKey: 0, apiVersion: version, correlationId, clientId: 'fuzz' }, isFlexibleRequest(0, version));
  API_CODECS.get(0)!.encodeRequest(w, {
    transactionalId: null, acks: 1, timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  }, version);
  return sized(w.toBuffer());
}

/** Compression bombs: one record of `bytes` zeros per codec, packed by the codec (built once). */
export function buildBombs(bytes = 64 << 20): Buffer[] {
  return ([Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd] as CompressionType[]).map((codec) =>
    // Snappy packs zeros only ~20:1; keep its batch under max.message.bytes.
    buildRecordBatch({ records: [{ key: null, value: Buffer.alloc(codec === Compression.Snappy ? bytes >> 4 : bytes) }], compression: codec }));
}

const KINDS = [
  'mutated-body', 'mutated-body', 'mutated-body', 'mutated-frame', 'truncated-body', 'size-edge',
  'unknown-key', 'unknown-version', 'api-versions-unknown-version', 'bad-crc-produce', 'random-bytes',
  'cut-and-disconnect', 'bomb-produce',
] as const;

/** The next malformed frame. `correlationId` is set on frames that keep a well-formed header. */
export function nextCase(ctx: FrameContext, rng: Rng, correlationId: number): FrameCase {
  let kind: (typeof KINDS)[number] = pick(rng, KINDS);
  if (kind === 'bomb-produce' && rng() > 0.05) kind = 'mutated-body'; // bombs are stored: keep them rare
  switch (kind) {
    case 'size-edge': {
      const size = pick(rng, [-1, -2, -(2 ** 31), 0, 2 ** 31 - 1, ctx.maxRequestBytes + 1, 0x40000000]);
      const b = Buffer.alloc(4 + randInt(rng, 0, 16));
      b.writeInt32BE(size | 0, 0);
      // Size 0 means an empty frame: no header, so it closes too.
      return { kind, bytes: b.subarray(0, size === 0 ? 4 : b.length), expect: 'close', correlationId };
    }
    case 'unknown-key': {
      let key = randInt(rng, -32768, 32767);
      while (ctx.ranges.has(key)) key = randInt(rng, -32768, 32767);
      return { kind, bytes: sized(withHeader(key, randInt(rng, 0, 20), correlationId, Buffer.alloc(randInt(rng, 0, 32)))), expect: 'close', correlationId };
    }
    case 'unknown-version': {
      const keys = [...ctx.ranges.keys()].filter((k) => k !== 18);
      const key = pick(rng, keys);
      const [, max] = ctx.ranges.get(key)!;
      const version = rng() < 0.5 ? randInt(rng, max + 1, 32767) : randInt(rng, -32768, -1);
      return { kind, bytes: sized(withHeader(key, version, correlationId, Buffer.alloc(randInt(rng, 0, 32)))), expect: 'close', correlationId };
    }
    case 'api-versions-unknown-version': {
      const version = randInt(rng, ctx.ranges.get(18)![1] + 1, 32767);
      return { kind, bytes: sized(withHeader(18, version, correlationId, Buffer.alloc(randInt(rng, 0, 16)))), expect: 'answer', correlationId };
    }
    case 'bad-crc-produce': {
      const batch = buildRecordBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from(`v${correlationId}`) }] });
      batch[CRC + randInt(rng, 0, 3)] ^= 1 << randInt(rng, 0, 7);
      return { kind, bytes: produceFrame(correlationId, randInt(rng, 3, ctx.ranges.get(0)![1]), ctx.topic, batch), expect: 'answer', correlationId, expectErrorCode: 2 };
    }
    case 'bomb-produce':
      return { kind, bytes: produceFrame(correlationId, randInt(rng, 3, ctx.ranges.get(0)![1]), ctx.bombTopic, pick(rng, ctx.bombs)), expect: 'answer', correlationId };
    case 'random-bytes': {
      const payload = Buffer.from(Array.from({ length: randInt(rng, 0, 64) }, () => randInt(rng, 0, 255)));
      return judged(kind, payload, ctx, correlationId, rng);
    }
    case 'cut-and-disconnect': {
      const s = pick(rng, ctx.samples);
      const full = sized(withHeader(s.apiKey, s.version, correlationId, s.bytes));
      return { kind, bytes: full.subarray(0, randInt(rng, 1, full.length - 1)), expect: 'close', correlationId, endAfterWrite: true };
    }
    case 'truncated-body':
    case 'mutated-body':
    case 'mutated-frame': {
      const s = pick(rng, ctx.samples);
      let payload: Buffer;
      if (kind === 'truncated-body') payload = withHeader(s.apiKey, s.version, correlationId, s.bytes.subarray(0, randInt(rng, 0, Math.max(0, s.bytes.length - 1))));
      else if (kind === 'mutated-body') payload = withHeader(s.apiKey, s.version, correlationId, mutate(s.bytes, rng).bytes);
      else payload = mutate(withHeader(s.apiKey, s.version, correlationId, s.bytes), rng).bytes;
      return judged(kind, payload, ctx, correlationId, rng);
    }
  }
}

function judged(kind: string, payload: Buffer, ctx: FrameContext, correlationId: number, rng: Rng): FrameCase {
  if (payload.length > ctx.maxRequestBytes) payload = payload.subarray(0, ctx.maxRequestBytes);
  const c = classify(payload, ctx.ranges);
  if (!c.decodes) {
    // An ApiVersions header at an unknown version is answered (KIP-511), whatever follows it.
    const av = payload.length >= 8 && payload.readInt16BE(0) === 18 && !inRange(ctx, 18, payload.readInt16BE(2));
    const headerOk = av && headerReadable(payload);
    return { kind, bytes: sized(payload), expect: headerOk ? 'answer' : 'close', correlationId: headerOk ? payload.readInt32BE(4) : correlationId };
  }
  if (STATEFUL.has(c.apiKey)) return nextCase(ctx, rng, correlationId);
  return { kind, bytes: sized(payload), expect: 'any', correlationId: payload.readInt32BE(4) };
}

function inRange(ctx: FrameContext, key: number, version: number): boolean {
  const r = ctx.ranges.get(key);
  return r !== undefined && version >= r[0] && version <= r[1];
}

function headerReadable(payload: Buffer): boolean {
  try {
    readRequestHeader(new Reader(payload));
    return true;
  } catch {
    return false;
  }
}
