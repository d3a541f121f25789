// `brook produce` and `brook consume` run as a person runs them: records through stdin and
// stdout, templates, offsets, groups, following until interrupted, and the error cases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { partitionForKey } from '../../src/client/partitioner.ts';
import { brook, startBrook, waitFor } from './commands-run.ts';

describe('brook produce and consume', () => {
  let b: TestBroker;
  let env: Record<string, string>;

  before(async () => {
    b = await startTestBroker({ 'num.partitions': '1', 'group.initial.rebalance.delay.ms': '0' }, { quiet: true });
    env = { BROOK_BROKERS: b.bootstrap };
    for (const [name, n] of [['lines', 1], ['keyed', 3], ['codecs', 1], ['follow', 1], ['grouped', 2], ['times', 1]] as const) {
      const r = await brook(['topic', 'create', name, '-p', String(n)], { env });
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await b?.close();
  });

  test('lines in, lines out; the summary counts records and bytes; nothing on stderr when piped', async () => {
    const p = await brook(['produce', 'lines'], { env, input: 'one\ntwo\n\nfour' });
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^Produced 4 records \(10 B\) to lines in \d+\.\d\d s \([\d,]+ records\/s, [\d.]+ (B|KiB)\/s\)\n$/);
    assert.equal(p.stderr, '');
    const c = await brook(['consume', 'lines', '-e'], { env });
    assert.deepEqual([c.code, c.stdout, c.stderr], [0, 'one\ntwo\n\nfour\n', '']);
    // On a terminal (forced here) the progress line is drawn on stderr and erased at the end.
    const shown = await brook(['produce', 'lines'], { env: { ...env, BROOK_PROGRESS: '1' }, input: 'five\n' });
    assert.match(shown.stderr, /^\r\u001b\[2Kproduced \d+ of 1 records \(\d+ B\)(\r\u001b\[2K.*)*\r\u001b\[2K$/);
    const json = JSON.parse((await brook(['produce', 'lines', '--json'], { env, input: 'six\n' })).stdout);
    assert.equal(json.records, 1);
    assert.equal(json.failed, 0);
  });

  test('consume --offset: start, end, N, -N, and --num', async () => {
    const at = async (...args: string[]) => (await brook(['consume', 'lines', '-e', ...args], { env })).stdout;
    assert.equal(await at('-o', '3'), 'four\nfive\nsix\n');
    assert.equal(await at('-o', '-2'), 'five\nsix\n');
    assert.equal(await at('-o', 'end'), '');
    assert.equal(await at('-o', 'start', '-n', '2'), 'one\ntwo\n');
    assert.equal((await brook(['consume', 'lines', '-n', '1'], { env })).stdout, 'one\n', '--num alone stops too');
    const bad = await brook(['consume', 'lines', '-o', 'yesterday'], { env });
    assert.deepEqual([bad.code, bad.stderr], [2, "brook: --offset must be start, end, N, -N or @TIME, got 'yesterday' [BROOK_USAGE_INVALID_ARGUMENT]\n"]);
  });

  test('consume --offset @TIME finds the first record at or after it', async () => {
    const input = ['1000000\tearly', '2000000\tmiddle', '3000000\tlate'].join('\n');
    assert.equal((await brook(['produce', 'times', '-f', '%T\\t%v'], { env, input })).code, 0);
    const out = await brook(['consume', 'times', '-e', '-o', '@1500000', '-f', '%T %v\\n'], { env });
    assert.equal(out.stdout, '2000000 middle\n3000000 late\n');
    const iso = await brook(['consume', 'times', '-e', '-o', '@1970-01-01T00:50:00Z'], { env });
    assert.equal(iso.stdout, 'late\n', '00:50 is 3,000,000 ms');
  });

  test('templates: keys, headers and partitions in; any layout or JSON out', async () => {
    const input = 'alice\tlogin\tsrc=web\nbob\tlogout\tsrc=app,trace=7\n';
    const p = await brook(['produce', 'keyed', '-f', '%k\\t%v\\t%h', '-H', 'via=cli'], { env, input });
    assert.equal(p.code, 0, p.stderr);
    const out = await brook(['consume', 'keyed', '-e', '-f', 'json'], { env });
    const records = out.stdout.trim().split('\n').map((l) => JSON.parse(l)).sort((x, y) => x.key.localeCompare(y.key));
    assert.deepEqual(records.map((r) => [r.key, r.value, r.partition, r.headers]), [
      ['alice', 'login', partitionForKey(Buffer.from('alice'), 3), [{ key: 'via', value: 'cli' }, { key: 'src', value: 'web' }]],
      ['bob', 'logout', partitionForKey(Buffer.from('bob'), 3), [{ key: 'via', value: 'cli' }, { key: 'src', value: 'app' }, { key: 'trace', value: '7' }]],
    ]);
    const fixed = await brook(['produce', 'keyed', '-k', 'carol', '-p', '2'], { env, input: 'x\ny\n' });
    assert.equal(fixed.code, 0);
    const t = await brook(['consume', 'keyed', '-e', '-p', '2', '-o', '-2', '-f', '%t:%p:%o %k=%v (%K/%S)\\n'], { env });
    const base = t.stdout.split('\n')[0].split(':')[2].split(' ')[0];
    assert.equal(t.stdout, `keyed:2:${base} carol=x (5/1)\nkeyed:2:${Number(base) + 1} carol=y (5/1)\n`);
  });

  test('--delimiter and every compression codec', async () => {
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
      const r = await brook(['produce', 'codecs', '-z', codec, '-d', ';'], { env, input: `${codec}-a;${codec}-b;` });
      assert.equal(r.code, 0, `${codec}: ${r.stderr}`);
    }
    const out = await brook(['consume', 'codecs', '-e', '-f', '%v,'], { env });
    assert.equal(out.stdout, 'none-a,none-b,gzip-a,gzip-b,snappy-a,snappy-b,lz4-a,lz4-b,zstd-a,zstd-b,');
    const bad = await brook(['produce', 'codecs', '-z', 'brotli'], { env });
    assert.deepEqual([bad.code, bad.stderr], [2, "brook: --compression must be one of none, gzip, snappy, lz4, zstd, got 'brotli' [BROOK_USAGE_INVALID_ARGUMENT]\n"]);
  });

  test('produce errors: unknown topic, input not matching the template, bad template, bad partition', async () => {
    const unknown = await brook(['produce', 'nope'], { env, input: 'x\n' });
    assert.deepEqual([unknown.code, unknown.stderr], [1, "brook: unknown topic 'nope' [BROOK_UNKNOWN_TOPIC]\n"]);
    const mismatch = await brook(['produce', 'lines', '-f', '%k=%v'], { env, input: 'a=1\nno equals sign\n' });
    assert.deepEqual([mismatch.code, mismatch.stderr], [1, "brook: input record 2 ('no equals sign') does not match the --format template (no '=' after %k) [BROOK_INPUT_INVALID]\n"]);
    const template = await brook(['produce', 'lines', '-f', '%k%v'], { env });
    assert.equal(template.code, 2);
    assert.match(template.stderr, /has no text between the fields.*\[BROOK_USAGE_INVALID_ARGUMENT\]\n$/);
    const partition = await brook(['produce', 'lines', '-p', '4'], { env, input: 'x\n' });
    assert.deepEqual([partition.code, partition.stderr], [1, "brook: topic 'lines' has no partition 4 (it has 1) [BROOK_UNKNOWN_PARTITION]\n"]);
    const consume = await brook(['consume', 'nope', '-e'], { env });
    assert.deepEqual([consume.code, consume.stderr], [1, "brook: unknown topic 'nope' [BROOK_UNKNOWN_TOPIC]\n"]);
  });

  test('consume follows new records until interrupted, then exits 0', async () => {
    const run = startBrook(['consume', 'follow', '-o', 'end'], env);
    // Nothing is printed until a record arrives; produce until the consumer shows one.
    for (let i = 0; !run.output().stdout.includes('hello-'); i++) {
      assert.equal((await brook(['produce', 'follow'], { env, input: `hello-${i}\n` })).code, 0);
      await waitFor(() => run.output().stdout.includes('hello-') || false, 'nothing', 500).catch(() => {});
      assert.ok(i < 40, 'the following consumer never printed a record');
    }
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 0);
    assert.match(run.output().stdout, /^(hello-\d+\n)+$/);
    assert.equal(run.output().stderr, '');
  });

  test('consume --group commits, so the next run continues; group describe shows no lag', async () => {
    assert.equal((await brook(['produce', 'grouped', '-k', 'k'], { env, input: 'g1\ng2\ng3\n' })).code, 0);
    const first = await brook(['consume', 'grouped', '-g', 'readers', '-n', '2'], { env });
    assert.deepEqual([first.code, first.stdout], [0, 'g1\ng2\n']);
    const second = await brook(['consume', 'grouped', '-g', 'readers', '-e'], { env });
    assert.deepEqual([second.code, second.stdout], [0, 'g3\n']);
    const described = JSON.parse((await brook(['group', 'describe', 'readers', '--json'], { env })).stdout);
    assert.equal(described.state, 'Empty');
    assert.deepEqual(described.partitions.map((p: { lag: number }) => p.lag), [0, 0]);
    const both = await brook(['consume', 'grouped', '-g', 'readers', '-p', '0'], { env });
    assert.deepEqual([both.code, both.stderr], [2, 'brook: --partitions cannot be used with --group (the group assigns partitions) [BROOK_USAGE_INVALID_ARGUMENT]\n']);
  });
});
