// A small argv parser for brook's commands: `--name value`, `--name=value`, boolean flags,
// repeatable options, `-x` short names (booleans may be grouped: `-hv`), positionals, and `--`
// to end options. Mistakes are BrookErrors with BROOK_USAGE_* codes (exit status 2).

import { closestName } from '../config/config-def.ts';
import { BrookError } from '../errors.ts';

export interface OptionSpec {
  /** boolean: a flag; string: one value (the last one given wins); multiple: every value, in order. */
  type: 'boolean' | 'string' | 'multiple';
  short?: string;
  /** Placeholder for the value in help text, e.g. HOST:PORT. */
  value?: string;
  description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export type ParsedOptions<S extends OptionSpecs> = {
  [K in keyof S]: S[K]['type'] extends 'boolean' ? boolean : S[K]['type'] extends 'multiple' ? string[] : string | undefined;
};

export interface ParsedArgs<S extends OptionSpecs> {
  options: ParsedOptions<S>;
  positionals: string[];
}

export function parseArgs<S extends OptionSpecs>(argv: readonly string[], specs: S): ParsedArgs<S> {
  const values: Record<string, boolean | string | string[] | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    values[name] = spec.type === 'boolean' ? false : spec.type === 'multiple' ? [] : undefined;
  }
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);
  const positionals: string[] = [];

  const store = (name: string, value: string): void => {
    const v = values[name];
    if (Array.isArray(v)) v.push(value);
    else values[name] = value;
  };
  const unknown = (arg: string): never => {
    const near = arg.startsWith('--') ? closestName(arg.slice(2), Object.keys(specs)) : null;
    throw new BrookError('BROOK_USAGE_UNKNOWN_OPTION', `unknown option '${arg}'${near ? ` (did you mean '--${near}'?)` : ''}`);
  };
  const missing = (display: string, spec: OptionSpec): never => {
    throw new BrookError('BROOK_USAGE_MISSING_VALUE', `option '${display}' needs a value${spec.value ? ` (${spec.value})` : ''}`);
  };
  // The next argument is the value unless it is absent or is itself a long option.
  const takeNext = (i: number, display: string, spec: OptionSpec): string => {
    const next = argv[i];
    if (next === undefined || next.startsWith('--')) missing(display, spec);
    return next;
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
      if (spec === undefined) unknown(eq < 0 ? arg : arg.slice(0, eq));
      else if (spec.type === 'boolean') {
        if (eq >= 0) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `option '--${name}' does not take a value`);
        values[name] = true;
      } else if (eq >= 0) {
        store(name, arg.slice(eq + 1));
      } else {
        store(name, takeNext(++i, `--${name}`, spec));
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const name = byShort.get(arg[j]);
        if (name === undefined) unknown(`-${arg[j]}`);
        else {
          const spec = specs[name];
          if (spec.type === 'boolean') {
            values[name] = true;
            continue;
          }
          const rest = arg.slice(j + 1);
          store(name, rest !== '' ? rest : takeNext(++i, `-${arg[j]}`, spec));
          break;
        }
      }
      continue;
    }
    positionals.push(arg);
  }
  return { options: values as ParsedOptions<S>, positionals };
}

/** Help lines for the options, aligned: `  -h, --help        Show this help`. */
export function formatOptions(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 3;
  return rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`).join('\n');
}
