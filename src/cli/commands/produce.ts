// `brook produce TOPIC`: records from stdin, one per line (or per --delimiter), optionally parsed
// with a --format template (%k key, %v value, %p partition, %T timestamp, %h headers). Reading
// waits while the producer's buffer is full, so a large file streams in bounded memory. Prints a
// summary (records, bytes, time, rate); progress on a terminal only. Exits 1 with
// BROOK_PRODUCE_FAILED when some records were refused (the others were written).
import { BrookError } from '../../errors.ts';
import { processIo, type CliIo } from '../main.ts';
import { Producer, type CompressionName, type ProducerRecord } from '../../client/producer.ts';
import type { RecordHeader } from '../../protocol/records.ts';
import {
  BROKERS_OPTION, HELP_OPTION, JSON_OPTION, brokersFrom, parseInteger, parseOrHelp, parsePairs, positionals, toBrookError, withClient,
} from './common.ts';
import { drainStdout, formatBytes, formatCount, printJson, Progress, progressEnabled } from './output.ts';
import { inputTemplate, parseInput, unescape, type Piece } from './record-format.ts';

const OPTIONS = {
  ...BROKERS_OPTION,
  key: { type: 'string', short: 'k', value: 'KEY', description: 'Key for every record (default: none)' },
  format: { type: 'string', short: 'f', value: 'TEMPLATE', description: "Parse each input record, e.g. '%k\\t%v' (see below)" },
  delimiter: { type: 'string', short: 'd', value: 'TEXT', description: 'Record separator in the input (default \\n)' },
  header: { type: 'multiple', short: 'H', value: 'KEY=VALUE', description: 'Header for every record, repeatable' },
  partition: { type: 'string', short: 'p', value: 'N', description: 'Write every record to this partition (default: by key, else sticky)' },
  compression: { type: 'string', short: 'z', value: 'CODEC', description: 'none, gzip, snappy, lz4 or zstd (default none)' },
  acks: { type: 'string', short: 'a', value: 'all|1|0', description: 'Acknowledgement to wait for (default all)' },
  'linger-ms': { type: 'string', value: 'MS', description: 'How long to wait to fill a batch (default 5)' },
  verbose: { type: 'boolean', short: 'v', description: 'Print producer notes (e.g. idempotence unavailable)' },
  ...JSON_OPTION,
  ...HELP_OPTION,
} as const;

const HELP = {
  usage: 'brook produce TOPIC [options] < records',
  summary: 'Write records read from stdin to a topic, one per line (or per --delimiter).',
  notes: [
    'Template directives for --format: %k key, %v value, %p partition, %T timestamp (ms),',
    '%h headers as k=v,k=v, %% a percent sign; \\t \\n \\\\ are escapes. Text between directives',
    'must appear in the input; a field ends where the following text starts.',
  ],
  examples: [
    'echo hello | brook produce greetings',
    "printf 'user1\\tlogin\\nuser2\\tlogout\\n' | brook produce events -f '%k\\t%v'",
    'brook produce events -k user1 -H source=cli -z zstd < events.txt',
    "brook produce blobs -d '\\0' < records.bin",
  ],
};

const CODECS: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export interface ProduceDeps {
  stdin?: AsyncIterable<Buffer | string>;
  stderrIsTty?: boolean;
}

/** Splits a byte stream into records at `delimiter`; a trailing empty record is dropped. */
export async function* splitRecords(input: AsyncIterable<Buffer | string>, delimiter: Buffer): AsyncGenerator<Buffer> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    const data = carry.length === 0 ? Buffer.from(chunk) : Buffer.concat([carry, Buffer.from(chunk)]);
    let start = 0;
    for (let i = data.indexOf(delimiter, start); i >= 0; i = data.indexOf(delimiter, start)) {
      yield data.subarray(start, i);
      start = i + delimiter.length;
    }
    carry = Buffer.from(data.subarray(start));
  }
  if (carry.length > 0) yield carry;
}

export async function run(argv: readonly string[], io: CliIo, deps: ProduceDeps = {}): Promise<number> {
  const args = parseOrHelp(argv, OPTIONS, HELP, io);
  if (args === null) return 0;
  const [topic] = positionals(args.positionals, ['a topic name'], 'produce');
  const o = args.options;
  const compression = (o.compression ?? 'none') as CompressionName;
  if (!CODECS.includes(compression)) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--compression must be one of ${CODECS.join(', ')}, got '${o.compression}'`);
  const acksText = o.acks ?? 'all';
  if (!['all', '-1', '1', '0'].includes(acksText)) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', `--acks must be all, 1 or 0, got '${acksText}'`);
  const acks = acksText === 'all' || acksText === '-1' ? -1 : (Number(acksText) as 0 | 1);
  const partition = o.partition !== undefined ? parseInteger(o.partition, '--partition', { min: 0 }) : undefined;
  const lingerMs = o['linger-ms'] !== undefined ? parseInteger(o['linger-ms'], '--linger-ms', { min: 0 }) : 5;
  const delimiter = Buffer.from(unescape(o.delimiter ?? '\\n'));
  if (delimiter.length === 0) throw new BrookError('BROOK_USAGE_INVALID_ARGUMENT', '--delimiter must not be empty');
  const template: Piece[] | null = o.format !== undefined ? inputTemplate(o.format) : null;
  const headers: RecordHeader[] = Object.entries(parsePairs(o.header, '--header')).map(([key, value]) => ({ key, value: Buffer.from(value) }));
  const key = o.key !== undefined ? Buffer.from(o.key) : null;
  const progress = new Progress({ enabled: progressEnabled(io.env, deps.stderrIsTty ?? process.stderr.isTTY), write: io.stderr });

  const summary = await withClient(brokersFrom(o.brokers, io.env), async (client) => {
    await client.topic(topic, { autoCreate: false, requireLeaders: false });
    if (partition !== undefined) await client.partition(topic, partition);
    const producer = new Producer(client, {
      acks, compression, lingerMs, deliveryTimeoutMs: 30_000, onNote: (m) => (o.verbose ? io.stderr(`brook: note: ${m}\n`) : undefined),
    });
    const started = Date.now();
    let read = 0;
    let sent = 0;
    let failed = 0;
    let bytes = 0;
    let firstError: unknown = null;
    const partitionsUsed = new Set<number>();
    const input = deps.stdin ?? (process.stdin as AsyncIterable<Buffer>);
    try {
      for await (const raw of splitRecords(input, delimiter)) {
        read++;
        const record: ProducerRecord = { topic, key, value: raw, headers, partition };
        if (template !== null) {
          const p = parseInput(template, raw, read);
          record.value = p.value;
          if (p.key !== undefined) record.key = p.key;
          if (p.partition !== undefined) record.partition = p.partition;
          if (p.timestamp !== undefined) record.timestamp = p.timestamp;
          if (p.headers !== undefined) record.headers = [...headers, ...p.headers];
        }
        const size = (record.value as Buffer).length + ((record.key as Buffer | null)?.length ?? 0);
        if (!producer.hasCapacity()) await producer.waitForCapacity();
        producer.send(record).then(
          (m) => {
            sent++;
            bytes += size;
            partitionsUsed.add(m.partition);
          },
          (e) => {
            failed++;
            firstError ??= e;
          },
        );
        progress.update(() => `produced ${formatCount(sent)} of ${formatCount(read)} records (${formatBytes(bytes)})`);
      }
    } finally {
      await producer.flush();
      progress.clear();
    }
    return { topic, records: sent, failed, bytes, seconds: (Date.now() - started) / 1000, partitions: [...partitionsUsed].sort((a, b) => a - b), firstError, idempotent: producer.isIdempotent };
  });

  const { firstError, ...shown } = summary;
  const rate = summary.seconds > 0 ? summary.records / summary.seconds : summary.records;
  if (o.json) printJson(io, { ...shown, recordsPerSecond: Math.round(rate), error: firstError instanceof Error ? firstError.message : null });
  else {
    io.stdout(`Produced ${formatCount(summary.records)} record${summary.records === 1 ? '' : 's'} (${formatBytes(summary.bytes)}) to ${topic} in ${summary.seconds.toFixed(2)} s` +
      ` (${formatCount(Math.round(rate))} records/s, ${formatBytes(Math.round(summary.seconds > 0 ? summary.bytes / summary.seconds : summary.bytes))}/s)\n`);
  }
  if (io.stdout === processIo.stdout) await drainStdout(true);
  if (summary.failed > 0) {
    const cause = toBrookError(firstError);
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new BrookError('BROOK_PRODUCE_FAILED', `${formatCount(summary.failed)} of ${formatCount(summary.failed + summary.records)} records were not produced: ${why}`);
  }
  return 0;
}
