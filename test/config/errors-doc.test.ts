// docs/errors.md and USER_ERRORS (src/errors.ts) must agree both ways, and every BROOK_* code the
// sources use must be in the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BrookError, exitCodeFor, isUserErrorCode, USER_ERRORS, type UserErrorCode } from '../../src/errors.ts';

const root = new URL('../../', import.meta.url).pathname;

function docRows(): Map<string, { exit: number; meaning: string }> {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const rows = new Map<string, { exit: number; meaning: string }>();
  for (const line of doc.split('\n')) {
    const m = /^\| `(BROOK_[A-Z0-9_]+)` \| (\d) \| ([^|]+) \|/.exec(line);
    if (m) {
      assert.ok(!rows.has(m[1]), `${m[1]} is listed twice in docs/errors.md`);
      rows.set(m[1], { exit: Number(m[2]), meaning: m[3].trim() });
    }
  }
  return rows;
}

test('every code in USER_ERRORS is documented with the same meaning and exit status', () => {
  const rows = docRows();
  for (const [code, meaning] of Object.entries(USER_ERRORS)) {
    const row = rows.get(code);
    assert.ok(row, `${code} is missing from docs/errors.md`);
    assert.equal(row.meaning, meaning, `${code}: meaning differs`);
    assert.equal(row.exit, exitCodeFor(code as UserErrorCode), `${code}: exit status differs`);
  }
});

test('every code in docs/errors.md exists in USER_ERRORS', () => {
  const rows = docRows();
  assert.ok(rows.size > 0);
  for (const code of rows.keys()) assert.ok(isUserErrorCode(code), `${code} is documented but not in USER_ERRORS`);
});

test('codes are stable-looking identifiers and meanings are one line', () => {
  for (const [code, meaning] of Object.entries(USER_ERRORS)) {
    assert.match(code, /^BROOK_[A-Z0-9_]+$/);
    assert.ok(!meaning.includes('\n') && meaning.length > 0);
  }
});

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sourceFiles(p);
    else if (/\.(ts|js)$/.test(name)) yield p;
  }
}

test('every BROOK_* code used in src/ and bin/ is in USER_ERRORS', () => {
  const used = new Set<string>();
  for (const dir of ['src', 'bin']) {
    for (const file of sourceFiles(join(root, dir))) {
      // Codes appear quoted ('BROOK_X') or bracketed in printed lines ([BROOK_X]); environment
      // variables such as BROOK_DEBUG appear bare and are not codes.
      for (const m of readFileSync(file, 'utf8').matchAll(/['"`[](BROOK_[A-Z0-9_]*[A-Z0-9])['"`\]]/g)) used.add(m[1]);
    }
  }
  assert.ok(used.has('BROOK_CONFIG_UNKNOWN_KEY'));
  assert.ok(used.has('BROOK_NODE_TOO_OLD'), 'bin/brook.js prints BROOK_NODE_TOO_OLD');
  for (const code of used) assert.ok(isUserErrorCode(code), `${code} is used in the sources but not in USER_ERRORS`);
});

test('exit status: 2 for usage and config errors, 1 otherwise', () => {
  assert.equal(exitCodeFor('BROOK_USAGE_UNKNOWN_OPTION'), 2);
  assert.equal(exitCodeFor('BROOK_CONFIG_INVALID_VALUE'), 2);
  assert.equal(exitCodeFor('BROOK_LISTEN_IN_USE'), 1);
  assert.equal(exitCodeFor('BROOK_INTERNAL'), 1);
  const e = new BrookError('BROOK_CONFIG_UNKNOWN_KEY', "unknown config key 'x'");
  assert.equal(e.exitCode, 2);
  assert.equal(e.format(), "brook: unknown config key 'x' [BROOK_CONFIG_UNKNOWN_KEY]");
});
