// Java .properties format, as java.util.Properties.load(Reader) reads it, so a Kafka
// server.properties works unchanged:
// - natural lines end at \n, \r or \r\n; a line whose first non-blank character is # or ! is a
//   comment (a trailing backslash does not continue a comment);
// - a line ending in an odd number of backslashes continues on the next line, whose leading
//   blanks (space, tab, form feed) are dropped;
// - the key runs to the first unescaped '=', ':' or blank; blanks around the separator are
//   skipped, and the rest of the line (trailing blanks included) is the value;
// - escapes: \t \n \r \f, \uXXXX, and a backslash before any other character yields that
//   character (so "\ ", "\=", "\:", "\#", "\\");
// - a later duplicate key replaces the earlier one.
// Values are data: parsing never interprets them.

import { BrookError } from '../errors.ts';

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f';

interface LogicalLine {
  text: string;
  line: number;
}

function logicalLines(text: string): LogicalLine[] {
  const natural = text.split(/\r\n|\r|\n/);
  const out: LogicalLine[] = [];
  let i = 0;
  while (i < natural.length) {
    const startLine = i + 1;
    let s = natural[i++];
    let p = 0;
    while (p < s.length && isBlank(s[p])) p++;
    if (p === s.length) continue;
    if (s[p] === '#' || s[p] === '!') continue;
    let acc = '';
    let cur = s.slice(p);
    for (;;) {
      let trailing = 0;
      for (let k = cur.length - 1; k >= 0 && cur[k] === '\\'; k--) trailing++;
      if (trailing % 2 === 0) {
        acc += cur;
        break;
      }
      acc += cur.slice(0, -1);
      if (i >= natural.length) break; // a continuation at end of input is dropped
      s = natural[i++];
      p = 0;
      while (p < s.length && isBlank(s[p])) p++;
      cur = s.slice(p);
    }
    out.push({ text: acc, line: startLine });
  }
  return out;
}

function unescape(s: string, source: string, line: number): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === undefined) break;
    switch (n) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        const hex = s.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          throw new BrookError('BROOK_CONFIG_FILE_INVALID', `${source}:${line}: malformed \\uXXXX escape`);
        }
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      default: out += n;
    }
  }
  return out;
}

/**
 * Parses properties text into a record with no prototype (a key such as `__proto__` is an
 * ordinary key). `source` names the input in error messages (e.g. the file path).
 */
export function parseProperties(text: string, source = '<properties>'): Record<string, string> {
  const result: Record<string, string> = Object.create(null);
  for (const { text: l, line } of logicalLines(text)) {
    let k = 0;
    let escaped = false;
    while (k < l.length) {
      const c = l[k];
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '=' || c === ':' || isBlank(c)) break;
      k++;
    }
    let v = k;
    while (v < l.length && isBlank(l[v])) v++;
    if (v < l.length && (l[v] === '=' || l[v] === ':')) {
      v++;
      while (v < l.length && isBlank(l[v])) v++;
    }
    result[unescape(l.slice(0, k), source, line)] = unescape(l.slice(v), source, line);
  }
  return result;
}

function escapeText(s: string, isKey: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = c.charCodeAt(0);
    if (c === '\\') out += '\\\\';
    else if (c === '\t') out += '\\t';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\f') out += '\\f';
    else if (c === ' ' && (isKey || i === 0)) out += '\\ ';
    else if (c === '=' || c === ':' || c === '#' || c === '!') out += '\\' + c;
    else if (code < 0x20 || code > 0x7e) out += '\\u' + code.toString(16).padStart(4, '0');
    else out += c;
  }
  return out;
}

/** Renders entries so that parseProperties gives them back exactly; ASCII only. */
export function formatProperties(entries: Iterable<readonly [string, string]>, comment?: string): string {
  let out = '';
  if (comment !== undefined) {
    for (const line of comment.split(/\r\n|\r|\n/)) out += `# ${line}\n`;
  }
  for (const [k, v] of entries) out += `${escapeText(k, true)}=${escapeText(v, false)}\n`;
  return out;
}
