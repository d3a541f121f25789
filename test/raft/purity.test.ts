// The Raft core must stay a pure state machine (docs/design/raft.md): no clock, timer, global
// randomness, process or I/O inside src/raft — those come in through inputs, so a seeded
// simulation replays exactly. This scans the sources for the identifiers that would break that.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const RAFT_DIR = join(import.meta.dirname, '../../src/raft');
const FORBIDDEN = [
  /\bDate\b/,
  /\bMath\.random\b/,
  /\bperformance\b/,
  /\bprocess\b/,
  /\bsetTimeout\b/,
  /\bsetInterval\b/,
  /\bsetImmediate\b/,
  /\bqueueMicrotask\b/,
  /\bcrypto\b/,
  /\brequire\s*\(/,
  /\bimport\s*\(/,
  /from\s+['"]node:/,
  /from\s+['"](fs|net|dgram|os|child_process|timers|worker_threads|http|https|tls|crypto)['"]/,
  /from\s+['"]\.\.\/(?!protocol\/errors\.ts)/,
];

/** Source text without comments and string contents (so prose may mention what code must not use). */
function code(src: string): string {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/`(?:\\.|[^`\\])*`/g, '``');
}

test('src/raft uses no clock, timers, global randomness, process or I/O', () => {
  const files = readdirSync(RAFT_DIR, { recursive: true }).map(String).filter((f) => f.endsWith('.ts') && !f.startsWith('driver/')); // the I/O driver binds the core to timers and sockets by design
  assert.ok(files.length >= 5, 'the raft sources were found');
  const found: string[] = [];
  for (const f of files) {
    const text = code(readFileSync(join(RAFT_DIR, f), 'utf8'));
    for (const re of FORBIDDEN) if (re.test(text)) found.push(`${f}: ${re}`);
  }
  assert.deepEqual(found, []);
});

test('the scan itself catches what it should', () => {
  const bad = ['const t = Date.now();', 'setTimeout(f, 1)', "import { readFile } from 'node:fs';", 'Math.random()'];
  for (const b of bad) assert.ok(FORBIDDEN.some((re) => re.test(code(b))), b);
  assert.ok(!FORBIDDEN.some((re) => re.test(code('// uses no Date or setTimeout'))));
});
