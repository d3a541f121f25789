// `brook perf produce` and `brook perf consume` run against a test broker (counts, bytes and
// latency fields of --json agree with what was asked; --throughput paces the run), plus the
// pieces they are built from: the fixed-size latency histogram and the throttle's schedule.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { LatencyHistogram } from '../../src/cli/perf/latency-histogram.ts';
import { Throttle } from '../../src/cli/perf/throttle.ts';
import { makePayload } from '../../src/cli/perf/produce-run.ts';
import { brook } from './commands-run.ts';

describe('LatencyHistogram', () => {
  test('percentiles of a uniform spread are within the bucket precision (1/64) and ordered', () => {
    const h = new LatencyHistogram();
    // 1..100000 µs, i.e. 0.001..100 ms, in a shuffled order.
    const values: number[] = [];
    for (let i = 1; i <= 100_000; i++) values.push(i / 1000);
    for (let i = values.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [values[i], values[j]] = [values[j], values[i]];
    }
    for (const v of values) h.record(v);
    const s = h.summary();
    assert.equal(s.count, 100_000);
    assert.equal(s.min, 0.001);
    assert.equal(s.max, 100);
    assert.ok(Math.abs(s.avg - 50.0005) < 1e-9, `avg ${s.avg}`);
    for (const [q, got] of [[0.5, s.p50], [0.95, s.p95], [0.99, s.p99], [0.999, s.p999]] as const) {
      const want = q * 100;
      assert.ok(Math.abs(got - want) / want <= 1 / 64, `p${q * 100}: ${got} vs ${want}`);
    }
    assert.ok(s.min <= s.p50 && s.p50 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max);
  });

  test('small values are exact, percentiles never pass the max, and an empty histogram reports zeros', () => {
    const h = new LatencyHistogram();
    for (const ms of [0.005, 0.005, 0.005, 0.1, 3600_000 * 2]) h.record(ms);
    assert.equal(h.percentile(0.5), 0.005);
    assert.equal(h.percentile(0.8), 0.1);
    assert.equal(h.percentile(1), 7_200_000, 'beyond the last bucket the exact max is reported');
    assert.deepEqual(new LatencyHistogram().summary(), { count: 0, avg: 0, min: 0, p50: 0, p95: 0, p99: 0, p999: 0, max: 0 });
  });
});

describe('Throttle', () => {
  test('record k is due at start + k/R: the allowance follows the clock, not the calls', () => {
    const t = new Throttle(1000, 10_000);
    assert.equal(t.allowance(0, 10_000), 1, 'the first record is due at the start');
    assert.equal(t.allowance(1, 10_000), 0);
    assert.equal(t.delayMs(1, 10_000), 1);
    assert.equal(t.allowance(1, 10_010), 10, 'records 1..10 are due 10 ms in');
    assert.equal(t.allowance(11, 10_010.5), 0);
    assert.equal(t.delayMs(11, 10_010.5), 0.5);
    // A late wake-up makes up every overdue record at once; the average rate holds.
    assert.equal(t.allowance(11, 11_000), 990);
    assert.equal(t.delayMs(1001, 11_000), 1);
    assert.equal(new Throttle(-1, 0).allowance(5, 0), Infinity);
    assert.equal(new Throttle(-1, 0).unlimited, true);
  });

  test('a fractional rate: 0.5 records/s is one record every 2 s', () => {
    const t = new Throttle(0.5, 0);
    assert.equal(t.allowance(1, 1999), 0);
    assert.equal(t.allowance(1, 2000), 1);
    assert.equal(t.delayMs(2, 2000), 2000);
  });
});

test('the payload is one buffer of the asked size, printable, and not constant', () => {
  let seed = 1;
  const p = makePayload(1000, () => ((seed = (seed * 48271) % 2147483647) / 2147483647));
  assert.equal(p.length, 1000);
  assert.ok(p.every((b) => b >= 65 && b <= 90));
  assert.ok(new Set(p).size > 10);
  assert.equal(makePayload(0).length, 0);
});

describe('brook perf', () => {
  let b: TestBroker;
  let env: Record<string, string>;

  before(async () => {
    b = await startTestBroker({ 'num.partitions': '1', 'group.initial.rebalance.delay.ms': '0' }, { quiet: true });
    env = { BROOK_BROKERS: b.bootstrap };
  });
  after(async () => {
    await b?.close();
  });

  const ordered = (l: Record<string, number>): boolean => l.min <= l.p50 && l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max;

  test('produce N records of S bytes, then consume them all, with and without a group', async () => {
    const p = await brook(['perf', 'produce', '--topic', 'perf-a', '--num-records', '3000', '--record-size', '100', '--partitions-create', '3', '--json'], { env });
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stderr, '', 'no progress lines when stderr is not a terminal');
    const out = JSON.parse(p.stdout);
    assert.equal(out.records, 3000);
    assert.equal(out.failed, 0);
    assert.equal(out.bytes, 300_000);
    assert.equal(out.recordSize, 100);
    assert.equal(out.acks, 'all');
    assert.equal(out.error, null);
    assert.ok(out.seconds > 0 && out.recordsPerSecond > 0 && out.mibPerSecond > 0);
    assert.ok(Math.abs(out.recordsPerSecond * out.seconds - 3000) < 1, 'records/s × seconds = records');
    assert.ok(out.latencyMs.max > 0 && out.latencyMs.avg <= out.latencyMs.max, JSON.stringify(out.latencyMs));
    assert.ok(ordered(out.latencyMs), JSON.stringify(out.latencyMs));

    const d = await brook(['topic', 'describe', 'perf-a', '--json'], { env });
    const parts: { logEndOffset: number }[] = JSON.parse(d.stdout).partitions;
    assert.equal(parts.length, 3, '--partitions-create made 3 partitions');
    assert.equal(parts.reduce((n, x) => n + x.logEndOffset, 0), 3000, 'every record is in the log');

    const c = await brook(['perf', 'consume', '--topic', 'perf-a', '--messages', '3000', '--timeout-ms', '5000', '--json'], { env });
    assert.equal(c.code, 0, c.stderr);
    const cj = JSON.parse(c.stdout);
    assert.equal(cj.records, 3000);
    assert.equal(cj.bytes, 300_000);
    assert.equal(cj.timedOut, false);
    assert.equal(cj.group, null);
    assert.ok(cj.fetches >= 1 && cj.polls >= 1, `fetches ${cj.fetches}, polls ${cj.polls}`);

    const g = await brook(['perf', 'consume', 'perf-a', '-g', 'perf-group', '-n', '3000', '--json'], { env });
    assert.equal(g.code, 0, g.stderr);
    const gj = JSON.parse(g.stdout);
    assert.deepEqual([gj.records, gj.bytes, gj.group, gj.timedOut], [3000, 300_000, 'perf-group', false]);
    assert.ok(gj.joinMs > 0);
    // The group committed where it stopped: a second run finds nothing left and stops on the timeout.
    const again = await brook(['perf', 'consume', 'perf-a', '-g', 'perf-group', '--timeout-ms', '300', '--json'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).records, 0);
  });

  test('text output, every codec and acks, and a consume that runs out before N', async () => {
    for (const [codec, acks] of [['gzip', '1'], ['snappy', '0'], ['lz4', 'all'], ['zstd', '1']]) {
      const p = await brook(['perf', 'produce', '-t', 'perf-b', '-n', '200', '-s', '50', '-z', codec, '-a', acks, '--linger-ms', '2', '--batch-size', '4096', '--partitions-create', '1'], { env });
      assert.equal(p.code, 0, `${codec}: ${p.stderr}`);
      assert.match(p.stdout, /^200 records sent, [\d,.]+ records\/s \([\d.]+ MiB\/s\), [\d.]+ ms avg latency, [\d.]+ ms max latency, [\d.]+ ms p50, [\d.]+ ms p95, [\d.]+ ms p99, [\d.]+ ms p99\.9\n$/);
    }
    const c = await brook(['perf', 'consume', '-t', 'perf-b', '-n', '1000', '--timeout-ms', '500'], { env });
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^800 records read \(0\.04 MiB\) in [\d.]+ s, [\d,.]+ records\/s \([\d.]+ MiB\/s\), \d+ fetch(es)?\n$/);
    assert.equal(c.stderr, 'brook: note: no record for 500 ms: stopped after 800 of 1,000 records\n');
  });

  test('--progress prints lines on stderr during the run', async () => {
    const p = await brook(['perf', 'produce', '-t', 'perf-c', '-n', '40', '-s', '10', '--throughput', '6', '--progress', '--partitions-create', '1'], { env, timeoutMs: 60_000 });
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stderr, /^\d+ records sent, [\d.]+ records\/s \([\d.]+ MiB\/s\), [\d.]+ ms avg latency, [\d.]+ ms max latency\n/);
    assert.match(p.stdout, /^40 records sent/);
  });

  test('--throughput paces the run: N records at R/s take at least (N-1)/R seconds', async () => {
    // Record k is not sent before k/R s, so the lower bound is exact; the upper bound only
    // guards against a throttle that stalls (it is loose for a busy machine).
    const p = await brook(['perf', 'produce', '-t', 'perf-d', '-n', '300', '-s', '100', '--throughput', '200', '--partitions-create', '1', '--json'], { env, timeoutMs: 60_000 });
    assert.equal(p.code, 0, p.stderr);
    const out = JSON.parse(p.stdout);
    assert.equal(out.records, 300);
    assert.equal(out.throughputLimit, 200);
    assert.ok(out.seconds >= 299 / 200, `took ${out.seconds} s`);
    assert.ok(out.seconds < 15, `took ${out.seconds} s`);
    assert.ok(out.recordsPerSecond <= 201, `${out.recordsPerSecond} records/s`);
  });

  test('mistakes: missing options, bad values, unknown topic; --help shows examples', async () => {
    const cases: [string[], number, RegExp][] = [
      [['perf', 'produce', '-t', 'x', '-s', '10'], 2, /needs --num-records N.*\[BROOK_USAGE_MISSING_ARGUMENT\]/],
      [['perf', 'produce', '-t', 'x', '-n', '10'], 2, /needs --record-size BYTES.*\[BROOK_USAGE_MISSING_ARGUMENT\]/],
      [['perf', 'produce', '-n', '10', '-s', '10'], 2, /needs a topic.*\[BROOK_USAGE_MISSING_ARGUMENT\]/],
      [['perf', 'produce', '-t', 'x', '-n', '10', '-s', '10', '--throughput', '0'], 2, /--throughput must be a positive rate or -1.*\[BROOK_USAGE_INVALID_ARGUMENT\]/],
      [['perf', 'produce', '-t', 'x', '-n', '10', '-s', '10', '-a', '2'], 2, /--acks must be all, 1 or 0.*\[BROOK_USAGE_INVALID_ARGUMENT\]/],
      [['perf', 'produce', '-t', 'x', '-n', '10', '-s', '10', '-z', 'brotli'], 2, /--compression must be one of.*\[BROOK_USAGE_INVALID_ARGUMENT\]/],
      [['perf', 'produce', '-t', 'missing', '-n', '10', '-s', '10'], 1, /^brook: unknown topic 'missing' \[BROOK_UNKNOWN_TOPIC\]\n$/],
      [['perf', 'consume', '-t', 'missing', '-n', '10'], 1, /^brook: unknown topic 'missing' \[BROOK_UNKNOWN_TOPIC\]\n$/],
      [['perf', 'consume', '-t', 'x', '--timeout-ms', 'soon'], 2, /--timeout-ms must be a whole number.*\[BROOK_USAGE_INVALID_ARGUMENT\]/],
      [['perf', 'bench'], 2, /unknown perf subcommand 'bench'.*\[BROOK_USAGE_UNKNOWN_SUBCOMMAND\]/],
    ];
    for (const [args, code, stderr] of cases) {
      const r = await brook(args, { env });
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, stderr, args.join(' '));
    }
    const help = await brook(['perf', 'produce', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: brook perf produce --topic TOPIC --num-records N --record-size BYTES/);
    assert.match(help.stdout, /Examples:\n {2}brook perf produce /);
    const list = await brook(['perf', '--help']);
    assert.match(list.stdout, /produce +Send N records.*\n +consume +Read N records/);
  });
});
