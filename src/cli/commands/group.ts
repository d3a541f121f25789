// `brook group list|describe|seek|delete`. describe prints a table like
// `kafka-consumer-groups.sh --describe`: per partition the committed (current) offset, the log end
// offset, the lag and the member that owns it. seek is in group-seek.ts.
import { BrookError } from '../../errors.ts';
import type { CliIo } from '../main.ts';
import type { Client } from '../../client/client.ts';
import { Admin } from '../../client/admin.ts';
import { LATEST, tpKey } from '../../client/list-offsets.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import {
  BROKERS_OPTION, HELP_OPTION, JSON_OPTION, brokersFrom, parseOrHelp, positionals, runSubcommand, toBrookError, withClient, type Subcommand,
} from './common.ts';
import { keyValues, printJson, table } from './output.ts';
import { seek } from './group-seek.ts';

export interface GroupPartitionRow {
  topic: string;
  partition: number;
  currentOffset: number | null;
  logEndOffset: number | null;
  lag: number | null;
  memberId: string | null;
  host: string | null;
  clientId: string | null;
}

export interface GroupReport {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: { memberId: string; groupInstanceId: string | null; clientId: string; host: string; partitions: number }[];
  partitions: GroupPartitionRow[];
}

/** A group's state, members and per-partition offsets; BROOK_UNKNOWN_GROUP when there is no such group. */
export async function groupReport(client: Client, groupId: string): Promise<GroupReport> {
  const admin = new Admin(client);
  const [g] = await admin.describeGroups([groupId]);
  if (g.error !== null && g.error.code !== ErrorCode.GROUP_ID_NOT_FOUND) throw toBrookError(g.error);
  const committed = g.error === null ? await admin.fetchOffsets(groupId) : [];
  const unknown = g.error !== null || ((g.state === 'Dead' || g.state === '') && g.members.length === 0 && committed.every((c) => c.offset < 0));
  if (unknown) throw new BrookError('BROOK_UNKNOWN_GROUP', `unknown group '${groupId}'`);
  const rows = new Map<string, GroupPartitionRow>();
  const row = (topic: string, partition: number): GroupPartitionRow => {
    const key = tpKey(topic, partition);
    let r = rows.get(key);
    if (r === undefined) {
      r = { topic, partition, currentOffset: null, logEndOffset: null, lag: null, memberId: null, host: null, clientId: null };
      rows.set(key, r);
    }
    return r;
  };
  for (const c of committed) if (c.offset >= 0) row(c.topic, c.partition).currentOffset = c.offset;
  for (const m of g.members) {
    for (const [topic, ps] of m.assignment ?? []) {
      for (const p of ps) Object.assign(row(topic, p), { memberId: m.memberId, host: m.clientHost, clientId: m.clientId });
    }
  }
  if (rows.size > 0) {
    await client.refreshMetadata([...new Set([...rows.values()].map((r) => r.topic))], { autoCreate: false });
    // Offsets may outlive their topic: only partitions that exist have a log end offset.
    const live = [...rows.values()].filter((r) => client.metadata.topics.get(r.topic)?.partitions.some((p) => p.partition === r.partition));
    const ends = await admin.listOffsets(live.map((r) => ({ topic: r.topic, partition: r.partition, timestamp: LATEST })));
    for (const r of live) {
      const end = ends.get(tpKey(r.topic, r.partition))?.offset;
      if (end === undefined) continue;
      r.logEndOffset = end;
      if (r.currentOffset !== null) r.lag = Math.max(0, end - r.currentOffset);
    }
  }
  return {
    groupId,
    state: g.state,
    protocolType: g.protocolType,
    protocol: g.protocol,
    members: g.members.map((m) => ({
      memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, host: m.clientHost,
      partitions: [...(m.assignment ?? new Map()).values()].reduce((n, ps) => n + ps.length, 0),
    })),
    partitions: [...rows.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition)),
  };
}

const list: Subcommand = {
  summary: 'List consumer groups with their state',
  async run(argv, io) {
    const specs = { ...BROKERS_OPTION, ...JSON_OPTION, ...HELP_OPTION } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook group list [options]',
      summary: 'List the consumer groups of the cluster.',
      examples: ['brook group list', 'brook group list --json'],
    }, io);
    if (args === null) return 0;
    positionals(args.positionals, [], 'group list');
    const groups = await withClient(brokersFrom(args.options.brokers, io.env), (client) => new Admin(client).listGroups());
    if (args.options.json) printJson(io, groups.map((g) => ({ groupId: g.groupId, state: g.state || null, protocolType: g.protocolType })));
    else if (groups.length === 0) io.stderr('No consumer groups.\n');
    else io.stdout(table(['GROUP', 'STATE', 'PROTOCOL-TYPE'], groups.map((g) => [g.groupId, g.state, g.protocolType])));
    return 0;
  },
};

const describe: Subcommand = {
  summary: 'Show a group\'s members, offsets and lag',
  async run(argv, io) {
    const specs = { ...BROKERS_OPTION, ...JSON_OPTION, ...HELP_OPTION } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook group describe GROUP [options]',
      summary: 'Describe a consumer group: its state and assignor, and per partition the committed offset, the log end offset, the lag and the member consuming it.',
      examples: ['brook group describe billing', 'brook group describe billing --json | jq ".partitions[] | .lag"'],
    }, io);
    if (args === null) return 0;
    const [groupId] = positionals(args.positionals, ['a group id'], 'group describe');
    const report = await withClient(brokersFrom(args.options.brokers, io.env), (client) => groupReport(client, groupId));
    if (args.options.json) {
      printJson(io, report);
      return 0;
    }
    io.stdout(keyValues([
      ['GROUP', report.groupId], ['STATE', report.state], ['ASSIGNOR', report.protocol || null], ['MEMBERS', report.members.length],
      ['TOTAL LAG', report.partitions.some((p) => p.lag !== null) ? report.partitions.reduce((n, p) => n + (p.lag ?? 0), 0) : null],
    ]));
    io.stdout('\n');
    if (report.partitions.length === 0) io.stdout('(no committed offsets and no assigned partitions)\n');
    else {
      io.stdout(table(['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'MEMBER-ID', 'HOST', 'CLIENT-ID'],
        report.partitions.map((p) => [p.topic, p.partition, p.currentOffset, p.logEndOffset, p.lag, p.memberId, p.host, p.clientId])));
    }
    return 0;
  },
};

const del: Subcommand = {
  summary: 'Delete consumer groups (they must have no members)',
  async run(argv, io) {
    const specs = { ...BROKERS_OPTION, ...HELP_OPTION } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook group delete GROUP... [options]',
      summary: 'Delete consumer groups and their committed offsets. A group with active members is refused.',
      examples: ['brook group delete billing'],
    }, io);
    if (args === null) return 0;
    const ids = positionals(args.positionals, ['a group id'], 'group delete', { variadic: true });
    const results = await withClient(brokersFrom(args.options.brokers, io.env), (client) => new Admin(client).deleteGroups(ids));
    for (const r of results) {
      if (r.error === null) {
        io.stdout(`Deleted group ${r.name}\n`);
        continue;
      }
      if (r.error.code === ErrorCode.GROUP_ID_NOT_FOUND) throw new BrookError('BROOK_UNKNOWN_GROUP', `unknown group '${r.name}'`);
      if (r.error.code === ErrorCode.NON_EMPTY_GROUP) throw new BrookError('BROOK_GROUP_NOT_EMPTY', `group '${r.name}' has active members; stop its consumers first`);
      throw toBrookError(r.error);
    }
    return 0;
  },
};

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  return runSubcommand('group', { list, describe, seek, delete: del }, argv, io, [
    'brook group list',
    'brook group describe billing',
    'brook group seek billing --to start --topics orders --dry-run',
    'brook group delete billing',
  ]);
}
