// Declaring configuration keys: Kafka's value types, how a string becomes a typed value, and
// validators. Both broker and topic keys are declared with these helpers; parsing follows
// Kafka's ConfigDef: surrounding whitespace is trimmed (except passwords), booleans are
// case-insensitive "true"/"false", lists are comma separated with each item trimmed.

/** Kafka's config types; the names DescribeConfigs v3+ reports. */
export type ConfigType = 'BOOLEAN' | 'STRING' | 'INT' | 'SHORT' | 'LONG' | 'DOUBLE' | 'LIST' | 'PASSWORD';

/** DescribeConfigs `config_type` (int8) ids (KIP-569). */
export const CONFIG_TYPE_ID: Readonly<Record<ConfigType | 'UNKNOWN' | 'CLASS', number>> = Object.freeze({
  UNKNOWN: 0, BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9,
});

/** Where an effective value came from; DescribeConfigs `config_source` (KIP-226). */
export type ConfigSource =
  | 'DYNAMIC_TOPIC_CONFIG'
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG';

export const CONFIG_SOURCE_ID: Readonly<Record<ConfigSource | 'UNKNOWN', number>> = Object.freeze({
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
});

/** Java's Long.MAX_VALUE as the nearest double; rendered back as 9223372036854775807. */
export const LONG_MAX = 2 ** 63;
export const INT_MAX = 2 ** 31 - 1;

/** One entry of a DescribeConfigs answer. */
export interface ConfigEntry {
  name: string;
  /** Null for an unset key without default, and for sensitive keys. */
  value: string | null;
  source: ConfigSource;
  isSensitive: boolean;
  readOnly: boolean;
  type: ConfigType;
  documentation: string;
  /** The same key's value at each level, most specific first (DescribeConfigs include_synonyms). */
  synonyms: { name: string; value: string | null; source: ConfigSource }[];
}

export type Validator<T> = (value: T) => string | null;

export interface KeyDef<T> {
  readonly type: ConfigType;
  readonly default: T;
  readonly doc: string;
  /** Broker keys only: may be changed at runtime with AlterConfigs. */
  readonly dynamic: boolean;
  /** Accepted for compatibility with Kafka config files; has no effect in Brook. */
  readonly ignored: boolean;
  readonly sensitive: boolean;
  /** Turns a trimmed string into a value or throws `InvalidValue`. */
  readonly parse: (raw: string) => Exclude<T, null>;
  readonly validate?: Validator<Exclude<T, null>>;
  readonly format: (value: Exclude<T, null>) => string;
}

/** Thrown by a parser or validator; the caller adds the key and turns it into its own error. */
export class InvalidValue extends Error {
  override name = 'InvalidValue';
}

/** A problem with one key (or a combination, reported under the first key involved). */
export class ConfigProblem extends Error {
  override name = 'ConfigProblem';
  readonly kind: 'unknown' | 'invalid' | 'inconsistent';
  readonly key: string;

  constructor(kind: 'unknown' | 'invalid' | 'inconsistent', key: string, message: string) {
    super(message);
    this.kind = kind;
    this.key = key;
  }
}

interface Spec<T> {
  doc: string;
  dynamic?: boolean;
  ignored?: boolean;
  validate?: Validator<T>;
}

function make<T>(type: ConfigType, def: T, spec: Spec<Exclude<T, null>>, parse: (raw: string) => Exclude<T, null>,
  format: (v: Exclude<T, null>) => string): KeyDef<T> {
  return Object.freeze({
    type,
    default: def,
    doc: spec.doc,
    dynamic: spec.dynamic ?? false,
    ignored: spec.ignored ?? false,
    sensitive: type === 'PASSWORD',
    parse,
    validate: spec.validate,
    format,
  });
}

function parseInteger(raw: string, min: bigint, max: bigint, typeName: string): number {
  if (!/^[+-]?\d+$/.test(raw)) throw new InvalidValue(`"${raw}" is not a whole number`);
  const n = BigInt(raw);
  if (n < min || n > max) throw new InvalidValue(`${raw} does not fit in ${typeName} (${min}..${max})`);
  return Number(n);
}

export function formatLong(n: number): string {
  if (n >= LONG_MAX) return '9223372036854775807';
  if (n <= -LONG_MAX) return '-9223372036854775808';
  return String(n);
}

const parseInt32 = (raw: string): number => parseInteger(raw, -(2n ** 31n), 2n ** 31n - 1n, 'an int');
const parseInt16 = (raw: string): number => parseInteger(raw, -(2n ** 15n), 2n ** 15n - 1n, 'a short');
const parseInt64 = (raw: string): number => parseInteger(raw, -(2n ** 63n), 2n ** 63n - 1n, 'a long');

function parseDouble(raw: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) throw new InvalidValue(`"${raw}" is not a number`);
  return Number(raw);
}

function parseBoolean(raw: string): boolean {
  const l = raw.toLowerCase();
  if (l === 'true') return true;
  if (l === 'false') return false;
  throw new InvalidValue(`"${raw}" is not true or false`);
}

export function parseList(raw: string): string[] {
  if (raw === '') return [];
  return raw.split(',').map((s) => s.trim());
}

export function int(spec: Spec<number> & { default: number }): KeyDef<number>;
export function int(spec: Spec<number> & { default: null }): KeyDef<number | null>;
export function int(spec: Spec<number> & { default: number | null }): KeyDef<number> | KeyDef<number | null> {
  return make('INT', spec.default, spec, parseInt32, String);
}

export function short(spec: Spec<number> & { default: number }): KeyDef<number> {
  return make('SHORT', spec.default, spec, parseInt16, String);
}

export function long(spec: Spec<number> & { default: number }): KeyDef<number>;
export function long(spec: Spec<number> & { default: null }): KeyDef<number | null>;
export function long(spec: Spec<number> & { default: number | null }): KeyDef<number> | KeyDef<number | null> {
  return make('LONG', spec.default, spec, parseInt64, formatLong);
}

export function double(spec: Spec<number> & { default: number }): KeyDef<number> {
  return make('DOUBLE', spec.default, spec, parseDouble, String);
}

export function bool(spec: Spec<boolean> & { default: boolean }): KeyDef<boolean> {
  return make('BOOLEAN', spec.default, spec, parseBoolean, String);
}

export function string(spec: Spec<string> & { default: string }): KeyDef<string>;
export function string(spec: Spec<string> & { default: null }): KeyDef<string | null>;
export function string(spec: Spec<string> & { default: string | null }): KeyDef<string> | KeyDef<string | null> {
  return make('STRING', spec.default, spec, (raw) => raw, (v) => v);
}

/** A string restricted to fixed values (Kafka's ValidString.in; case-sensitive). */
export function choice<const V extends string>(values: readonly V[], spec: Spec<V> & { default: V }): KeyDef<V> {
  const parse = (raw: string): V => {
    if (!(values as readonly string[]).includes(raw)) {
      throw new InvalidValue(`"${raw}" is not one of ${values.join(', ')}`);
    }
    return raw as V;
  };
  return make('STRING', spec.default, spec, parse, (v) => v);
}

export function list(spec: Spec<readonly string[]> & { default: readonly string[] }): KeyDef<readonly string[]>;
export function list(spec: Spec<readonly string[]> & { default: null }): KeyDef<readonly string[] | null>;
export function list(spec: Spec<readonly string[]> & { default: readonly string[] | null }): KeyDef<readonly string[]> | KeyDef<readonly string[] | null> {
  return make('LIST', spec.default, spec, (raw) => Object.freeze(parseList(raw)), (v) => v.join(','));
}

// Validators (Kafka's Range.atLeast / Range.between / ValidList.in).

export const atLeast = (min: number): Validator<number> => (v) => (v < min ? `must be at least ${min}` : null);

export const between = (min: number, max: number): Validator<number> => (v) =>
  v < min || v > max ? `must be between ${min} and ${max}` : null;

/** -1 (no limit) or at least `min`. */
export const unlimitedOrAtLeast = (min: number): Validator<number> => (v) =>
  v === -1 || v >= min ? null : `must be -1 (no limit) or at least ${min}`;

export const listOf = (allowed: readonly string[], opts: { nonEmpty?: boolean } = {}): Validator<readonly string[]> =>
  (v) => {
    if (opts.nonEmpty && v.length === 0) return `must list at least one of ${allowed.join(', ')}`;
    const bad = v.find((x) => !allowed.includes(x));
    if (bad !== undefined) return `"${bad}" is not one of ${allowed.join(', ')}`;
    if (new Set(v).size !== v.length) return 'lists a value twice';
    return null;
  };

/**
 * Parses and validates `raw` for `def`. Throws InvalidValue with a message that does not name
 * the key (callers add it).
 */
export function parseValue<T>(def: KeyDef<T>, raw: string): Exclude<T, null> {
  const text = def.type === 'PASSWORD' ? raw : raw.trim();
  const value = def.parse(text);
  const problem = def.validate?.(value);
  if (problem) throw new InvalidValue(`${JSON.stringify(text)} ${problem}`);
  return value;
}

export function formatValue<T>(def: KeyDef<T>, value: T): string | null {
  return value === null ? null : def.format(value as Exclude<T, null>);
}

/** Edit distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The known name closest to `name`, if it is close enough to be a likely typo. */
export function closestName(name: string, known: Iterable<string>): string | null {
  const lower = name.toLowerCase().replace(/_/g, '.');
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(lower, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(name.length / 4)) ? best : null;
}
