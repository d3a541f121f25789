// Reads Kafka's message schema JSON files (with // comments) into a typed model. Only the
// structure is kept: names, types, versions, defaults, tags. The schemas' prose is dropped here so
// nothing of it can reach the generated code.

export interface VersionRange {
  min: number;
  max: number; // Infinity for "N+"
}

export interface FieldSpec {
  name: string;
  type: string;
  versions: VersionRange | null;
  nullableVersions: VersionRange | null;
  taggedVersions: VersionRange | null;
  tag: number | null;
  default: string | null;
  flexibleVersions: VersionRange | null | undefined; // override; null = "none"
  fields: FieldSpec[] | null;
}

export interface StructSpec {
  name: string;
  fields: FieldSpec[];
}

export interface MessageSpec {
  name: string;
  type: string; // request | response | header | data | metadata | coordinator-key | ...
  apiKey: number | null;
  validVersions: VersionRange;
  flexibleVersions: VersionRange | null;
  fields: FieldSpec[];
  commonStructs: StructSpec[];
  latestVersionUnstable: boolean;
}

/** Removes // and /* comments outside string literals. */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      i += 2;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) i++;
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

export function parseVersions(s: string | undefined): VersionRange | null {
  if (s === undefined || s === 'none' || s === '') return null;
  const plus = /^(\d+)\+$/.exec(s);
  if (plus) return { min: Number(plus[1]), max: Infinity };
  const range = /^(\d+)-(\d+)$/.exec(s);
  if (range) return { min: Number(range[1]), max: Number(range[2]) };
  if (/^\d+$/.test(s)) return { min: Number(s), max: Number(s) };
  throw new Error(`bad version range ${s}`);
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  flexibleVersions?: string;
  fields?: RawField[];
}

function toField(raw: RawField): FieldSpec {
  return {
    name: raw.name,
    type: raw.type,
    versions: parseVersions(raw.versions),
    nullableVersions: parseVersions(raw.nullableVersions),
    taggedVersions: parseVersions(raw.taggedVersions),
    tag: raw.tag ?? null,
    default: raw.default === undefined ? null : String(raw.default),
    flexibleVersions: raw.flexibleVersions === undefined ? undefined : parseVersions(raw.flexibleVersions),
    fields: raw.fields ? raw.fields.map(toField) : null,
  };
}

export function parseMessage(text: string, kindOverride?: string): MessageSpec {
  const raw = JSON.parse(stripComments(text));
  const valid = parseVersions(raw.validVersions);
  if (!valid) throw new Error(`${raw.name}: no validVersions`);
  return {
    name: raw.name,
    type: kindOverride ?? raw.type,
    apiKey: typeof raw.apiKey === 'number' ? raw.apiKey : null,
    validVersions: valid,
    flexibleVersions: parseVersions(raw.flexibleVersions),
    fields: (raw.fields as RawField[]).map(toField),
    commonStructs: ((raw.commonStructs ?? []) as { name: string; fields: RawField[] }[]).map((s) => ({
      name: s.name,
      fields: s.fields.map(toField),
    })),
    latestVersionUnstable: raw.latestVersionUnstable === true,
  };
}
