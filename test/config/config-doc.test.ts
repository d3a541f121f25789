import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BROKER_KEY_NAMES } from '../../src/config/broker-keys.ts';
import { CONFIG_DOC_URL, renderDoc } from '../../src/config/config-doc.ts';
import { TOPIC_KEY_NAMES } from '../../src/config/topic-keys.ts';

const doc = readFileSync(CONFIG_DOC_URL, 'utf8');

test('docs/configuration.md reference tables match the key definitions', () => {
  assert.equal(doc, renderDoc(doc), 'docs/configuration.md is stale: run node src/config/config-doc.ts');
});

test('every broker and topic key appears in the reference', () => {
  for (const key of [...BROKER_KEY_NAMES, ...TOPIC_KEY_NAMES]) assert.ok(doc.includes(`| \`${key}\` |`), key);
});
