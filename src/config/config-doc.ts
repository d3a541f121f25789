// Renders the key reference tables of docs/configuration.md from the key definitions, so the
// doc cannot drift from the code. test/config/config-doc.test.ts fails when the doc differs;
// `node src/config/config-doc.ts` rewrites the generated sections in place.

import { readFileSync, writeFileSync } from 'node:fs';
import { formatValue, type KeyDef } from './config-def.ts';
import { COORDINATOR_KEYS } from './keys-coordinator.ts';
import { LOG_KEYS } from './keys-log.ts';
import { SERVER_KEYS } from './keys-server.ts';
import { TOPIC_KEY_NAMES, TOPIC_KEYS } from './topic-keys.ts';

const code = (s: string): string => `\`${s}\``;

function defaultText(def: KeyDef<unknown>): string {
  const v = formatValue(def, def.default);
  return v === null ? '(none)' : v === '' ? '(empty)' : code(v);
}

function brokerTable(keys: Readonly<Record<string, KeyDef<unknown>>>): string {
  const rows = Object.keys(keys).sort().map((name) => {
    const d = keys[name];
    return `| ${code(name)} | ${d.type} | ${defaultText(d)} | ${d.dynamic ? 'yes' : 'no'} | ${d.doc} |`;
  });
  return ['| Key | Type | Default | Dynamic | Meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

function topicTable(): string {
  const rows = TOPIC_KEY_NAMES.map((name) => {
    const { def, synonyms } = TOPIC_KEYS[name];
    const d = def as KeyDef<unknown>;
    return `| ${code(name)} | ${d.type} | ${synonyms.map(code).join(', ')} | ${defaultText(d)} | ${d.doc} |`;
  });
  return ['| Key | Type | Falls back to | Default | Meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** Generated section name → its content. */
export function generatedSections(): Record<string, string> {
  return {
    'server-keys': brokerTable(SERVER_KEYS as unknown as Record<string, KeyDef<unknown>>),
    'log-keys': brokerTable(LOG_KEYS as unknown as Record<string, KeyDef<unknown>>),
    'coordinator-keys': brokerTable(COORDINATOR_KEYS as unknown as Record<string, KeyDef<unknown>>),
    'topic-keys': topicTable(),
  };
}

const start = (name: string): string => `<!-- generated:${name}:start (node src/config/config-doc.ts) -->`;
const end = (name: string): string => `<!-- generated:${name}:end -->`;

/** The doc with every generated section replaced by freshly rendered content. */
export function renderDoc(doc: string): string {
  let out = doc;
  for (const [name, body] of Object.entries(generatedSections())) {
    const s = out.indexOf(start(name));
    const e = out.indexOf(end(name));
    if (s < 0 || e < s) throw new Error(`docs/configuration.md lacks the markers of section ${name}`);
    out = `${out.slice(0, s)}${start(name)}\n${body}\n${out.slice(e)}`;
  }
  return out;
}

export const CONFIG_DOC_URL = new URL('../../docs/configuration.md', import.meta.url);

if (import.meta.main) {
  const doc = readFileSync(CONFIG_DOC_URL, 'utf8');
  writeFileSync(CONFIG_DOC_URL, renderDoc(doc));
}
