// `brook serve`: start one node. With no options it is a whole single-node cluster (broker and
// controller, node.id 1) on 127.0.0.1:9092 with data under ./data. Configuration comes, lowest
// precedence first, from Brook's defaults, the --config properties file, each --set KEY=VALUE,
// then the dedicated flags (--listen, --data-dir, --node-id). SIGTERM or SIGINT closes the node
// cleanly and exits 0; a second signal exits at once with status 1.

import { resolve } from 'node:path';
import { parseBrokerConfig, type BrokerConfig } from '../config/broker-config.ts';
import { BROKER_KEYS } from '../config/broker-keys.ts';
import { readConfigFile } from '../config/config-file.ts';
import { InvalidValue } from '../config/config-def.ts';
import { formatHostPort, formatListener, parseHostPort, parseListener } from '../config/listeners.ts';
import { BROOK_VERSION } from '../config/version.ts';
import { BrookError } from '../errors.ts';
import { formatOptions, parseArgs } from './args.ts';
import type { CliIo } from './main.ts';

export const SERVE_OPTIONS = {
  'listen': { type: 'string', value: 'HOST:PORT', description: 'Address of the PLAINTEXT client listener (default 127.0.0.1:9092)' },
  'data-dir': { type: 'string', value: 'DIR', description: 'Data directory; sets log.dirs (default ./data)' },
  'config': { type: 'string', value: 'FILE', description: 'Properties file with Kafka config keys (like server.properties)' },
  'set': { type: 'multiple', value: 'KEY=VALUE', description: 'Set a config key; repeatable; overrides --config' },
  'node-id': { type: 'string', value: 'N', description: 'Id of this node; sets node.id (default 1)' },
  'help': { type: 'boolean', short: 'h', description: 'Show this help' },
} as const;

export function serveHelp(): string {
  return [
    'Usage: brook serve [options]',
    '',
    'Start a Brook node. Without options: a single-node cluster (broker and controller in one',
    'process) listening on 127.0.0.1:9092, with its data under ./data.',
    '',
    'Options:',
    formatOptions(SERVE_OPTIONS),
    '',
    'Precedence: defaults < --config < --set < --listen, --data-dir, --node-id.',
    'Config keys are Kafka\'s (node.id, listeners, log.dirs, num.partitions, ...): see docs/configuration.md.',
    'Stop with Ctrl-C or SIGTERM; the data is kept for the next start.',
    '',
  ].join('\n');
}

export interface ServeDeps {
  /** Reads the --config file; defaults to the file system. */
  readFile?: (path: string) => string;
  /** Host name advertised for listeners bound to every interface. */
  hostname?: string;
}

/** Replaces (or adds) the PLAINTEXT listener in a listeners value. */
function withPlaintextListener(listeners: string, host: string, port: number): string {
  const items = listeners.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const mine = formatListener({ name: 'PLAINTEXT', host, port });
  const i = items.findIndex((s) => {
    try {
      return parseListener(s).name === 'PLAINTEXT';
    } catch {
      return false;
    }
  });
  if (i >= 0) items[i] = mine;
  else items.unshift(mine);
  return items.join(',');
}

/**
 * The broker config `brook serve <argv>` would run with. Reads only the --config file. Throws
 * BrookError (BROOK_USAGE_* for malformed arguments, BROOK_CONFIG_* for bad keys or values).
 */
export function buildServeConfig(argv: readonly string[], deps: ServeDeps = {}): BrokerConfig {
  const { options, positionals } = parseArgs(argv, SERVE_OPTIONS);
  if (positionals.length > 0) {
    throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `unexpected argument '${positionals[0]}' (brook serve takes only options)`);
  }
  const props: Record<string, string> = Object.create(null);
  const origin = new Map<string, string>();
  const put = (key: string, value: string, from: string): void => {
    props[key] = value;
    origin.set(key, from);
  };

  if (options.config !== undefined) {
    const file = readConfigFile(options.config, deps.readFile);
    for (const key of Object.keys(file)) put(key, file[key], `in ${options.config}`);
  }
  for (const item of options.set) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--set expects KEY=VALUE, got '${item}'`);
    put(item.slice(0, eq).trim(), item.slice(eq + 1), 'from --set');
  }
  if (options.listen !== undefined) {
    let hp;
    try {
      hp = parseHostPort(options.listen, '--listen');
    } catch (e) {
      if (e instanceof InvalidValue) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', e.message);
      throw e;
    }
    const current = props['listeners'] ?? BROKER_KEYS['listeners'].default.join(',');
    put('listeners', withPlaintextListener(current, hp.host, hp.port), 'from --listen');
  }
  if (options['data-dir'] !== undefined) {
    if (options['data-dir'].includes(',')) {
      throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--data-dir takes one directory; use --set log.dirs=A,B for several`);
    }
    put('log.dirs', options['data-dir'], 'from --data-dir');
  }
  if (options['node-id'] !== undefined) put('node.id', options['node-id'], 'from --node-id');

  return parseBrokerConfig(props, { origin: (key) => origin.get(key), hostname: deps.hostname });
}

/** The contract of src/broker/broker.ts that serve relies on. */
export interface BrokerModule {
  startBroker(config: BrokerConfig, opts?: { log?: (line: string) => void }): Promise<{ port: number; host: string; close(): Promise<void> }>;
}

async function loadBroker(): Promise<BrokerModule> {
  // Loaded by URL so the CLI's other commands never load the broker.
  const url = new URL('../broker/broker.ts', import.meta.url).href;
  const mod = (await import(url)) as Partial<BrokerModule>;
  if (typeof mod.startBroker !== 'function') {
    throw new BrookError('BROOK_INTERNAL', 'this build of Brook has no broker (src/broker/broker.ts does not export startBroker)');
  }
  return mod as BrokerModule;
}

/** Turns a failure to start into the error a person should see. */
export function startError(e: unknown, config: BrokerConfig): unknown {
  if (e instanceof BrookError) return e;
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
  if (err?.syscall === 'listen' || err?.syscall === 'bind') {
    const where = err.address !== undefined && err.port !== undefined ? formatHostPort(err.address, err.port) : 'the listener address';
    if (err.code === 'EADDRINUSE') {
      return new BrookError('BROOK_LISTEN_IN_USE', `cannot listen on ${where}: another process is using it`, { cause: e });
    }
    return new BrookError('BROOK_LISTEN_FAILED', `cannot listen on ${where}: ${err.code ?? err.message}`, { cause: e });
  }
  if (typeof err?.path === 'string') {
    const p = resolve(err.path);
    const dir = config.logDirs.map((d) => resolve(d)).find((d) => p === d || p.startsWith(`${d}/`));
    if (dir !== undefined) {
      return new BrookError('BROOK_DATA_DIR_UNUSABLE', `data directory ${dir} is unusable: ${err.code ?? ''} ${err.message}`.trim(), { cause: e });
    }
  }
  return e;
}

/** Resolves with the signal name on the first SIGTERM or SIGINT; a second one exits at once. */
function waitForShutdown(): Promise<string> {
  return new Promise((done) => {
    let seen = false;
    // Serving runs until a signal, even if nothing else (a socket) holds the event loop open.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const on = (signal: string): void => {
      if (seen) process.exit(1);
      seen = true;
      clearInterval(keepAlive);
      done(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

export interface ServeRunDeps extends ServeDeps {
  /** Supplies startBroker; defaults to loading src/broker/broker.ts. */
  loadBroker?: () => Promise<BrokerModule>;
  /** Resolves when the node should stop; defaults to the first SIGTERM or SIGINT. */
  shutdown?: () => Promise<string>;
}

export async function run(argv: readonly string[], io: CliIo, deps: ServeRunDeps = {}): Promise<number> {
  const { options } = parseArgs(argv, SERVE_OPTIONS);
  if (options.help) {
    io.stdout(serveHelp());
    return 0;
  }
  const config = buildServeConfig(argv, deps);
  const { startBroker } = await (deps.loadBroker ?? loadBroker)();
  const shutdown = (deps.shutdown ?? waitForShutdown)();
  let node;
  try {
    node = await startBroker(config, { log: (line) => io.stderr(`${line}\n`) });
  } catch (e) {
    throw startError(e, config);
  }
  io.stdout(`Brook ${BROOK_VERSION} listening on ${formatHostPort(node.host, node.port)} (data: ${config.logDirs.join(',')})\n`);
  const signal = await shutdown;
  io.stderr(`brook: ${signal} received, shutting down\n`);
  await node.close();
  return 0;
}
