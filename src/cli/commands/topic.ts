// `brook topic ...`: list and describe here; the changes (create, alter-config, add-partitions,
// trim-prefix, delete) in topic-change.ts. describe shows the non-default configs (all with
// --all-configs) and per partition the leader, replicas, ISR and log start/end offsets.
import type { CliIo } from '../main.ts';
import { Admin } from '../../client/admin.ts';
import { tpKey } from '../../client/list-offsets.ts';
import type { TopicInfo } from '../../client/metadata.ts';
import {
  BROKERS_OPTION, HELP_OPTION, JSON_OPTION, brokersFrom, parseOrHelp, positionals, runSubcommand, withClient, type Subcommand,
} from './common.ts';
import { keyValues, printJson, table } from './output.ts';
import { TOPIC_CHANGES } from './topic-change.ts';

const replicationOf = (t: TopicInfo): number => Math.max(0, ...t.partitions.map((p) => p.replicas.length));

const list: Subcommand = {
  summary: 'List topics with their partition count and replication factor',
  async run(argv, io) {
    const specs = { ...BROKERS_OPTION, internal: { type: 'boolean', short: 'i', description: 'Include internal topics' }, ...JSON_OPTION, ...HELP_OPTION } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook topic list [options]',
      summary: 'List the topics, sorted by name.',
      examples: ['brook topic list', 'brook topic list --json | jq -r ".[].name"'],
    }, io);
    if (args === null) return 0;
    positionals(args.positionals, [], 'topic list');
    const topics = await withClient(brokersFrom(args.options.brokers, io.env), (client) => new Admin(client).listTopics({ includeInternal: args.options.internal }));
    if (args.options.json) {
      printJson(io, topics.map((t) => ({ name: t.name, id: t.id, internal: t.internal, partitions: t.partitions.length, replicationFactor: replicationOf(t) })));
    } else if (topics.length === 0) {
      io.stderr('No topics. Create one with: brook topic create NAME\n');
    } else {
      io.stdout(table(['NAME', 'PARTITIONS', 'REPLICAS'], topics.map((t) => [t.name, t.partitions.length, replicationOf(t)])));
    }
    return 0;
  },
};

const describe: Subcommand = {
  summary: 'Show a topic\'s configs and partitions (leader, replicas, ISR, offsets)',
  async run(argv, io) {
    const specs = {
      ...BROKERS_OPTION,
      'all-configs': { type: 'boolean', short: 'a', description: 'Show every config, not only those set for this topic' },
      ...JSON_OPTION, ...HELP_OPTION,
    } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook topic describe NAME... [options]',
      summary: 'Describe topics: id, configs that differ from the defaults, and per partition the leader, leader epoch, replicas, in-sync replicas, and log start and end offsets.',
      examples: ['brook topic describe orders', 'brook topic describe orders --all-configs', 'brook topic describe orders --json'],
    }, io);
    if (args === null) return 0;
    const names = positionals(args.positionals, ['a topic name'], 'topic describe', { variadic: true });
    const described = await withClient(brokersFrom(args.options.brokers, io.env), async (client) => {
      const admin = new Admin(client);
      const topics = await admin.describeTopics(names);
      const [configs, offsets] = await Promise.all([
        admin.describeConfigs(topics.map((t) => ({ type: 'topic' as const, name: t.name }))),
        admin.partitionOffsets(topics),
      ]);
      return topics.map((t, i) => {
        const cfg = configs[i];
        if (cfg.error !== null) throw cfg.error;
        return {
          name: t.name,
          id: t.id,
          internal: t.internal,
          replicationFactor: replicationOf(t),
          configs: cfg.entries
            .filter((e) => args.options['all-configs'] || !e.isDefault)
            .map((e) => ({ name: e.name, value: e.sensitive ? null : e.value, source: e.source, readOnly: e.readOnly, sensitive: e.sensitive })),
          partitions: t.partitions.map((p) => ({
            partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.isr,
            logStartOffset: offsets.get(tpKey(t.name, p.partition))?.start ?? -1,
            logEndOffset: offsets.get(tpKey(t.name, p.partition))?.end ?? -1,
          })),
        };
      });
    });
    if (args.options.json) {
      printJson(io, names.length === 1 ? described[0] : described);
      return 0;
    }
    described.forEach((t, i) => {
      if (i > 0) io.stdout('\n');
      io.stdout(keyValues([['NAME', t.name], ['ID', t.id], ['PARTITIONS', t.partitions.length], ['REPLICATION FACTOR', t.replicationFactor]]));
      io.stdout(`\nCONFIGS${args.options['all-configs'] ? '' : ' (set for this topic or its broker; --all-configs for every one)'}\n`);
      if (t.configs.length === 0) io.stdout('(none: every config has its default value)\n');
      else io.stdout(table(['KEY', 'VALUE', 'SOURCE'], t.configs.map((c) => [c.name, c.sensitive ? '(sensitive)' : c.value, c.source])));
      io.stdout('\n');
      io.stdout(table(['PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'LOG-START-OFFSET', 'LOG-END-OFFSET'], t.partitions.map((p) => [
        p.partition, p.leader < 0 ? 'none' : p.leader, p.leaderEpoch, p.replicas.join(','), p.isr.join(','), p.logStartOffset, p.logEndOffset,
      ])));
    });
    return 0;
  },
};

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { create, ...changes } = TOPIC_CHANGES;
  return runSubcommand('topic', { create, list, describe, ...changes }, argv, io, [
    'brook topic create orders -p 3 -c retention.ms=86400000',
    'brook topic list',
    'brook topic describe orders',
    'brook topic delete orders',
  ]);
}
