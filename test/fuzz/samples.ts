// Valid encoded messages for every API key and version in API_CODECS, the seeds of the fuzzers.
// With Kafka's schemas beside the repo (../shared/kafka-protocol) each message gets random field
// values from the schema model (test/protocol/schema-samples.ts); without them, each version's
// default-valued message is used, so the fuzzers still cover every key and version.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_CODECS } from '../../src/protocol/generated/api-index.ts';
import type { Reader } from '../../src/protocol/reader.ts';
import { Writer } from '../../src/protocol/writer.ts';
import { parseAll } from '../../scripts/codegen/generate.ts';
import { kebab } from '../../scripts/codegen/emit.ts';
import type { MessageSpec } from '../../scripts/codegen/schema.ts';
import { sampleValue, mulberry32 } from '../protocol/schema-samples.ts';

export interface MessageSample {
  apiKey: number;
  version: number;
  /** e.g. ProduceRequest */
  name: string;
  kind: 'request' | 'response';
  value: unknown;
  bytes: Buffer;
  decode: (r: Reader, version: number) => unknown;
  encode: (w: Writer, v: unknown, version: number) => void;
}

const root = fileURLToPath(new URL('../..', import.meta.url));
export const schemaRoot = join(root, '..', 'shared', 'kafka-protocol');

function specsByName(): Map<string, MessageSpec> | null {
  if (!existsSync(join(schemaRoot, 'messages'))) return null;
  const parsed = parseAll(schemaRoot, (d) => readdirSync(d), (p) => readFileSync(p, 'utf8'));
  return new Map(parsed.filter((p) => p.dir === 'messages').map((p) => [p.spec.name, p.spec]));
}

/**
 * `perVersion` samples of every request (and response, if asked) at every version. Returns where
 * the values came from: 'schemas' (random values) or 'defaults'.
 */
export async function messageSamples(opts: { seed: number; perVersion: number; responses?: boolean }): Promise<{ samples: MessageSample[]; source: 'schemas' | 'defaults' }> {
  const specs = specsByName();
  const rng = mulberry32(opts.seed);
  const samples: MessageSample[] = [];
  const kinds: ('request' | 'response')[] = opts.responses ? ['request', 'response'] : ['request'];
  for (const codec of API_CODECS.values()) {
    for (const kind of kinds) {
      const name = `${codec.name}${kind === 'request' ? 'Request' : 'Response'}`;
      const mod = await import(`../../src/protocol/generated/${kebab(name)}.ts`) as Record<string, (...a: any[]) => any>;
      const spec = specs?.get(name);
      const decode = kind === 'request' ? codec.decodeRequest : codec.decodeResponse;
      const encode = kind === 'request' ? codec.encodeRequest : codec.encodeResponse;
      for (let version = codec.minVersion; version <= codec.maxVersion; version++) {
        const count = spec === undefined ? 1 : opts.perVersion;
        for (let i = 0; i < count; i++) {
          const value = spec === undefined ? mod[`create${name}`]() : sampleValue(spec, mod, version, rng);
          const w = new Writer();
          encode(w, value, version);
          samples.push({ apiKey: codec.apiKey, version, name, kind, value, bytes: w.toBuffer(), decode, encode });
        }
      }
    }
  }
  return { samples, source: specs === null ? 'defaults' : 'schemas' };
}
