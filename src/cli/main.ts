// `brook <command> ...`: finds the command and runs it. Each command is its own module exporting
// `run(argv, io)`, loaded only when invoked, and registered with one line in COMMANDS below
// (new commands live under src/cli/commands/). Expected failures (BrookError) print one line,
// `brook: <message> [CODE]`, and exit 2 for usage/config mistakes, 1 otherwise; anything else is
// reported as BROOK_INTERNAL without a stack trace unless BROOK_DEBUG is set.

import { closestName } from '../config/config-def.ts';
import { BROOK_VERSION } from '../config/version.ts';
import { BrookError } from '../errors.ts';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

export interface CommandModule {
  /** Runs the command with the arguments after its name; resolves to the exit status. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<CommandModule>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'serve', summary: 'Start a Brook node (broker and controller in one process)', load: () => import('./serve.ts') },
  { name: 'cluster', summary: 'Cluster id, controller and brokers (info); a health check (health)', load: () => import('./commands/cluster.ts') },
  { name: 'topic', summary: 'Create, list, describe, alter, grow, trim and delete topics', load: () => import('./commands/topic.ts') },
  { name: 'produce', summary: 'Write records read from stdin to a topic', load: () => import('./commands/produce.ts') },
  { name: 'consume', summary: 'Print the records of a topic', load: () => import('./commands/consume.ts') },
  { name: 'group', summary: 'List, describe, seek and delete consumer groups', load: () => import('./commands/group.ts') },
  { name: 'perf', summary: 'Measure produce and consume throughput and latency (load generator)', load: () => import('./commands/perf.ts') },
  { name: 'config', summary: 'Get and set broker configs', load: () => import('./commands/config.ts') },
];

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
};

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 3;
  return [
    'Usage: brook <command> [options]',
    '',
    'Brook is a Kafka-compatible event streaming platform.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options:',
    '  -h, --help       Show this help',
    '  -V, --version    Show the version',
    '',
    "Run 'brook <command> --help' for the options of a command.",
    '',
  ].join('\n');
}

/**
 * `brook -b HOST topic list` as rpk and kcat allow: a leading `-b/--brokers VALUE` (or
 * `--brokers=VALUE`) moves to the end of the arguments, where every command parses it.
 */
export function hoistGlobalBrokers(argv: readonly string[]): string[] {
  const lead: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i];
    if ((a === '-b' || a === '--brokers') && i + 1 < argv.length) {
      lead.push(a, argv[i + 1]);
      i += 2;
    } else if (a.startsWith('--brokers=')) {
      lead.push(a);
      i += 1;
    } else {
      break;
    }
  }
  if (lead.length === 0 || i >= argv.length) return [...argv];
  return [...argv.slice(i), ...lead];
}

/** Runs brook with `argv` (the arguments after `brook`); resolves to the exit status. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    const [first, ...rest] = hoistGlobalBrokers(argv);
    if (first === undefined) {
      io.stderr(mainHelp());
      return 2;
    }
    if (first === '-h' || first === '--help') {
      io.stdout(mainHelp());
      return 0;
    }
    if (first === '-V' || first === '--version') {
      io.stdout(`brook ${BROOK_VERSION}\n`);
      return 0;
    }
    if (first === 'help') {
      if (rest.length === 0) {
        io.stdout(mainHelp());
        return 0;
      }
      return await main([rest[0], '--help'], io);
    }
    const entry = COMMANDS.find((c) => c.name === first);
    if (entry === undefined) {
      if (first.startsWith('-')) throw new BrookError('BROOK_USAGE_UNKNOWN_OPTION', `unknown option '${first}' (options go after the command; see 'brook --help')`);
      const near = closestName(first, COMMANDS.map((c) => c.name));
      throw new BrookError('BROOK_USAGE_UNKNOWN_COMMAND',
        `unknown command '${first}'${near ? ` (did you mean '${near}'?)` : ''}; see 'brook --help'`);
    }
    const command = await entry.load();
    return await command.run(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}

/** Prints an error as one line and returns the exit status for it. */
export function reportError(e: unknown, io: CliIo): number {
  if (e instanceof BrookError) {
    io.stderr(`${e.format()}\n`);
    return e.exitCode;
  }
  const message = e instanceof Error ? e.message : String(e);
  io.stderr(`brook: unexpected error: ${message.split('\n')[0]} [BROOK_INTERNAL]\n`);
  if (io.env.BROOK_DEBUG && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
  return 1;
}

/** Entry point used by bin/brook.js and `node src/cli/main.ts`. */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  const code = await main(argv);
  // Let output still queued for a slow pipe drain before exiting.
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => {
    if (s.writableLength === 0) resolve();
    else s.once('drain', () => resolve());
  })));
  process.exit(code);
}

if (import.meta.main) await runCli();
