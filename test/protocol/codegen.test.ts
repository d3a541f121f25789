import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAll, parseAll } from '../../scripts/codegen/generate.ts';
import { kebab } from '../../scripts/codegen/emit.ts';
import { Reader, ProtocolError } from '../../src/protocol/reader.ts';
import { Writer } from '../../src/protocol/writer.ts';
import { sampleValue, mulberry32 } from './schema-samples.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const schemaRoot = join(root, '..', 'shared', 'kafka-protocol');
const haveSchemas = existsSync(join(schemaRoot, 'messages'));
const list = (d: string) => readdirSync(d);
const read = (p: string) => readFileSync(p, 'utf8');

test('generated code is up to date with the schemas', { skip: haveSchemas ? false : 'no ../shared/kafka-protocol beside the repo' }, () => {
  const files = generateAll(schemaRoot, list, read);
  for (const [rel, text] of files) {
    const current = readFileSync(join(root, 'src', 'protocol', 'generated', rel), 'utf8');
    assert.equal(current, text, `${rel} differs: run npm run codegen`);
  }
  const onDisk = readdirSync(join(root, 'src', 'protocol', 'generated'), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile()).length;
  assert.equal(onDisk, files.size, 'stray files in src/protocol/generated');
});

test('no schema prose reaches the generated code', { skip: haveSchemas ? false : 'no schemas' }, () => {
  const parsed = parseAll(schemaRoot, list, read);
  const abouts = new Set<string>();
  for (const p of parsed) {
    const raw = read(join(schemaRoot, p.dir, p.file));
    for (const m of raw.matchAll(/"about":\s*"([^"]{25,})"/g)) abouts.add(m[1]);
  }
  const dir = join(root, 'src', 'protocol', 'generated');
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    if (!f.endsWith('.ts')) continue;
    const text = readFileSync(join(dir, f), 'utf8');
    for (const a of abouts) assert.ok(!text.includes(a), `${f} contains schema prose: ${a}`);
  }
});

test('every message round-trips at every version', { skip: haveSchemas ? false : 'no schemas' }, async () => {
  const parsed = parseAll(schemaRoot, list, read);
  let cases = 0;
  for (const p of parsed) {
    const sub = p.dir === 'messages' ? '' : `${p.dir}/`;
    const mod = await import(`../../src/protocol/generated/${sub}${kebab(p.spec.name)}.ts`);
    const name = p.spec.name;
    for (let version = p.spec.validVersions.min; version <= p.spec.validVersions.max; version++) {
      for (let seed = 0; seed < 4; seed++) {
        const rng = mulberry32(seed * 7919 + version * 31 + name.length);
        const value = sampleValue(p.spec, mod, version, rng);
        const w = new Writer();
        mod[`encode${name}`](w, value, version);
        const bytes = w.toBuffer();
        const r = new Reader(bytes);
        const back = mod[`decode${name}`](r, version);
        assert.equal(r.remaining, 0, `${name} v${version}: trailing bytes`);
        assert.deepEqual(back, value, `${name} v${version} seed ${seed}`);
        const w2 = new Writer();
        mod[`encode${name}`](w2, back, version);
        assert.ok(w2.toBuffer().equals(bytes), `${name} v${version}: re-encoding differs`);
        // Every strict prefix must fail with the codec's own error, never anything else.
        for (const cut of [0, bytes.length >> 1, bytes.length - 1]) {
          if (cut >= bytes.length) continue;
          try {
            mod[`decode${name}`](new Reader(bytes.subarray(0, cut)), version);
          } catch (e) {
            assert.ok(e instanceof ProtocolError, `${name} v${version} cut ${cut}: ${e}`);
          }
        }
        cases++;
      }
    }
  }
  assert.ok(cases > 2000, `only ${cases} cases`);
});
