// `brook consume TOPIC`: prints records as text (values), JSON lines, or a template. Without
// --group it reads the chosen partitions from --offset (start, end, N, -N = N before the end,
// @TIME = first record at or after a time); with --group it joins the consumer group, starts
// where the group left off (--offset only for partitions it never committed) and commits as it
// goes. It follows new records until interrupted, unless --num or --exit-at-end says when to stop.
import { BrookError } from '../../errors.ts';
import { processIo, type CliIo } from '../main.ts';
import type { Client } from '../../client/client.ts';
import { Consumer, type ConsumerRecord, type OffsetSpec } from '../../client/consumer.ts';
import { GroupConsumer } from '../../client/group/group-consumer.ts';
import {
  BROKERS_OPTION, HELP_OPTION, brokersFrom, parseInteger, parseOrHelp, parsePartitionList, positionals, withClient,
} from './common.ts';
import { drainStdout, formatCount, parseTime, Progress, progressEnabled } from './output.ts';
import { formatRecord, parseTemplate, recordJson, type Piece } from './record-format.ts';

const OPTIONS = {
  ...BROKERS_OPTION,
  offset: { type: 'string', short: 'o', value: 'WHERE', description: 'start (default), end, N, -N (N before the end) or @TIME' },
  num: { type: 'string', short: 'n', value: 'N', description: 'Stop after N records' },
  'exit-at-end': { type: 'boolean', short: 'e', description: 'Stop at the end of the partitions instead of waiting for more' },
  group: { type: 'string', short: 'g', value: 'GROUP', description: 'Consume as a member of this consumer group (commits offsets)' },
  partitions: { type: 'string', short: 'p', value: 'LIST', description: 'Only these partitions, e.g. 0,2 or 0-3 (not with --group)' },
  format: { type: 'string', short: 'f', value: 'FORMAT', description: "text (values, default), json, or a template like '%k\\t%v\\n'" },
  'read-committed': { type: 'boolean', description: 'Skip records of aborted transactions and wait for open ones' },
  ...HELP_OPTION,
} as const;

const HELP = {
  usage: 'brook consume TOPIC [options]',
  summary: 'Print the records of a topic. Follows new records until Ctrl-C unless --num or --exit-at-end is given.',
  notes: [
    'Template directives: %t topic, %p partition, %o offset, %k key, %v value, %T timestamp (ms),',
    '%h headers (k=v,k=v), %K/%S key/value length, %% a percent sign; escapes \\n \\t \\\\.',
    'A template prints no newline of its own: end it with \\n. json prints one object per line.',
    '@TIME is milliseconds since the epoch or an ISO date such as 2024-05-01T12:00:00Z.',
  ],
  examples: [
    'brook consume orders',
    'brook consume orders -o -10 -e',
    "brook consume orders -f '%p/%o %k=%v\\n' -n 100",
    'brook consume orders -g billing -f json',
    'brook consume orders -o @2024-05-01T00:00:00Z -p 0',
  ],
};

/** --offset as an OffsetSpec. */
export function parseOffset(text: string): OffsetSpec {
  if (text === 'start' || text === 'beginning' || text === 'earliest') return 'earliest';
  if (text === 'end' || text === 'latest') return 'latest';
  if (text.startsWith('@')) {
    const t = parseTime(text.slice(1));
    if (t === null) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--offset @TIME needs milliseconds or an ISO date, got '${text}'`);
    return { timestamp: t };
  }
  if (/^-\d+$/.test(text)) return { fromEnd: parseInteger(text.slice(1), '--offset -N', { min: 0 }) };
  if (/^\d+$/.test(text)) return parseInteger(text, '--offset', { min: 0 });
  throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--offset must be start, end, N, -N or @TIME, got '${text}'`);
}

export interface ConsumeDeps {
  stderrIsTty?: boolean;
  stdoutIsTty?: boolean;
  /** Resolves when the person interrupts (default: the first SIGINT or SIGTERM). */
  interrupted?: () => Promise<void>;
}

function onSignal(): { promise: Promise<void>; dispose(): void } {
  let done!: () => void;
  const promise = new Promise<void>((r) => (done = r));
  const handler = (): void => done();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return { promise, dispose: () => { process.off('SIGINT', handler); process.off('SIGTERM', handler); } };
}

export async function run(argv: readonly string[], io: CliIo, deps: ConsumeDeps = {}): Promise<number> {
  const args = parseOrHelp(argv, OPTIONS, HELP, io);
  if (args === null) return 0;
  const [topic] = positionals(args.positionals, ['a topic name'], 'consume');
  const o = args.options;
  const offset = parseOffset(o.offset ?? 'start');
  const limit = o.num !== undefined ? parseInteger(o.num, '--num', { min: 1 }) : Infinity;
  if (o.group !== undefined && o.partitions !== undefined) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', '--partitions cannot be used with --group (the group assigns partitions)');
  const wanted = o.partitions !== undefined ? parsePartitionList(o.partitions, '--partitions') : null;
  const format = o.format ?? 'text';
  const template: Piece[] | null = format === 'text' || format === 'json' ? null : parseTemplate(format);
  const print = (r: ConsumerRecord): string =>
    format === 'json' ? `${recordJson(r)}\n` : template !== null ? formatRecord(template, r) : `${r.value === null ? '' : r.value.toString('utf8')}\n`;
  const progress = new Progress({
    enabled: progressEnabled(io.env, (deps.stderrIsTty ?? process.stderr.isTTY) && !(deps.stdoutIsTty ?? process.stdout.isTTY)),
    write: io.stderr,
  });
  const signal = deps.interrupted ? { promise: deps.interrupted(), dispose() {} } : onSignal();

  try {
    await withClient(brokersFrom(o.brokers, io.env), async (client: Client) => {
      const t = await client.topic(topic, { autoCreate: false, requireLeaders: false });
      const partitions = wanted ?? t.partitions.map((p) => p.partition);
      for (const p of partitions) await client.partition(topic, p);
      const readCommitted = o['read-committed'];
      let source: Consumer | GroupConsumer;
      if (o.group !== undefined) {
        source = new GroupConsumer(client, { groupId: o.group, topics: [topic], readCommitted, defaultOffset: offset, autoOffsetReset: 'earliest' });
      } else {
        const c = new Consumer(client, { readCommitted, autoOffsetReset: 'earliest' });
        c.assign(partitions.map((partition) => ({ topic, partition, offset })));
        source = c;
      }
      let stop = false;
      // A reader that goes away (`| head`) ends the command quietly.
      const onPipeError = (e: NodeJS.ErrnoException): void => {
        if (e.code === 'EPIPE') {
          stop = true;
          if (source instanceof Consumer) source.wakeup();
        }
      };
      process.stdout.on('error', onPipeError);
      void signal.promise.then(() => {
        stop = true;
        if (source instanceof Consumer) source.wakeup();
        else void source.close();
      });
      let count = 0;
      try {
        if (source instanceof GroupConsumer) await Promise.race([source.start(), signal.promise]);
        while (!stop && count < limit) {
          const records = await source.poll({ maxRecords: Math.min(500, limit - count), timeoutMs: 500 });
          if (records.length > 0) {
            io.stdout(records.map(print).join(''));
            count += records.length;
            if (io.stdout === processIo.stdout) await drainStdout();
            progress.update(() => `consumed ${formatCount(count)} records`);
          }
          if (o['exit-at-end'] && records.length === 0 && atEnd(source)) break;
        }
      } catch (e) {
        if (!stop) throw e;
      } finally {
        progress.clear();
        await source.close();
        if (io.stdout === processIo.stdout) await drainStdout(true);
        process.stdout.off('error', onPipeError);
      }
    });
  } finally {
    signal.dispose();
  }
  return 0;
}

function atEnd(source: Consumer | GroupConsumer): boolean {
  const parts = source.assignment();
  if (source instanceof GroupConsumer && parts.length === 0) return false;
  return parts.every((p) => source.atEnd(p.topic, p.partition));
}
