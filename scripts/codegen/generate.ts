// Turns the schema directories into a map of output path → module text (pure: I/O is passed in,
// so the up-to-date test can run it without touching the tree).
import { join } from 'node:path';
import { parseMessage, type MessageSpec } from './schema.ts';
import { emitModule, kebab } from './emit.ts';
import { emitIndexes } from './emit-index.ts';

export interface Parsed {
  dir: 'messages' | 'metadata' | 'coordinator';
  file: string;
  spec: MessageSpec;
}

export function parseAll(schemaRoot: string, list: (dir: string) => string[], read: (p: string) => string): Parsed[] {
  const out: Parsed[] = [];
  for (const dir of ['messages', 'metadata', 'coordinator'] as const) {
    for (const file of list(join(schemaRoot, dir)).filter((f) => f.endsWith('.json')).sort()) {
      out.push({ dir, file, spec: parseMessage(read(join(schemaRoot, dir, file))) });
    }
  }
  return out;
}

export function generateAll(schemaRoot: string, list: (dir: string) => string[], read: (p: string) => string): Map<string, string> {
  const parsed = parseAll(schemaRoot, list, read);
  const files = new Map<string, string>();
  for (const p of parsed) {
    const sub = p.dir === 'messages' ? '' : `${p.dir}/`;
    files.set(`${sub}${kebab(p.spec.name)}.ts`, emitModule(p.spec, `${p.dir}/${p.file}`, p.dir === 'messages' ? 1 : 2));
  }
  for (const [rel, text] of emitIndexes(parsed)) files.set(rel, text);
  return files;
}
