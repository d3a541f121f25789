// `brook group seek GROUP --to WHERE`: rewrites a consumer group's committed offsets, like
// `kafka-consumer-groups.sh --reset-offsets`. Only for a group without members (a running member
// would overwrite the offsets with its own commits): refused with BROOK_GROUP_NOT_EMPTY
// otherwise. An explicit offset is clamped to the partition's [log start, log end], as Kafka's
// tool does. --dry-run prints the plan and changes nothing.
import { BrookError } from '../../errors.ts';
import { Admin } from '../../client/admin.ts';
import { EARLIEST, LATEST, tpKey, type OffsetQuery } from '../../client/list-offsets.ts';
import { KafkaError } from '../../client/errors.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import {
  BROKERS_OPTION, HELP_OPTION, JSON_OPTION, brokersFrom, parseOrHelp, positionals, toBrookError, withClient, type Subcommand,
} from './common.ts';
import { parseTime, printJson, table } from './output.ts';

export type SeekTarget = { kind: 'start' } | { kind: 'end' } | { kind: 'time'; timestamp: number } | { kind: 'offset'; offset: number };

export function parseSeekTarget(text: string): SeekTarget {
  if (text === 'start' || text === 'earliest' || text === 'beginning') return { kind: 'start' };
  if (text === 'end' || text === 'latest') return { kind: 'end' };
  if (text.startsWith('@')) {
    const t = parseTime(text.slice(1));
    if (t !== null) return { kind: 'time', timestamp: t };
  } else if (/^\d+$/.test(text)) {
    return { kind: 'offset', offset: Number(text) };
  } else {
    const t = parseTime(text);
    if (t !== null) return { kind: 'time', timestamp: t };
  }
  throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--to must be start, end, an offset, @MILLISECONDS or an ISO date, got '${text}'`);
}

/** Group states in which members hold the group (Kafka's classic group states). */
const ACTIVE_STATES = new Set(['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Assigning', 'Reconciling']);

export const seek: Subcommand = {
  summary: 'Move a group\'s committed offsets (the group must have no members)',
  async run(argv, io) {
    const specs = {
      ...BROKERS_OPTION,
      to: { type: 'string', value: 'WHERE', description: 'start, end, an offset N, @MILLISECONDS or an ISO date/time' },
      topics: { type: 'string', short: 't', value: 'T1,T2', description: 'Topics to move (default: those the group has committed offsets for)' },
      'dry-run': { type: 'boolean', description: 'Show the plan without changing anything' },
      ...JSON_OPTION,
      ...HELP_OPTION,
    } as const;
    const args = parseOrHelp(argv, specs, {
      usage: 'brook group seek GROUP --to WHERE [--topics T1,T2] [--dry-run] [options]',
      summary: 'Set where a consumer group resumes: the offsets it has committed are rewritten for every partition of the topics. Refused while the group has members.',
      notes: ['An offset N is clamped to each partition\'s log start and end. A time picks the first record at or after it (the end when there is none).'],
      examples: [
        'brook group seek billing --to start --dry-run',
        'brook group seek billing --to end --topics orders',
        'brook group seek billing --to 2024-05-01T00:00:00Z',
        'brook group seek billing --to 1500 --topics orders',
      ],
    }, io);
    if (args === null) return 0;
    const [groupId] = positionals(args.positionals, ['a group id'], 'group seek');
    if (args.options.to === undefined) throw new BrookError('BROOK_USAGE_MISSING_ARGUMENT', 'brook group seek needs --to start|end|OFFSET|TIME');
    const target = parseSeekTarget(args.options.to);
    const named = args.options.topics?.split(',').map((s) => s.trim()).filter((s) => s !== '');

    const plan = await withClient(brokersFrom(args.options.brokers, io.env), async (client) => {
      const admin = new Admin(client);
      const [g] = await admin.describeGroups([groupId]);
      if (g.error !== null && g.error.code !== ErrorCode.GROUP_ID_NOT_FOUND) throw g.error;
      if (g.members.length > 0 || ACTIVE_STATES.has(g.state)) {
        throw new BrookError('BROOK_GROUP_NOT_EMPTY', `group '${groupId}' has ${g.members.length} active member${g.members.length === 1 ? '' : 's'} (state ${g.state}); stop its consumers first`);
      }
      const committed = g.error === null ? await admin.fetchOffsets(groupId) : [];
      const topics = named ?? [...new Set(committed.filter((c) => c.offset >= 0).map((c) => c.topic))].sort();
      if (topics.length === 0) {
        throw new BrookError('BROOK_USAGE_MISSING_ARGUMENT', `group '${groupId}' has no committed offsets; name the topics with --topics`);
      }
      const infos = await client.topics(topics, { autoCreate: false, requireLeaders: false });
      const parts = infos.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition })));
      const ask = (timestamp: number): OffsetQuery[] => parts.map((p) => ({ ...p, timestamp }));
      const [start, end] = await Promise.all([admin.listOffsets(ask(EARLIEST)), admin.listOffsets(ask(LATEST))]);
      const byTime = target.kind === 'time' ? await admin.listOffsets(ask(target.timestamp)) : null;
      const current = new Map(committed.filter((c) => c.offset >= 0).map((c) => [tpKey(c.topic, c.partition), c.offset]));
      return parts.map((p) => {
        const key = tpKey(p.topic, p.partition);
        const lo = start.get(key)?.offset ?? 0;
        const hi = end.get(key)?.offset ?? lo;
        let next: number;
        if (target.kind === 'start') next = lo;
        else if (target.kind === 'end') next = hi;
        else if (target.kind === 'offset') next = Math.min(hi, Math.max(lo, target.offset));
        else {
          const t = byTime!.get(key)?.offset ?? -1;
          next = t < 0 ? hi : t;
        }
        return { topic: p.topic, partition: p.partition, currentOffset: current.get(key) ?? null, newOffset: next };
      });
    });

    if (!args.options['dry-run']) {
      await withClient(brokersFrom(args.options.brokers, io.env), async (client) => {
        try {
          await new Admin(client).commitOffsets(groupId, plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.newOffset })));
        } catch (e) {
          // A member that joined meanwhile makes the coordinator refuse a generation -1 commit.
          if (e instanceof KafkaError && (e.code === ErrorCode.UNKNOWN_MEMBER_ID || e.code === ErrorCode.ILLEGAL_GENERATION || e.code === ErrorCode.REBALANCE_IN_PROGRESS)) {
            throw new BrookError('BROOK_GROUP_NOT_EMPTY', `group '${groupId}' has active members; stop its consumers first`);
          }
          throw toBrookError(e);
        }
      });
    }
    if (args.options.json) printJson(io, { groupId, dryRun: args.options['dry-run'], partitions: plan });
    else {
      io.stdout(table(['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'], plan.map((p) => [p.topic, p.partition, p.currentOffset, p.newOffset])));
      io.stdout(args.options['dry-run'] ? '\nDry run: no offsets were changed.\n' : `\nGroup ${groupId} will resume from the new offsets.\n`);
    }
    return 0;
  },
};
