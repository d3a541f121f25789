// Record templates in the style of kcat and rpk. Directives: %t topic, %p partition, %o offset,
// %k key, %v value, %T timestamp (ms), %h headers (k=v,k=v), %K key length, %S value length, %%
// a percent sign; escapes \n \t \r \0 \\. Consuming, a template formats each record; producing,
// it parses each input record: literal text must match, and a field runs up to the next literal
// text (the last field to the end of the record). Producing understands %k, %v, %p, %T and %h.
import { BrookError } from '../../errors.ts';
import type { RecordHeader } from '../../protocol/records.ts';
import type { ConsumerRecord } from '../../client/fetch-decode.ts';

export type Piece = { literal: string } | { field: string };

const FIELDS = new Set(['t', 'p', 'o', 'k', 'v', 'T', 'h', 'K', 'S']);
const PARSE_FIELDS = new Set(['k', 'v', 'p', 'T', 'h']);

/** Backslash escapes as in C strings: \n \t \r \0 \\ (anything else is kept as is). */
export function unescape(text: string): string {
  return text.replace(/\\([ntr0\\])/g, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\' })[c]!);
}

export function parseTemplate(template: string): Piece[] {
  const s = unescape(template);
  const pieces: Piece[] = [];
  let literal = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '%') {
      literal += s[i];
      continue;
    }
    const c = s[i + 1];
    i++;
    if (c === '%') {
      literal += '%';
      continue;
    }
    if (c === undefined || !FIELDS.has(c)) {
      throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--format: unknown directive '%${c ?? ''}' (use %t %p %o %k %v %T %h %K %S or %%)`);
    }
    if (literal !== '') pieces.push({ literal });
    literal = '';
    pieces.push({ field: c });
  }
  if (literal !== '') pieces.push({ literal });
  return pieces;
}

const text = (b: Buffer | null): string => (b === null ? '' : b.toString('utf8'));

export function formatHeaders(headers: readonly RecordHeader[]): string {
  return headers.map((h) => `${h.key}=${text(h.value)}`).join(',');
}

export function formatRecord(pieces: readonly Piece[], r: ConsumerRecord): string {
  let out = '';
  for (const p of pieces) {
    if ('literal' in p) {
      out += p.literal;
      continue;
    }
    switch (p.field) {
      case 't': out += r.topic; break;
      case 'p': out += r.partition; break;
      case 'o': out += r.offset; break;
      case 'k': out += text(r.key); break;
      case 'v': out += text(r.value); break;
      case 'T': out += r.timestamp; break;
      case 'h': out += formatHeaders(r.headers); break;
      case 'K': out += r.key === null ? -1 : r.key.length; break;
      case 'S': out += r.value === null ? -1 : r.value.length; break;
    }
  }
  return out;
}

/** One JSON object per record (keys, values and header values as UTF-8 text, null kept). */
export function recordJson(r: ConsumerRecord): string {
  return JSON.stringify({
    topic: r.topic, partition: r.partition, offset: r.offset, timestamp: r.timestamp,
    key: r.key === null ? null : text(r.key),
    value: r.value === null ? null : text(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : text(h.value) })),
  });
}

export interface ParsedInput {
  key?: Buffer;
  value: Buffer;
  partition?: number;
  timestamp?: number;
  headers?: RecordHeader[];
}

/** Checks that a template can parse input (only producing fields, no two fields in a row). */
export function inputTemplate(template: string): Piece[] {
  const pieces = parseTemplate(template);
  pieces.forEach((p, i) => {
    if ('field' in p && !PARSE_FIELDS.has(p.field)) {
      throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--format: '%${p.field}' cannot be read from input (use %k %v %p %T %h)`);
    }
    if ('field' in p && i > 0 && 'field' in pieces[i - 1]) {
      throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--format: '%${(pieces[i - 1] as { field: string }).field}%${p.field}' has no text between the fields to tell where one ends`);
    }
  });
  if (!pieces.some((p) => 'field' in p && p.field === 'v')) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', '--format must contain %v (the value)');
  return pieces;
}

/** Parses one input record with an input template; BROOK_INPUT_INVALID naming the record otherwise. */
export function parseInput(pieces: readonly Piece[], record: Buffer, recordNumber: number): ParsedInput {
  const s = record.toString('utf8');
  const bad = (why: string): never => {
    const shown = s.length > 60 ? `${s.slice(0, 57)}...` : s;
    throw new BrookError('BROOK_INPUT_INVALID', `input record ${recordNumber} ('${shown.replace(/\n/g, '\\n')}') ${why}`);
  };
  const out: ParsedInput = { value: Buffer.alloc(0) };
  let pos = 0;
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i];
    if ('literal' in p) {
      if (!s.startsWith(p.literal, pos)) bad(`does not match the --format template (expected '${p.literal.replace(/\t/g, '\\t')}' at character ${pos + 1})`);
      pos += p.literal.length;
      continue;
    }
    const next = pieces[i + 1];
    let end = s.length;
    if (next !== undefined && 'literal' in next) {
      end = s.indexOf(next.literal, pos);
      if (end < 0) bad(`does not match the --format template (no '${next.literal.replace(/\t/g, '\\t')}' after %${p.field})`);
    }
    const field = s.slice(pos, end);
    pos = end;
    switch (p.field) {
      case 'k': out.key = Buffer.from(field); break;
      case 'v': out.value = Buffer.from(field); break;
      case 'p':
        if (!/^\d+$/.test(field)) bad(`has partition '${field}', not a number`);
        out.partition = Number(field);
        break;
      case 'T':
        if (!/^\d+$/.test(field)) bad(`has timestamp '${field}', not milliseconds`);
        out.timestamp = Number(field);
        break;
      case 'h':
        out.headers = field === '' ? [] : field.split(',').map((kv) => {
          const eq = kv.indexOf('=');
          return eq < 0 ? { key: kv, value: null } : { key: kv.slice(0, eq), value: Buffer.from(kv.slice(eq + 1)) };
        });
        break;
    }
  }
  if (pos !== s.length) bad('has text left over after the --format template');
  return out;
}
