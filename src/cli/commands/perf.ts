// `brook perf produce|consume`: load generators built on Brook's own client, in the manner of
// kafka-producer-perf-test and kafka-consumer-perf-test. produce sends N records of S bytes
// (optionally paced to R records/s) and reports throughput and send→acknowledgement latency
// percentiles; consume reads N records (or until none arrive for --timeout-ms) and reports
// throughput and the Fetch requests it took. Progress lines go to stderr, the summary to stdout.
import { BrookError } from '../../errors.ts';
import type { CliIo } from '../main.ts';
import { Admin } from '../../client/admin.ts';
import type { Client } from '../../client/client.ts';
import { Consumer } from '../../client/consumer.ts';
import { KafkaError, UnknownTopicError } from '../../client/errors.ts';
import { GroupConsumer } from '../../client/group/group-consumer.ts';
import { Producer, type CompressionName } from '../../client/producer.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import {
  BROKERS_OPTION, HELP_OPTION, JSON_OPTION, brokersFrom, parseInteger, parseOrHelp, positionals, runSubcommand, toBrookError, withClient,
  type Subcommand,
} from './common.ts';
import { formatCount, printJson, progressEnabled } from './output.ts';
import { countFetches, runConsumeLoad } from '../perf/consume-run.ts';
import { runProduceLoad } from '../perf/produce-run.ts';

const TOPIC_OPTION = { topic: { type: 'string', short: 't', value: 'TOPIC', description: 'Topic (or give it as the first argument)' } } as const;
const PROGRESS_OPTION = {
  progress: { type: 'boolean', description: 'Print a progress line every 5 s (default: only when stderr is a terminal)' },
} as const;

const PRODUCE_OPTIONS = {
  ...BROKERS_OPTION,
  ...TOPIC_OPTION,
  'num-records': { type: 'string', short: 'n', value: 'N', description: 'How many records to send (required)' },
  'record-size': { type: 'string', short: 's', value: 'BYTES', description: 'Value size of each record (required)' },
  throughput: { type: 'string', value: 'R', description: 'At most R records/s over the run; -1 for no limit (default)' },
  acks: { type: 'string', short: 'a', value: 'all|1|0', description: 'Acknowledgement to wait for (default all)' },
  compression: { type: 'string', short: 'z', value: 'CODEC', description: 'none, gzip, snappy, lz4 or zstd (default none)' },
  'linger-ms': { type: 'string', value: 'MS', description: 'How long to wait to fill a batch (default 5)' },
  'batch-size': { type: 'string', value: 'BYTES', description: 'Largest batch per partition (default 16384)' },
  'partitions-create': { type: 'string', value: 'P', description: 'Create the topic with P partitions if it does not exist' },
  ...PROGRESS_OPTION,
  ...JSON_OPTION,
  ...HELP_OPTION,
} as const;

const PRODUCE_HELP = {
  usage: 'brook perf produce --topic TOPIC --num-records N --record-size BYTES [options]',
  summary: 'Send N records of a fixed size as fast as possible (or at --throughput) and report records/s, MiB/s and latency.',
  notes: [
    'Latency is from send() to the acknowledgement (per --acks), in ms: avg, p50, p95, p99, p99.9, max.',
    'Every record carries the same random payload and no key (keyless records stick to one partition',
    'per batch, as with Kafka\'s default partitioner). MiB = 1,048,576 bytes of record values.',
  ],
  examples: [
    'brook perf produce -t bench -n 1000000 -s 1024 --partitions-create 3',
    'brook perf produce -t bench -n 100000 -s 100 --throughput 20000 --acks 1',
    'brook perf produce -t bench -n 500000 -s 1024 -z lz4 --batch-size 65536 --json',
  ],
};

const CONSUME_OPTIONS = {
  ...BROKERS_OPTION,
  ...TOPIC_OPTION,
  messages: { type: 'string', short: 'n', value: 'N', description: 'Stop after N records (default: when none arrive for --timeout-ms)' },
  group: { type: 'string', short: 'g', value: 'GROUP', description: 'Read as a member of this group (default: every partition from the start)' },
  'timeout-ms': { type: 'string', value: 'MS', description: 'Stop when no record arrived for this long (default 10000)' },
  ...PROGRESS_OPTION,
  ...JSON_OPTION,
  ...HELP_OPTION,
} as const;

const CONSUME_HELP = {
  usage: 'brook perf consume --topic TOPIC [--messages N] [--group GROUP] [options]',
  summary: 'Read a topic as fast as possible and report records/s, MiB/s and the Fetch requests it took.',
  notes: [
    'Time runs from the first poll (after the group assigned partitions) to the last record read;',
    'the wait for the group is shown apart. Bytes are keys plus values. A group reads from its',
    'committed offsets (the start of partitions it never committed) and commits as it goes.',
  ],
  examples: [
    'brook perf consume -t bench -n 1000000',
    'brook perf consume -t bench -g perf-1 --timeout-ms 3000 --json',
  ],
};

const CODECS: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const MAX_RECORD_SIZE = 100 * 1024 * 1024;

export interface PerfDeps {
  stderrIsTty?: boolean;
}

function topicFrom(option: string | undefined, list: readonly string[], command: string): string {
  if (option !== undefined) {
    positionals(list, [], command);
    return option;
  }
  return positionals(list, ['a topic (--topic TOPIC)'], command)[0];
}

const ms = (v: number): string => v.toFixed(v < 10 ? 2 : 1);
const rate = (v: number): string => formatCount(Math.round(v * 10) / 10);

async function ensureTopic(client: Client, topic: string, createPartitions: number | undefined): Promise<void> {
  try {
    await client.topic(topic, { autoCreate: false, requireLeaders: false });
  } catch (e) {
    if (!(e instanceof UnknownTopicError) || createPartitions === undefined) throw e;
    const [created] = await new Admin(client).createTopics([{ name: topic, partitions: createPartitions }]);
    // Another run may have created it meanwhile: that is fine too.
    if (created.error !== null && !(created.error instanceof KafkaError && created.error.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw created.error;
    await client.topic(topic, { autoCreate: false, requireLeaders: true });
  }
}

async function produce(argv: readonly string[], io: CliIo, deps: PerfDeps): Promise<number> {
  const args = parseOrHelp(argv, PRODUCE_OPTIONS, PRODUCE_HELP, io);
  if (args === null) return 0;
  const o = args.options;
  const topic = topicFrom(o.topic, args.positionals, 'perf produce');
  if (o['num-records'] === undefined) throw new BrookError('BROOK_USAGE_MISSING_ARGUMENT', "brook perf produce needs --num-records N; see 'brook perf produce --help'");
  if (o['record-size'] === undefined) throw new BrookError('BROOK_USAGE_MISSING_ARGUMENT', "brook perf produce needs --record-size BYTES; see 'brook perf produce --help'");
  const records = parseInteger(o['num-records'], '--num-records', { min: 1 });
  const recordSize = parseInteger(o['record-size'], '--record-size', { min: 0, max: MAX_RECORD_SIZE });
  const throughput = o.throughput !== undefined ? parseInteger(o.throughput, '--throughput', { min: -1 }) : -1;
  if (throughput === 0) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', '--throughput must be a positive rate or -1 (no limit), got 0');
  const acksText = o.acks ?? 'all';
  if (!['all', '-1', '1', '0'].includes(acksText)) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--acks must be all, 1 or 0, got '${acksText}'`);
  const acks = acksText === 'all' || acksText === '-1' ? -1 : (Number(acksText) as 0 | 1);
  const compression = (o.compression ?? 'none') as CompressionName;
  if (!CODECS.includes(compression)) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--compression must be one of ${CODECS.join(', ')}, got '${o.compression}'`);
  const lingerMs = o['linger-ms'] !== undefined ? parseInteger(o['linger-ms'], '--linger-ms', { min: 0 }) : 5;
  const batchSize = o['batch-size'] !== undefined ? parseInteger(o['batch-size'], '--batch-size', { min: 1 }) : 16_384;
  const createPartitions = o['partitions-create'] !== undefined ? parseInteger(o['partitions-create'], '--partitions-create', { min: 1 }) : undefined;
  const progress = o.progress || progressEnabled(io.env, deps.stderrIsTty ?? process.stderr.isTTY);

  const result = await withClient(brokersFrom(o.brokers, io.env), async (client) => {
    await ensureTopic(client, topic, createPartitions);
    // A batch can be as large as asked: the request must hold at least one.
    const producer = new Producer(client, {
      acks, compression, lingerMs, batchSize, maxRequestSize: Math.max(1024 * 1024, batchSize + 1024, recordSize + 1024), deliveryTimeoutMs: 120_000,
    });
    try {
      const r = await runProduceLoad(producer, {
        topic, records, recordSize, throughput,
        onWindow: progress ? (w) => io.stderr(`${formatCount(w.records)} records sent, ${rate(w.recordsPerSecond)} records/s (${w.mibPerSecond.toFixed(2)} MiB/s), ` +
          `${ms(w.avgLatencyMs)} ms avg latency, ${ms(w.maxLatencyMs)} ms max latency\n`) : undefined,
      });
      return { ...r, idempotent: producer.isIdempotent };
    } finally {
      await producer.close().catch(() => {});
    }
  });

  const l = result.latencyMs;
  const error = result.firstError === null ? null : toBrookError(result.firstError);
  if (o.json) {
    printJson(io, {
      topic, records: result.records, failed: result.failed, recordSize, bytes: result.bytes, seconds: result.seconds,
      recordsPerSecond: result.recordsPerSecond, mibPerSecond: result.mibPerSecond, throughputLimit: throughput,
      acks: acksText === '-1' ? 'all' : acksText, compression, lingerMs, batchSize, idempotent: result.idempotent,
      latencyMs: { avg: l.avg, min: l.min, p50: l.p50, p95: l.p95, p99: l.p99, p999: l.p999, max: l.max },
      error: error instanceof Error ? error.message : null,
    });
  } else {
    io.stdout(`${formatCount(result.records)} records sent, ${rate(result.recordsPerSecond)} records/s (${result.mibPerSecond.toFixed(2)} MiB/s), ` +
      `${ms(l.avg)} ms avg latency, ${ms(l.max)} ms max latency, ${ms(l.p50)} ms p50, ${ms(l.p95)} ms p95, ${ms(l.p99)} ms p99, ${ms(l.p999)} ms p99.9\n`);
  }
  if (result.failed > 0) {
    const why = error instanceof Error ? error.message : String(error);
    throw new BrookError('BROOK_PRODUCE_FAILED', `${formatCount(result.failed)} of ${formatCount(records)} records were not produced: ${why}`);
  }
  return 0;
}

async function consume(argv: readonly string[], io: CliIo, deps: PerfDeps): Promise<number> {
  const args = parseOrHelp(argv, CONSUME_OPTIONS, CONSUME_HELP, io);
  if (args === null) return 0;
  const o = args.options;
  const topic = topicFrom(o.topic, args.positionals, 'perf consume');
  const limit = o.messages !== undefined ? parseInteger(o.messages, '--messages', { min: 1 }) : Infinity;
  const timeoutMs = o['timeout-ms'] !== undefined ? parseInteger(o['timeout-ms'], '--timeout-ms', { min: 1 }) : 10_000;
  const progress = o.progress || progressEnabled(io.env, deps.stderrIsTty ?? process.stderr.isTTY);

  const result = await withClient(brokersFrom(o.brokers, io.env), async (client) => {
    const info = await client.topic(topic, { autoCreate: false, requireLeaders: false });
    const fetches = countFetches(client);
    let source: Consumer | GroupConsumer;
    if (o.group !== undefined) {
      source = new GroupConsumer(client, { groupId: o.group, topics: [topic], autoOffsetReset: 'earliest' });
    } else {
      const c = new Consumer(client, { autoOffsetReset: 'earliest' });
      c.assign(info.partitions.map((p) => ({ topic, partition: p.partition, offset: 'earliest' as const })));
      source = c;
    }
    try {
      return await runConsumeLoad(source, fetches, {
        records: limit, timeoutMs,
        onWindow: progress ? (n, bytes, seconds) => io.stderr(`${formatCount(n)} records read, ${rate(seconds > 0 ? n / seconds : 0)} records/s ` +
          `(${(seconds > 0 ? bytes / 1024 / 1024 / seconds : 0).toFixed(2)} MiB/s) so far\n`) : undefined,
      });
    } finally {
      await source.close();
    }
  });

  if (o.json) {
    printJson(io, { topic, group: o.group ?? null, ...result });
  } else {
    io.stdout(`${formatCount(result.records)} records read (${(result.bytes / 1024 / 1024).toFixed(2)} MiB) in ${result.seconds.toFixed(3)} s, ` +
      `${rate(result.recordsPerSecond)} records/s (${result.mibPerSecond.toFixed(2)} MiB/s), ${formatCount(result.fetches)} fetch${result.fetches === 1 ? '' : 'es'}` +
      `${o.group !== undefined ? `, ${Math.round(result.joinMs)} ms to join the group` : ''}\n`);
  }
  if (result.timedOut) io.stderr(`brook: note: no record for ${timeoutMs} ms: stopped after ${formatCount(result.records)} of ${formatCount(limit)} records\n`);
  return 0;
}

export async function run(argv: readonly string[], io: CliIo, deps: PerfDeps = {}): Promise<number> {
  const subs: Record<string, Subcommand> = {
    produce: { summary: 'Send N records of S bytes and report throughput and latency', run: (a, i) => produce(a, i, deps) },
    consume: { summary: 'Read N records (or until none arrive) and report throughput', run: (a, i) => consume(a, i, deps) },
  };
  return runSubcommand('perf', subs, argv, io, [
    'brook perf produce -t bench -n 1000000 -s 1024 --partitions-create 3',
    'brook perf consume -t bench -n 1000000',
  ]);
}
