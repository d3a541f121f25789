// `brook topic ...`, `brook cluster ...`, `brook config ...` and the help of every command, run as
// a person runs them (a child process against a broker started by the test): stdout, stderr and
// exit status, error cases included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { freePort } from '../../src/broker/server.ts';
import { brook } from './commands-run.ts';

describe('brook topic, cluster and config', () => {
  let b: TestBroker;
  let env: Record<string, string>;

  before(async () => {
    b = await startTestBroker({ 'num.partitions': '2' }, { quiet: true });
    env = { BROOK_BROKERS: b.bootstrap };
  });
  after(async () => {
    await b?.close();
  });

  test('every command and subcommand has --help with examples', async () => {
    const commands = [
      ['cluster', 'info'], ['cluster', 'health'],
      ['topic', 'create'], ['topic', 'list'], ['topic', 'describe'], ['topic', 'alter-config'], ['topic', 'add-partitions'], ['topic', 'trim-prefix'], ['topic', 'delete'],
      ['produce'], ['consume'],
      ['group', 'list'], ['group', 'describe'], ['group', 'seek'], ['group', 'delete'],
      ['config', 'get'], ['config', 'set'],
    ];
    const runs = await Promise.all(commands.map((c) => brook([...c, '--help'])));
    runs.forEach((r, i) => {
      assert.equal(r.code, 0, commands[i].join(' '));
      assert.match(r.stdout, new RegExp(`^Usage: brook ${commands[i].join(' ')}`), commands[i].join(' '));
      assert.match(r.stdout, /--brokers/);
      assert.match(r.stdout, /\nExamples:\n {2}.*brook /);
      assert.equal(r.stderr, '');
    });
    for (const group of ['cluster', 'topic', 'group', 'config']) {
      const r = await brook([group, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /Subcommands:/);
    }
    const top = await brook(['--help']);
    for (const c of ['cluster', 'topic', 'produce', 'consume', 'group', 'config']) assert.match(top.stdout, new RegExp(`\\n  ${c} `));
  });

  test('topic create, list and describe (text and JSON)', async () => {
    const created = await brook(['topic', 'create', 'orders', '-p', '3', '-c', 'retention.ms=3600000'], { env });
    assert.deepEqual([created.code, created.stdout, created.stderr], [0, 'Created topic orders (3 partitions, replication factor 1)\n', '']);
    assert.equal((await brook(['topic', 'create', 'users', 'audit'], { env })).code, 0);

    const list = await brook(['topic', 'list'], { env });
    assert.equal(list.stdout, 'NAME    PARTITIONS  REPLICAS\naudit   2           1\norders  3           1\nusers   2           1\n');
    const json = JSON.parse((await brook(['topic', 'list', '--json'], { env })).stdout);
    assert.deepEqual(json.map((t: { name: string; partitions: number }) => [t.name, t.partitions]), [['audit', 2], ['orders', 3], ['users', 2]]);

    const d = await brook(['topic', 'describe', 'orders'], { env });
    assert.equal(d.code, 0);
    assert.match(d.stdout, /^NAME +orders\nID +[0-9a-f-]{36}\nPARTITIONS +3\n/);
    assert.match(d.stdout, /\nretention\.ms +3600000 +dynamic-topic\n/);
    assert.match(d.stdout, /\nPARTITION +LEADER +EPOCH +REPLICAS +ISR +LOG-START-OFFSET +LOG-END-OFFSET\n0 +1 +\d+ +1 +1 +0 +0\n1 /);
    const dj = JSON.parse((await brook(['topic', 'describe', 'orders', '--json'], { env })).stdout);
    assert.equal(dj.partitions.length, 3);
    assert.deepEqual(dj.configs.map((c: { name: string }) => c.name), ['retention.ms']);
    const all = JSON.parse((await brook(['topic', 'describe', 'orders', '--json', '--all-configs'], { env })).stdout);
    assert.ok(all.configs.length > 20);
  });

  test('topic create errors: exists, bad values, missing name; --if-not-exists', async () => {
    const exists = await brook(['topic', 'create', 'orders'], { env });
    assert.deepEqual([exists.code, exists.stdout, exists.stderr], [1, '', "brook: topic 'orders' already exists [BROOK_TOPIC_EXISTS]\n"]);
    const ok = await brook(['topic', 'create', 'orders', '--if-not-exists'], { env });
    assert.deepEqual([ok.code, ok.stdout], [0, 'Topic orders already exists\n']);
    const bad = await brook(['topic', 'create', 'x', '-p', 'many'], { env });
    assert.deepEqual([bad.code, bad.stderr], [2, "brook: --partitions must be a whole number, got 'many' [BROOK_USAGE_INVALID_ARGUMENT]\n"]);
    const cfg = await brook(['topic', 'create', 'x', '-c', 'retention.ms=soon'], { env });
    assert.equal(cfg.code, 1);
    assert.match(cfg.stderr, /^brook: the broker refused: INVALID_CONFIG \(topic 'x'\).*retention\.ms.*\[BROOK_REQUEST_REFUSED\]\n$/);
    const missing = await brook(['topic', 'create'], { env });
    assert.deepEqual([missing.code, missing.stderr], [2, "brook: brook topic create needs a topic name; see 'brook topic create --help' [BROOK_USAGE_MISSING_ARGUMENT]\n"]);
    const sub = await brook(['topic', 'lst'], { env });
    assert.deepEqual([sub.code, sub.stderr], [2, "brook: unknown topic subcommand 'lst' (did you mean 'list'?); see 'brook topic --help' [BROOK_USAGE_UNKNOWN_SUBCOMMAND]\n"]);
  });

  test('topic alter-config, add-partitions, trim-prefix', async () => {
    const alter = await brook(['topic', 'alter-config', 'orders', '--set', 'cleanup.policy=delete', '--delete', 'retention.ms'], { env });
    assert.deepEqual([alter.code, alter.stdout], [0, 'Set cleanup.policy=delete on topic orders\nRemoved retention.ms from topic orders\n']);
    const d = JSON.parse((await brook(['topic', 'describe', 'orders', '--json'], { env })).stdout);
    assert.deepEqual(d.configs.map((c: { name: string; value: string }) => [c.name, c.value]), [['cleanup.policy', 'delete']]);
    const nothing = await brook(['topic', 'alter-config', 'orders'], { env });
    assert.equal(nothing.code, 2);

    const grow = await brook(['topic', 'add-partitions', 'orders', '--num', '2'], { env });
    assert.deepEqual([grow.code, grow.stdout], [0, 'Grew topic orders from 3 to 5 partitions\n']);
    const shrink = await brook(['topic', 'add-partitions', 'orders', '--total', '2'], { env });
    assert.equal(shrink.code, 1);
    assert.match(shrink.stderr, /INVALID_PARTITIONS.*\[BROOK_REQUEST_REFUSED\]\n$/);

    const produced = await brook(['produce', 'orders', '-p', '1'], { env, input: 'a\nb\nc\nd\n' });
    assert.equal(produced.code, 0, produced.stderr);
    const trim = await brook(['topic', 'trim-prefix', 'orders', '--offset', '3', '-p', '1'], { env });
    assert.deepEqual([trim.code, trim.stdout], [0, 'PARTITION  LOG-START-OFFSET  ERROR\n1          3                 -\n']);
    const consumed = await brook(['consume', 'orders', '-p', '1', '-e'], { env });
    assert.equal(consumed.stdout, 'd\n');
    const tooFar = await brook(['topic', 'trim-prefix', 'orders', '--offset', '99', '-p', '1', '--json'], { env });
    assert.equal(tooFar.code, 1);
    assert.deepEqual(JSON.parse(tooFar.stdout), [{ partition: 1, logStartOffset: -1, error: 'OFFSET_OUT_OF_RANGE' }]);
    const noPartition = await brook(['topic', 'trim-prefix', 'orders', '--offset', 'end', '-p', '9'], { env });
    assert.deepEqual([noPartition.code, noPartition.stderr], [1, "brook: topic 'orders' has no partition 9 (it has 5) [BROOK_UNKNOWN_PARTITION]\n"]);
  });

  test('topic delete; unknown topics are named', async () => {
    const del = await brook(['topic', 'delete', 'users', 'audit'], { env });
    assert.deepEqual([del.code, del.stdout], [0, 'Deleted topic users\nDeleted topic audit\n']);
    const again = await brook(['topic', 'delete', 'users'], { env });
    assert.deepEqual([again.code, again.stderr], [1, "brook: unknown topic 'users' [BROOK_UNKNOWN_TOPIC]\n"]);
    assert.equal((await brook(['topic', 'delete', 'users', '--if-exists'], { env })).code, 0);
    const describe = await brook(['topic', 'describe', 'users'], { env });
    assert.deepEqual([describe.code, describe.stderr], [1, "brook: unknown topic 'users' [BROOK_UNKNOWN_TOPIC]\n"]);
  });

  test('cluster info and health', async () => {
    const info = await brook(['cluster', 'info'], { env });
    assert.equal(info.code, 0);
    assert.match(info.stdout, /^CLUSTER ID {2}\S+\nCONTROLLER {2}1\nBROKERS {5}1\n\nID +HOST +PORT +RACK\n1\* +127\.0\.0\.1 +\d+ +-\n$/);
    const json = JSON.parse((await brook(['cluster', 'info', '--json'], { env })).stdout);
    assert.deepEqual(json.brokers, [{ nodeId: 1, host: '127.0.0.1', port: b.port, rack: null }]);
    const health = await brook(['cluster', 'health'], { env });
    assert.equal(health.code, 0);
    assert.match(health.stdout, /^HEALTHY +yes\n/);
    assert.equal(JSON.parse((await brook(['cluster', 'health', '--json'], { env })).stdout).healthy, true);
  });

  test('config get and set', async () => {
    const get = await brook(['config', 'get', 'num.partitions', 'log.retention.hours'], { env });
    assert.equal(get.stdout, [
      'KEY                  VALUE  SOURCE         READ-ONLY',
      'log.retention.hours  168    default        no',
      'num.partitions       2      static-broker  yes',
      '',
    ].join('\n'));
    const unknown = await brook(['config', 'get', 'no.such.key'], { env });
    assert.deepEqual([unknown.code, unknown.stderr], [2, "brook: unknown broker config key 'no.such.key' [BROOK_CONFIG_UNKNOWN_KEY]\n"]);
    const set = await brook(['config', 'set', 'log.retention.ms=7200000'], { env });
    assert.deepEqual([set.code, set.stdout], [0, 'Set log.retention.ms=7200000 (cluster-wide)\n']);
    const after = JSON.parse((await brook(['config', 'get', 'log.retention.ms', '--json'], { env })).stdout);
    assert.deepEqual(after.configs.map((c: { value: string; source: string }) => [c.value, c.source]), [['7200000', 'dynamic-default-broker']]);
    const bad = await brook(['config', 'set', 'log.retention.ms=later'], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^brook: the broker refused: INVALID_REQUEST \(cluster-wide broker configs\).*\[BROOK_REQUEST_REFUSED\]\n$/);
    const node = await brook(['config', 'get', '--node', '7'], { env });
    assert.deepEqual([node.code, node.stderr], [2, 'brook: --node 7 is not a broker of this cluster (brokers: 1) [BROOK_USAGE_INVALID_ARGUMENT]\n']);
  });

  test('an unreachable broker is one line and exit 1, whichever way the address is given', async () => {
    const port = await freePort('127.0.0.1');
    const expected = `brook: broker unreachable at 127.0.0.1:${port} (connection refused) [BROOK_BROKER_UNREACHABLE]\n`;
    for (const run of [
      brook(['topic', 'list', '-b', `127.0.0.1:${port}`]),
      brook(['cluster', 'info', `--brokers=127.0.0.1:${port}`]),
      brook(['group', 'list'], { env: { BROOK_BROKERS: `127.0.0.1:${port}` } }),
    ]) {
      const r = await run;
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', expected]);
    }
    const bad = await brook(['topic', 'list', '-b', 'host:notaport']);
    assert.deepEqual([bad.code, bad.stderr], [2, "brook: --brokers: bad port 'notaport' in broker address 'host:notaport' [BROOK_USAGE_INVALID_ARGUMENT]\n"]);
  });
});
