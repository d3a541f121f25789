// `brook config get|set`: broker configs. get reads one broker's effective values with their
// source (DescribeConfigs); set changes keys dynamically (IncrementalAlterConfigs), cluster-wide
// by default (the "" broker resource: the dynamic default every broker uses) or for one broker
// with --node.
import { BrookError } from '../../errors.ts';
import type { CliIo } from '../main.ts';
import { Admin } from '../../client/admin.ts';
import type { ConfigChange } from '../../client/admin-configs.ts';
import {
  BROKERS_OPTION, HELP_OPTION, JSON_OPTION, brokersFrom, parseInteger, parseOrHelp, parsePairs, runSubcommand, toBrookError, withClient,
  type Subcommand,
} from './common.ts';
import { printJson, table } from './output.ts';

const NODE_OPTION = { node: { type: 'string', short: 'n', value: 'ID', description: 'Broker node id' } } as const;

const get: Subcommand = {
  summary: 'Show broker configs with their values and sources',
  async run(argv, io) {
    const specs = { ...BROKERS_OPTION, ...NODE_OPTION, ...JSON_OPTION, ...HELP_OPTION } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook config get [KEY...] [options]',
      summary: 'Show a broker\'s configs (all, or the keys named) with the value in effect and where it comes from. The broker is --node, else the first one.',
      examples: ['brook config get', 'brook config get log.retention.hours num.partitions', 'brook config get --node 1 --json'],
    }, io);
    if (args === null) return 0;
    const keys = args.positionals;
    const result = await withClient(brokersFrom(args.options.brokers, io.env), async (client) => {
      const node = args.options.node !== undefined
        ? parseInteger(args.options.node, '--node', { min: 0 })
        : Math.min(...client.metadata.brokers.keys());
      if (!client.metadata.brokers.has(node)) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--node ${node} is not a broker of this cluster (brokers: ${[...client.metadata.brokers.keys()].join(', ')})`);
      const [r] = await new Admin(client).describeConfigs([{ type: 'broker', name: String(node), keys: keys.length > 0 ? keys : null }]);
      if (r.error !== null) throw r.error;
      return { node, entries: r.entries };
    });
    const missing = keys.filter((k) => !result.entries.some((e) => e.name === k));
    if (missing.length > 0) throw new BrookError('BROOK_CONFIG_UNKNOWN_KEY', `unknown broker config key${missing.length > 1 ? 's' : ''} ${missing.map((k) => `'${k}'`).join(', ')}`);
    const entries = [...result.entries].sort((a, b) => (a.name < b.name ? -1 : 1));
    if (args.options.json) {
      printJson(io, { node: result.node, configs: entries.map((e) => ({ name: e.name, value: e.sensitive ? null : e.value, source: e.source, readOnly: e.readOnly, sensitive: e.sensitive })) });
    } else {
      io.stdout(table(['KEY', 'VALUE', 'SOURCE', 'READ-ONLY'], entries.map((e) => [e.name, e.sensitive ? '(sensitive)' : e.value, e.source, e.readOnly ? 'yes' : 'no'])));
    }
    return 0;
  },
};

const set: Subcommand = {
  summary: 'Change broker configs (cluster-wide, or one broker with --node)',
  async run(argv, io) {
    const specs = {
      ...BROKERS_OPTION, ...NODE_OPTION,
      delete: { type: 'multiple', short: 'd', value: 'KEY', description: 'Remove a dynamic value (back to the static/default one), repeatable' },
      'dry-run': { type: 'boolean', description: 'Validate only' },
      ...HELP_OPTION,
    } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook config set KEY=VALUE... [--delete KEY]... [options]',
      summary: 'Change broker configs while the brokers run. Without --node the change is the cluster-wide default for every broker.',
      examples: ['brook config set log.retention.ms=86400000', 'brook config set --node 1 log.cleaner.threads=2', 'brook config set --delete log.retention.ms'],
    }, io);
    if (args === null) return 0;
    const changes: ConfigChange[] = [
      ...Object.entries(parsePairs(args.positionals, 'brook config set')).map(([name, value]): ConfigChange => ({ name, op: 'set', value })),
      ...args.options.delete.map((name): ConfigChange => ({ name, op: 'delete' })),
    ];
    if (changes.length === 0) throw new BrookError('BROOK_USAGE_MISSING_ARGUMENT', 'brook config set needs KEY=VALUE or --delete KEY');
    const node = args.options.node !== undefined ? String(parseInteger(args.options.node, '--node', { min: 0 })) : '';
    const scope = node === '' ? 'cluster-wide' : `on node ${node}`;
    await withClient(brokersFrom(args.options.brokers, io.env), async (client) => {
      if (node !== '' && !client.metadata.brokers.has(Number(node))) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--node ${node} is not a broker of this cluster`);
      try {
        await new Admin(client).incrementalAlterConfigs({ type: 'broker', name: node }, changes, { validateOnly: args.options['dry-run'] });
      } catch (e) {
        throw toBrookError(e);
      }
    });
    const verb = args.options['dry-run'] ? 'Would set' : 'Set';
    for (const c of changes) io.stdout(c.op === 'set' ? `${verb} ${c.name}=${c.value} (${scope})\n` : `${args.options['dry-run'] ? 'Would remove' : 'Removed'} ${c.name} (${scope})\n`);
    return 0;
  },
};

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  return runSubcommand('config', { get, set }, argv, io, ['brook config get num.partitions', 'brook config set log.retention.ms=86400000']);
}
