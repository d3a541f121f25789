// The `brook topic` subcommands that change things: create, alter-config (incremental, KIP-339),
// add-partitions (CreatePartitions, KIP-195), trim-prefix (DeleteRecords, KIP-107) and delete.
import { BrookError } from '../../errors.ts';
import { Admin } from '../../client/admin.ts';
import type { KafkaError } from '../../client/errors.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import type { ConfigChange } from '../../client/admin-configs.ts';
import {
  BROKERS_OPTION, HELP_OPTION, JSON_OPTION, brokersFrom, parseInteger, parseOrHelp, parsePairs, parsePartitionList, positionals,
  toBrookError, withClient, type Subcommand,
} from './common.ts';
import { printJson, table } from './output.ts';

/** A per-item failure from the admin client, as the one-line error for it. */
function fail(error: KafkaError, topic: string): never {
  if (error.code === ErrorCode.TOPIC_ALREADY_EXISTS) throw new BrookError('BROOK_TOPIC_EXISTS', `topic '${topic}' already exists`, { cause: error });
  if (error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) throw new BrookError('BROOK_UNKNOWN_TOPIC', `unknown topic '${topic}'`, { cause: error });
  throw toBrookError(error);
}

const create: Subcommand = {
  summary: 'Create topics',
  async run(argv, io) {
    const specs = {
      ...BROKERS_OPTION,
      partitions: { type: 'string', short: 'p', value: 'N', description: 'Number of partitions (default: the broker\'s num.partitions)' },
      replicas: { type: 'string', short: 'r', value: 'N', description: 'Replication factor (default: the broker\'s default.replication.factor)' },
      config: { type: 'multiple', short: 'c', value: 'KEY=VALUE', description: 'Topic config, repeatable (e.g. -c cleanup.policy=compact)' },
      'if-not-exists': { type: 'boolean', description: 'Succeed when the topic already exists' },
      'dry-run': { type: 'boolean', description: 'Validate only (CreateTopics validate_only)' },
      ...HELP_OPTION,
    } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook topic create NAME... [options]',
      summary: 'Create one or more topics with the same settings.',
      examples: ['brook topic create orders', 'brook topic create orders -p 6 -r 1', 'brook topic create users -c cleanup.policy=compact -c retention.ms=-1'],
    }, io);
    if (args === null) return 0;
    const names = positionals(args.positionals, ['a topic name'], 'topic create', { variadic: true });
    const o = args.options;
    const partitions = o.partitions !== undefined ? parseInteger(o.partitions, '--partitions', { min: 1 }) : -1;
    const replicationFactor = o.replicas !== undefined ? parseInteger(o.replicas, '--replicas', { min: 1, max: 32767 }) : -1;
    const configs = parsePairs(o.config, '--config');
    const results = await withClient(brokersFrom(o.brokers, io.env), (client) =>
      new Admin(client).createTopics(names.map((name) => ({ name, partitions, replicationFactor, configs })), { validateOnly: o['dry-run'] }));
    for (const r of results) {
      if (r.error !== null) {
        if (r.error.code === ErrorCode.TOPIC_ALREADY_EXISTS && o['if-not-exists']) {
          io.stdout(`Topic ${r.name} already exists\n`);
          continue;
        }
        fail(r.error, r.name);
      }
      const shape = r.partitions > 0 ? ` (${r.partitions} partition${r.partitions === 1 ? '' : 's'}, replication factor ${r.replicationFactor})` : '';
      io.stdout(`${o['dry-run'] ? 'Would create' : 'Created'} topic ${r.name}${shape}\n`);
    }
    return 0;
  },
};

const del: Subcommand = {
  summary: 'Delete topics and their data',
  async run(argv, io) {
    const specs = { ...BROKERS_OPTION, 'if-exists': { type: 'boolean', description: 'Succeed when a topic does not exist' }, ...HELP_OPTION } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook topic delete NAME... [options]',
      summary: 'Delete topics. Their records are removed and cannot be recovered.',
      examples: ['brook topic delete orders', 'brook topic delete a b c --if-exists'],
    }, io);
    if (args === null) return 0;
    const names = positionals(args.positionals, ['a topic name'], 'topic delete', { variadic: true });
    const results = await withClient(brokersFrom(args.options.brokers, io.env), (client) => new Admin(client).deleteTopics(names));
    for (const r of results) {
      if (r.error !== null) {
        if (r.error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && args.options['if-exists']) continue;
        fail(r.error, r.name);
      }
      io.stdout(`Deleted topic ${r.name}\n`);
    }
    return 0;
  },
};

const alterConfig: Subcommand = {
  summary: 'Set or remove topic configs',
  async run(argv, io) {
    const specs = {
      ...BROKERS_OPTION,
      set: { type: 'multiple', short: 's', value: 'KEY=VALUE', description: 'Set a config, repeatable' },
      delete: { type: 'multiple', short: 'd', value: 'KEY', description: 'Remove a topic override (back to the default), repeatable' },
      'dry-run': { type: 'boolean', description: 'Validate only' },
      ...HELP_OPTION,
    } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook topic alter-config NAME [--set KEY=VALUE]... [--delete KEY]... [options]',
      summary: 'Change a topic\'s configs; keys not named keep their values (IncrementalAlterConfigs).',
      examples: ['brook topic alter-config orders --set retention.ms=3600000', 'brook topic alter-config orders --delete retention.ms'],
    }, io);
    if (args === null) return 0;
    const [name] = positionals(args.positionals, ['a topic name'], 'topic alter-config');
    const changes: ConfigChange[] = [
      ...Object.entries(parsePairs(args.options.set, '--set')).map(([k, v]): ConfigChange => ({ name: k, op: 'set', value: v })),
      ...args.options.delete.map((k): ConfigChange => ({ name: k, op: 'delete' })),
    ];
    if (changes.length === 0) throw new BrookError('BROOK_USAGE_MISSING_ARGUMENT', 'brook topic alter-config needs --set KEY=VALUE or --delete KEY');
    await withClient(brokersFrom(args.options.brokers, io.env), async (client) => {
      await client.topic(name, { requireLeaders: false });
      await new Admin(client).incrementalAlterConfigs({ type: 'topic', name }, changes, { validateOnly: args.options['dry-run'] });
    });
    for (const c of changes) io.stdout(c.op === 'set' ? `${args.options['dry-run'] ? 'Would set' : 'Set'} ${c.name}=${c.value} on topic ${name}\n` : `${args.options['dry-run'] ? 'Would remove' : 'Removed'} ${c.name} from topic ${name}\n`);
    return 0;
  },
};

const addPartitions: Subcommand = {
  summary: 'Add partitions to a topic',
  async run(argv, io) {
    const specs = {
      ...BROKERS_OPTION,
      num: { type: 'string', short: 'n', value: 'N', description: 'How many partitions to add' },
      total: { type: 'string', value: 'N', description: 'Grow to N partitions in total (instead of --num)' },
      'dry-run': { type: 'boolean', description: 'Validate only' },
      ...HELP_OPTION,
    } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook topic add-partitions NAME (--num N | --total N) [options]',
      summary: 'Add partitions to a topic. Keys already written stay where they are, so keyed records may map to other partitions afterwards.',
      examples: ['brook topic add-partitions orders --num 3', 'brook topic add-partitions orders --total 12'],
    }, io);
    if (args === null) return 0;
    const [name] = positionals(args.positionals, ['a topic name'], 'topic add-partitions');
    const { num, total } = args.options;
    if ((num === undefined) === (total === undefined)) throw new BrookError('BROOK_USAGE_MISSING_ARGUMENT', 'brook topic add-partitions needs exactly one of --num N and --total N');
    const result = await withClient(brokersFrom(args.options.brokers, io.env), async (client) => {
      const before = (await client.topic(name, { requireLeaders: false })).partitions.length;
      const count = num !== undefined ? before + parseInteger(num, '--num', { min: 1 }) : parseInteger(total!, '--total', { min: 1 });
      const [r] = await new Admin(client).createPartitions([{ topic: name, count }], { validateOnly: args.options['dry-run'] });
      if (r.error !== null) fail(r.error, name);
      return { before, count };
    });
    io.stdout(`${args.options['dry-run'] ? 'Would grow' : 'Grew'} topic ${name} from ${result.before} to ${result.count} partitions\n`);
    return 0;
  },
};

const trimPrefix: Subcommand = {
  summary: 'Delete the records before an offset (move the log start forward)',
  async run(argv, io) {
    const specs = {
      ...BROKERS_OPTION,
      offset: { type: 'string', short: 'o', value: 'N|end', description: 'Records before this offset are deleted; end = everything so far' },
      partitions: { type: 'string', short: 'p', value: 'LIST', description: 'Partitions, e.g. 0,2 or 0-3 (default: all)' },
      ...JSON_OPTION, ...HELP_OPTION,
    } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook topic trim-prefix NAME --offset N|end [options]',
      summary: 'Delete a topic\'s records before an offset (DeleteRecords). The new log start offset is printed per partition.',
      examples: ['brook topic trim-prefix orders --offset 1000 -p 0', 'brook topic trim-prefix orders --offset end'],
    }, io);
    if (args === null) return 0;
    const [name] = positionals(args.positionals, ['a topic name'], 'topic trim-prefix');
    if (args.options.offset === undefined) throw new BrookError('BROOK_USAGE_MISSING_ARGUMENT', 'brook topic trim-prefix needs --offset N or --offset end');
    const offset = args.options.offset === 'end' ? -1 : parseInteger(args.options.offset, '--offset', { min: 0 });
    const wanted = args.options.partitions !== undefined ? parsePartitionList(args.options.partitions, '--partitions') : null;
    const results = await withClient(brokersFrom(args.options.brokers, io.env), async (client) => {
      const t = await client.topic(name, { requireLeaders: false });
      const parts = wanted ?? t.partitions.map((p) => p.partition);
      for (const p of parts) if (!t.partitions.some((x) => x.partition === p)) await client.partition(name, p);
      return new Admin(client).deleteRecords(parts.map((partition) => ({ topic: name, partition, offset })));
    });
    const failed = results.find((r) => r.error !== null);
    if (args.options.json) printJson(io, results.map((r) => ({ partition: r.partition, logStartOffset: r.lowWatermark, error: r.error?.errorName ?? null })));
    else io.stdout(table(['PARTITION', 'LOG-START-OFFSET', 'ERROR'], results.map((r) => [r.partition, r.error ? null : r.lowWatermark, r.error?.message ?? ''])));
    if (failed?.error) throw toBrookError(failed.error);
    return 0;
  },
};

export const TOPIC_CHANGES: Readonly<Record<string, Subcommand>> = {
  create,
  'alter-config': alterConfig,
  'add-partitions': addPartitions,
  'trim-prefix': trimPrefix,
  delete: del,
};
