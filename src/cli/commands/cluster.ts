// `brook cluster info` (cluster id, controller, brokers with racks) and `brook cluster health`
// (every broker reachable, a controller known, every partition with a leader and a full ISR).
// health exits 1 with BROOK_CLUSTER_UNHEALTHY after printing its report when something is wrong.
import { BrookError } from '../../errors.ts';
import type { CliIo } from '../main.ts';
import { Admin } from '../../client/admin.ts';
import {
  BROKERS_OPTION, HELP_OPTION, JSON_OPTION, brokersFrom, parseOrHelp, positionals, runSubcommand, withClient, type Subcommand,
} from './common.ts';
import { keyValues, printJson, table } from './output.ts';

const OPTIONS = { ...BROKERS_OPTION, ...JSON_OPTION, ...HELP_OPTION } as const;

const info: Subcommand = {
  summary: 'Show the cluster id, the controller and the brokers',
  async run(argv, io) {
    const args = parseOrHelp(argv, OPTIONS, {
      usage: 'brook cluster info [options]',
      summary: 'Show the cluster id, the controller and every broker with its address and rack.',
      examples: ['brook cluster info', 'brook cluster info -b 10.0.0.5:9092 --json'],
    }, io);
    if (args === null) return 0;
    positionals(args.positionals, [], 'cluster info');
    const brokers = brokersFrom(args.options.brokers, io.env);
    const c = await withClient(brokers, (client) => new Admin(client).describeCluster());
    if (args.options.json) {
      printJson(io, c);
      return 0;
    }
    io.stdout(keyValues([['CLUSTER ID', c.clusterId], ['CONTROLLER', c.controllerId >= 0 ? c.controllerId : null], ['BROKERS', c.brokers.length]]));
    io.stdout('\n');
    io.stdout(table(['ID', 'HOST', 'PORT', 'RACK'], c.brokers.map((b) => [b.nodeId === c.controllerId ? `${b.nodeId}*` : b.nodeId, b.host, b.port, b.rack])));
    return 0;
  },
};

const health: Subcommand = {
  summary: 'Check that brokers are reachable and every partition has a leader',
  async run(argv, io) {
    const args = parseOrHelp(argv, OPTIONS, {
      usage: 'brook cluster health [options]',
      summary: 'Check the cluster: every broker answers, a controller is known, and every partition has a leader and a full in-sync replica set. Exits 1 when a problem is found.',
      examples: ['brook cluster health', 'brook cluster health --json && echo ok'],
    }, io);
    if (args === null) return 0;
    positionals(args.positionals, [], 'cluster health');
    const brokers = brokersFrom(args.options.brokers, io.env);
    const report = await withClient(brokers, async (client) => {
      const meta = await client.refreshMetadata(null, { autoCreate: false });
      const ids = [...meta.brokers.keys()].sort((a, b) => a - b);
      const reach = await Promise.all(ids.map(async (id) => {
        try {
          await client.node(id).ensure();
          return null;
        } catch {
          return id;
        }
      }));
      const unreachable = reach.filter((x): x is number => x !== null);
      const offline: string[] = [];
      const underReplicated: string[] = [];
      for (const t of meta.topics.values()) {
        for (const p of t.partitions) {
          if (p.leader < 0) offline.push(`${t.name}-${p.partition}`);
          else if (p.isr.length < p.replicas.length) underReplicated.push(`${t.name}-${p.partition}`);
        }
      }
      const controller = meta.controllerId >= 0 ? meta.controllerId : null;
      const healthy = unreachable.length === 0 && controller !== null && offline.length === 0 && underReplicated.length === 0;
      return { healthy, controllerId: controller, brokers: ids, unreachableBrokers: unreachable, offlinePartitions: offline, underReplicatedPartitions: underReplicated };
    });
    if (args.options.json) printJson(io, report);
    else {
      const list = (xs: (string | number)[]): string => (xs.length === 0 ? '0' : `${xs.length} (${xs.slice(0, 10).join(', ')}${xs.length > 10 ? ', ...' : ''})`);
      io.stdout(keyValues([
        ['HEALTHY', report.healthy ? 'yes' : 'no'],
        ['CONTROLLER', report.controllerId],
        ['BROKERS', report.brokers.join(', ')],
        ['UNREACHABLE BROKERS', list(report.unreachableBrokers)],
        ['OFFLINE PARTITIONS', list(report.offlinePartitions)],
        ['UNDER-REPLICATED PARTITIONS', list(report.underReplicatedPartitions)],
      ]));
    }
    if (!report.healthy) {
      const problems = [
        report.unreachableBrokers.length > 0 ? `${report.unreachableBrokers.length} unreachable broker(s)` : '',
        report.controllerId === null ? 'no controller' : '',
        report.offlinePartitions.length > 0 ? `${report.offlinePartitions.length} partition(s) without a leader` : '',
        report.underReplicatedPartitions.length > 0 ? `${report.underReplicatedPartitions.length} under-replicated partition(s)` : '',
      ].filter((s) => s !== '');
      throw new BrookError('BROOK_CLUSTER_UNHEALTHY', `cluster is unhealthy: ${problems.join(', ')}`);
    }
    return 0;
  },
};

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  return runSubcommand('cluster', { info, health }, argv, io, ['brook cluster info', 'brook cluster health -b 127.0.0.1:9092']);
}
