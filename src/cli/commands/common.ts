// What every client command shares: the global options (--brokers/-b, BROOK_BROKERS, --json,
// --help), help text with examples, subcommand dispatch, connecting, and turning the client's
// errors into the one-line BrookErrors people see (`brook: broker unreachable at ... [CODE]`).
import { BrookError, type UserErrorCode } from '../../errors.ts';
import { formatOptions, parseArgs, type OptionSpecs, type ParsedArgs } from '../args.ts';
import { processIo, type CliIo } from '../main.ts';
import { drainStdout } from './output.ts';
import { closestName } from '../../config/config-def.ts';
import { Client, type ClientOptions } from '../../client/client.ts';
import { AddressError, parseBrokerList } from '../../client/addresses.ts';
import {
  BrokerUnreachableError, BufferFullError, KafkaError, NetworkError, RequestTimeoutError, UnknownPartitionError, UnknownTopicError,
  UnsupportedApiError,
} from '../../client/errors.ts';
import { ErrorCode } from '../../protocol/errors.ts';

export const DEFAULT_BROKERS = '127.0.0.1:9092';

export const BROKERS_OPTION = {
  brokers: { type: 'string', short: 'b', value: 'HOST:PORT,...', description: `Brokers to bootstrap from (default $BROOK_BROKERS or ${DEFAULT_BROKERS})` },
} as const;
export const JSON_OPTION = { json: { type: 'boolean', description: 'Print JSON (for scripts)' } } as const;
export const HELP_OPTION = { help: { type: 'boolean', short: 'h', description: 'Show this help' } } as const;

export interface CommandHelp {
  usage: string;
  summary: string;
  /** Lines after the options (notes). */
  notes?: string[];
  examples: string[];
}

export function helpText(h: CommandHelp, specs: OptionSpecs): string {
  return [
    `Usage: ${h.usage}`,
    '',
    h.summary,
    '',
    'Options:',
    formatOptions(specs),
    ...(h.notes && h.notes.length > 0 ? ['', ...h.notes] : []),
    '',
    'Examples:',
    ...h.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

/** Parses argv; prints help and returns null when --help was given. */
export function parseOrHelp<S extends OptionSpecs & typeof HELP_OPTION>(argv: readonly string[], specs: S, help: CommandHelp, io: CliIo): ParsedArgs<S> | null {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(helpText(help, specs));
    return null;
  }
  return parseArgs(argv, specs);
}

export function brokersFrom(option: string | undefined, env: CliIo['env']): string {
  const list = option ?? (env.BROOK_BROKERS || DEFAULT_BROKERS);
  try {
    parseBrokerList(list);
  } catch (e) {
    if (e instanceof AddressError) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--brokers: ${e.message}`);
    throw e;
  }
  return list;
}

/** A client connected to the cluster (metadata loaded), or a BROOK_BROKER_UNREACHABLE error. */
export async function connect(brokers: string, opts: Omit<ClientOptions, 'brokers'> = {}): Promise<Client> {
  const client = new Client({ clientId: 'brook-cli', requestTimeoutMs: 30_000, connectTimeoutMs: 5_000, allowAutoTopicCreation: false, retry: { retries: 3 }, ...opts, brokers });
  try {
    await client.connect();
  } catch (e) {
    client.close();
    throw toBrookError(e);
  }
  return client;
}

/** Runs `fn` with a connected client and closes it; client errors become BrookErrors. */
export async function withClient<T>(brokers: string, fn: (client: Client) => Promise<T>, opts?: Omit<ClientOptions, 'brokers'>): Promise<T> {
  const client = await connect(brokers, opts);
  try {
    return await fn(client);
  } catch (e) {
    throw toBrookError(e);
  } finally {
    client.close();
  }
}

function reason(e: Error): string {
  const m = /(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ECONNRESET)/.exec(e.message);
  const names: Record<string, string> = {
    ECONNREFUSED: 'connection refused', ETIMEDOUT: 'timed out', EHOSTUNREACH: 'host unreachable', ENETUNREACH: 'network unreachable',
    ENOTFOUND: 'unknown host', EAI_AGAIN: 'host name lookup failed', ECONNRESET: 'connection reset',
  };
  if (m) return names[m[1]];
  if (/timed out/.test(e.message)) return 'timed out';
  return e.message.replace(/^.*?: /, '');
}

const BY_KAFKA_CODE: ReadonlyMap<number, UserErrorCode> = new Map<number, UserErrorCode>([
  [ErrorCode.TOPIC_ALREADY_EXISTS, 'BROOK_TOPIC_EXISTS'],
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'BROOK_UNKNOWN_TOPIC'],
  [ErrorCode.UNKNOWN_TOPIC_ID, 'BROOK_UNKNOWN_TOPIC'],
  [ErrorCode.GROUP_ID_NOT_FOUND, 'BROOK_UNKNOWN_GROUP'],
  [ErrorCode.NON_EMPTY_GROUP, 'BROOK_GROUP_NOT_EMPTY'],
  [ErrorCode.REQUEST_TIMED_OUT, 'BROOK_TIMEOUT'],
  [ErrorCode.UNSUPPORTED_VERSION, 'BROOK_UNSUPPORTED_BY_BROKER'],
]);

/** The person-facing form of a client failure; unexpected errors pass through (BROOK_INTERNAL). */
export function toBrookError(e: unknown): unknown {
  if (e instanceof BrookError) return e;
  if (e instanceof BrokerUnreachableError) {
    const detail = e.cause instanceof Error ? ` (${reason(e.cause)})` : '';
    return new BrookError('BROOK_BROKER_UNREACHABLE', `broker unreachable at ${e.addresses.join(', ')}${detail}`, { cause: e });
  }
  if (e instanceof NetworkError) return new BrookError('BROOK_BROKER_UNREACHABLE', `lost the connection to ${e.address} (${reason(e)})`, { cause: e });
  if (e instanceof UnknownTopicError) return new BrookError('BROOK_UNKNOWN_TOPIC', `unknown topic '${e.topic}'`, { cause: e });
  if (e instanceof UnknownPartitionError) return new BrookError('BROOK_UNKNOWN_PARTITION', e.message, { cause: e });
  if (e instanceof UnsupportedApiError) return new BrookError('BROOK_UNSUPPORTED_BY_BROKER', e.message, { cause: e });
  if (e instanceof RequestTimeoutError) return new BrookError('BROOK_TIMEOUT', e.message, { cause: e });
  if (e instanceof BufferFullError) return new BrookError('BROOK_TIMEOUT', e.message, { cause: e });
  if (e instanceof AddressError) return new BrookError('BROOK_USAGE_INVALID_ARGUMENT', e.message, { cause: e });
  if (e instanceof KafkaError) {
    const code = BY_KAFKA_CODE.get(e.code) ?? 'BROOK_REQUEST_REFUSED';
    return new BrookError(code, code === 'BROOK_REQUEST_REFUSED' ? `the broker refused: ${e.message}` : e.message, { cause: e });
  }
  return e;
}

export interface Subcommand {
  summary: string;
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

/** `brook <command> <sub> ...`: finds the subcommand; `--help` (or nothing) lists them. */
export async function runSubcommand(command: string, subs: Readonly<Record<string, Subcommand>>, argv: readonly string[], io: CliIo, examples: string[]): Promise<number> {
  const [first, ...rest] = argv;
  const names = Object.keys(subs);
  const list = (): string => {
    const width = Math.max(...names.map((n) => n.length)) + 3;
    return [
      `Usage: brook ${command} <${names.join('|')}> [options]`,
      '',
      'Subcommands:',
      ...names.map((n) => `  ${n.padEnd(width)}${subs[n].summary}`),
      '',
      `Run 'brook ${command} <subcommand> --help' for its options.`,
      '',
      'Examples:',
      ...examples.map((e) => `  ${e}`),
      '',
    ].join('\n');
  };
  if (first === undefined) {
    io.stderr(list());
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout(list());
    return 0;
  }
  if (!Object.hasOwn(subs, first)) {
    const near = closestName(first, names);
    throw new BrookError('BROOK_USAGE_UNKNOWN_SUBCOMMAND',
      `unknown ${command} subcommand '${first}'${near ? ` (did you mean '${near}'?)` : ''}; see 'brook ${command} --help'`);
  }
  const code = await subs[first].run(rest, io);
  // Long output into a pipe may still be queued; the process exits right after this returns.
  if (io.stdout === processIo.stdout) await drainStdout(true);
  return code;
}

/** Exactly `n` positionals, else a usage error naming what is missing or extra. */
export function positionals(list: readonly string[], names: readonly string[], command: string, opts: { variadic?: boolean } = {}): string[] {
  if (list.length < names.length) {
    throw new BrookError('BROOK_USAGE_MISSING_ARGUMENT', `brook ${command} needs ${names.slice(list.length).join(' and ')}; see 'brook ${command} --help'`);
  }
  if (!opts.variadic && list.length > names.length) {
    throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `unexpected argument '${list[names.length]}' for brook ${command}`);
  }
  return [...list];
}

export function parseInteger(text: string, what: string, opts: { min?: number; max?: number } = {}): number {
  if (!/^-?\d+$/.test(text.trim())) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `${what} must be a whole number, got '${text}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    const range = opts.max !== undefined ? `${opts.min ?? '-∞'}..${opts.max}` : `at least ${opts.min}`;
    throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `${what} must be ${range}, got '${text}'`);
  }
  return n;
}

/** `key=value` pairs (repeatable option) into a record; usage error for a malformed one. */
export function parsePairs(items: readonly string[], option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `${option} expects KEY=VALUE, got '${item}'`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1);
  }
  return out;
}

/** Comma-separated partition numbers (`0,2,5` or ranges `0-3`). */
export function parsePartitionList(text: string, option: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^(\d+)-(\d+)$/.exec(part);
    if (m) {
      const [a, b] = [Number(m[1]), Number(m[2])];
      if (b < a) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `${option}: empty range '${part}'`);
      for (let p = a; p <= b; p++) out.add(p);
    } else {
      out.add(parseInteger(part, option, { min: 0 }));
    }
  }
  if (out.size === 0) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `${option} needs at least one partition`);
  return [...out].sort((a, b) => a - b);
}
