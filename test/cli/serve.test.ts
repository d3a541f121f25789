import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatOptions, parseArgs } from '../../src/cli/args.ts';
import { main, type CliIo } from '../../src/cli/main.ts';
import { buildServeConfig, run, startError, type BrokerModule } from '../../src/cli/serve.ts';
import type { BrokerConfig } from '../../src/config/broker-config.ts';
import { BROOK_VERSION } from '../../src/config/version.ts';
import { BrookError, type UserErrorCode } from '../../src/errors.ts';

const root = new URL('../../', import.meta.url).pathname;
const node24 = join(root, 'node_modules/.bin/node');
const brook = join(root, 'bin/brook.js');

function fails(fn: () => unknown, code: UserErrorCode, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BrookError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

function captureIo(): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', env: {}, stdout: (s: string) => { io.out += s; }, stderr: (s: string) => { io.err += s; } };
  return io;
}

describe('argument parser', () => {
  const specs = {
    name: { type: 'string', value: 'N', description: 'a name' },
    set: { type: 'multiple', value: 'K=V', description: 'repeatable' },
    verbose: { type: 'boolean', short: 'v', description: 'more output' },
    quiet: { type: 'boolean', short: 'q', description: 'less output' },
    out: { type: 'string', short: 'o', description: 'output' },
  } as const;

  test('long forms, repeats, short flags, grouping and positionals', () => {
    const { options, positionals } = parseArgs(
      ['--name', 'a', 'pos1', '--set=x=1', '--set', 'y=2', '-vq', '-ofile', '--name=b', 'pos2', '--', '--not-an-option'], specs);
    assert.deepEqual(options, { name: 'b', set: ['x=1', 'y=2'], verbose: true, quiet: true, out: 'file' });
    assert.deepEqual(positionals, ['pos1', 'pos2', '--not-an-option']);
    assert.equal(parseArgs(['-o', 'x'], specs).options.out, 'x');
    assert.equal(parseArgs(['--name', '-1'], specs).options.name, '-1', 'a value may start with a single dash');
    assert.deepEqual(parseArgs([], specs).options, { name: undefined, set: [], verbose: false, quiet: false, out: undefined });
  });

  test('mistakes are usage errors', () => {
    fails(() => parseArgs(['--nme', 'x'], specs), 'BROOK_USAGE_UNKNOWN_OPTION', /'--nme' \(did you mean '--name'\?\)/);
    fails(() => parseArgs(['-x'], specs), 'BROOK_USAGE_UNKNOWN_OPTION', /'-x'/);
    fails(() => parseArgs(['--name'], specs), 'BROOK_USAGE_MISSING_VALUE', /'--name' needs a value \(N\)/);
    fails(() => parseArgs(['--name', '--verbose'], specs), 'BROOK_USAGE_MISSING_VALUE', /'--name'/);
    fails(() => parseArgs(['-o'], specs), 'BROOK_USAGE_MISSING_VALUE', /'-o'/);
    fails(() => parseArgs(['--verbose=yes'], specs), 'BROOK_USAGE_INVALID_ARGUMENT', /does not take a value/);
  });

  test('help lines are aligned', () => {
    const lines = formatOptions(specs).split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[2], /^ {2}-v, --verbose +more output$/);
    const col = lines[0].indexOf('a name');
    for (const [i, d] of ['a name', 'repeatable', 'more output', 'less output', 'output'].entries()) assert.equal(lines[i].indexOf(d), col);
  });
});

describe('buildServeConfig', () => {
  const build = (argv: string[], files: Record<string, string> = {}): BrokerConfig => buildServeConfig(argv, {
    hostname: 'h',
    readFile: (p) => {
      if (!(p in files)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return files[p];
    },
  });

  test('no options: single node on 127.0.0.1:9092 with data in ./data', () => {
    const c = build([]);
    assert.deepEqual(c.listeners, [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }]);
    assert.deepEqual(c.logDirs, ['./data']);
    assert.equal(c.nodeId, 1);
    assert.ok(c.isBroker && c.isController && c.standaloneQuorum);
  });

  test('--listen, --data-dir and --node-id set listeners, log.dirs and node.id', () => {
    const c = build(['--listen', '0.0.0.0:19092', '--set', 'advertised.listeners=PLAINTEXT://me:19092', '--data-dir', '/tmp/x', '--node-id', '5']);
    assert.deepEqual(c.listeners, [{ name: 'PLAINTEXT', host: '0.0.0.0', port: 19092 }]);
    assert.deepEqual(c.advertisedListeners, [{ name: 'PLAINTEXT', host: 'me', port: 19092 }]);
    assert.deepEqual(c.logDirs, ['/tmp/x']);
    assert.equal(c.nodeId, 5);
    assert.equal(c.source('node.id'), 'STATIC_BROKER_CONFIG');
    assert.deepEqual(build(['--listen', '[::1]:0']).listeners, [{ name: 'PLAINTEXT', host: '::1', port: 0 }]);
  });

  test('--listen replaces only the PLAINTEXT listener and keeps the others', () => {
    const c = build(['--set', 'listeners=CONTROLLER://127.0.0.1:9093,PLAINTEXT://127.0.0.1:9092', '--set', 'controller.quorum.voters=1@127.0.0.1:9093',
      '--listen', '127.0.0.1:29092']);
    assert.deepEqual(c.listeners.map((l) => `${l.name}:${l.port}`), ['CONTROLLER:9093', 'PLAINTEXT:29092']);
  });

  test('precedence: --config < --set < dedicated flags', () => {
    const file = 'num.partitions=2\nnode.id=7\nlog.dirs=/from-file\n# a comment\nlog.retention.hours = 24\n';
    const c = build(['--config', 'server.properties', '--set', 'num.partitions=3', '--node-id', '8'], { 'server.properties': file });
    assert.equal(c.get('num.partitions'), 3);
    assert.equal(c.nodeId, 8);
    assert.deepEqual(c.logDirs, ['/from-file']);
    assert.equal(c.logRetentionMs, 86_400_000);
    assert.deepEqual(build(['--config', 'f', '--data-dir', '/flag'], { f: 'log.dirs=/file' }).logDirs, ['/flag']);
  });

  test('a Kafka-style KRaft server.properties is accepted', () => {
    const file = [
      'process.roles=broker,controller', 'node.id=1', 'controller.quorum.voters=1@localhost:9093',
      'listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093', 'inter.broker.listener.name=PLAINTEXT',
      'advertised.listeners=PLAINTEXT://localhost:9092', 'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
      'num.network.threads=3', 'num.io.threads=8', 'socket.send.buffer.bytes=102400', 'socket.receive.buffer.bytes=102400',
      'socket.request.max.bytes=104857600', 'log.dirs=/tmp/kraft-combined-logs', 'num.partitions=1',
      'num.recovery.threads.per.data.dir=1', 'offsets.topic.replication.factor=1', 'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1', 'log.retention.hours=168', 'log.segment.bytes=1073741824',
      'log.retention.check.interval.ms=300000',
    ].join('\n');
    const c = build(['--config', 'k.properties'], { 'k.properties': file });
    assert.deepEqual(c.advertisedListeners, [{ name: 'PLAINTEXT', host: 'localhost', port: 9092 }]);
    assert.deepEqual(c.quorumVoters, [{ id: 1, host: 'localhost', port: 9093 }]);
  });

  test('errors name the key and where it was given', () => {
    fails(() => build(['--set', 'bogus.key=1']), 'BROOK_CONFIG_UNKNOWN_KEY', /'bogus\.key' \(from --set\)/);
    fails(() => build(['--set', 'num.partitions=0']), 'BROOK_CONFIG_INVALID_VALUE', /'num\.partitions'.*\(from --set\)/);
    fails(() => build(['--config', 'c'], { c: 'num.partitions=x' }), 'BROOK_CONFIG_INVALID_VALUE', /'num\.partitions'.*\(in c\)/);
    fails(() => build(['--node-id', 'one']), 'BROOK_CONFIG_INVALID_VALUE', /'node\.id'.*\(from --node-id\)/);
    fails(() => build(['--config', 'missing.properties']), 'BROOK_CONFIG_FILE_UNREADABLE', /missing\.properties: no such file/);
    fails(() => build(['--config', 'bad'], { bad: 'a=\\uZZZZ' }), 'BROOK_CONFIG_FILE_INVALID', /^bad:1:/);
    fails(() => build(['--set', 'novalue']), 'BROOK_USAGE_INVALID_ARGUMENT', /--set expects KEY=VALUE/);
    fails(() => build(['--set', '=1']), 'BROOK_USAGE_INVALID_ARGUMENT', /--set expects KEY=VALUE/);
    fails(() => build(['--listen', '9092']), 'BROOK_USAGE_INVALID_ARGUMENT', /--listen.*no port/);
    fails(() => build(['--data-dir', 'a,b']), 'BROOK_USAGE_INVALID_ARGUMENT', /one directory/);
    fails(() => build(['extra']), 'BROOK_USAGE_INVALID_ARGUMENT', /unexpected argument 'extra'/);
    fails(() => build(['--listn', 'x']), 'BROOK_USAGE_UNKNOWN_OPTION', /did you mean '--listen'/);
    fails(() => build(['--listen', '0.0.0.0:9092']), 'BROOK_CONFIG_INCONSISTENT', /advertised\.listeners/);
  });
});

describe('serve lifecycle (with a stand-in broker)', () => {
  test('prints the listening line, closes on shutdown and exits 0', async () => {
    const calls: string[] = [];
    let release!: (s: string) => void;
    const fake: BrokerModule = {
      async startBroker(config, opts) {
        calls.push(`start node=${config.nodeId}`);
        opts?.log?.('a log line');
        return { host: '127.0.0.1', port: 40001, close: async () => void calls.push('close') };
      },
    };
    const io = captureIo();
    const done = run(['--data-dir', '/d1', '--listen', '127.0.0.1:0'], io, {
      loadBroker: async () => fake,
      shutdown: () => new Promise((r) => { release = r; }),
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(io.out, `Brook ${BROOK_VERSION} listening on 127.0.0.1:40001 (data: /d1)\n`);
    assert.deepEqual(calls, ['start node=1']);
    release('SIGTERM');
    assert.equal(await done, 0);
    assert.deepEqual(calls, ['start node=1', 'close']);
    assert.match(io.err, /a log line\n/);
    assert.match(io.err, /SIGTERM received/);
  });

  test('a real SIGTERM closes the node and the process exits 0', async () => {
    // A child process runs serve with a stand-in broker but the real signal handling.
    const dir = mkdtempSync(join(tmpdir(), 'brook-sig-'));
    try {
      const script = join(dir, 'serve-child.ts');
      writeFileSync(script, [
        `import { run } from ${JSON.stringify(new URL('../../src/cli/serve.ts', import.meta.url).href)};`,
        `import { processIo } from ${JSON.stringify(new URL('../../src/cli/main.ts', import.meta.url).href)};`,
        'const code = await run(["--data-dir", "/d"], processIo, { loadBroker: async () => ({',
        '  startBroker: async () => ({ host: "127.0.0.1", port: 4242, close: async () => { process.stdout.write("closed\\n"); } }),',
        '}) });',
        'process.exit(code);',
      ].join('\n'));
      const child = spawn(node24, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (d) => { err += d; });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('listening on')) resolve();
        });
        child.on('exit', () => reject(new Error(`child exited early: ${out} ${err}`)));
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, err);
      assert.equal(out, `Brook ${BROOK_VERSION} listening on 127.0.0.1:4242 (data: /d)\nclosed\n`);
      assert.match(err, /SIGTERM received, shutting down/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('listen and data directory failures become person-facing errors', () => {
    const config = buildServeConfig(['--data-dir', '/srv/brook'], { hostname: 'h' });
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', syscall: 'listen', address: '127.0.0.1', port: 9092 });
    const e1 = startError(inUse, config) as BrookError;
    assert.equal(e1.code, 'BROOK_LISTEN_IN_USE');
    assert.match(e1.message, /127\.0\.0\.1:9092/);
    const notLocal = Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL', syscall: 'listen', address: '10.9.9.9', port: 1 });
    assert.equal((startError(notLocal, config) as BrookError).code, 'BROOK_LISTEN_FAILED');
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', syscall: 'open', path: '/srv/brook/orders-0/0.log' });
    assert.equal((startError(denied, config) as BrookError).code, 'BROOK_DATA_DIR_UNUSABLE');
    const other = new Error('something else');
    assert.equal(startError(other, config), other);
  });

  test('main prints expected errors as one line and picks the exit status', async () => {
    const io = captureIo();
    assert.equal(await main(['serve', '--set', 'bogus.key=1'], io), 2);
    assert.equal(io.err, "brook: unknown config key 'bogus.key' (from --set) [BROOK_CONFIG_UNKNOWN_KEY]\n");
    const io2 = captureIo();
    assert.equal(await main(['nosuch'], io2), 2);
    assert.match(io2.err, /^brook: unknown command 'nosuch'.*\[BROOK_USAGE_UNKNOWN_COMMAND\]\n$/);
    const io3 = captureIo();
    assert.equal(await main([], io3), 2);
    assert.match(io3.err, /^Usage: brook <command>/);
    const io4 = captureIo();
    assert.equal(await main(['help', 'serve'], io4), 0);
    assert.match(io4.out, /^Usage: brook serve/);
  });
});

describe('bin/brook.js', () => {
  const runBrook = (args: string[], nodeBin = node24, cwd = root) =>
    spawnSync(nodeBin, [brook, ...args], { cwd, encoding: 'utf8', env: { ...process.env, BROOK_REEXEC: '' } });

  test('serve --set bogus.key=1: one line on stderr, exit 2, nothing started', () => {
    const r = runBrook(['serve', '--set', 'bogus.key=1']);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, "brook: unknown config key 'bogus.key' (from --set) [BROOK_CONFIG_UNKNOWN_KEY]\n");
  });

  test('an invalid value and an unreadable config file', () => {
    const r = runBrook(['serve', '--set', 'num.partitions=0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^brook: invalid value for 'num\.partitions': "0" must be at least 1 \(from --set\) \[BROOK_CONFIG_INVALID_VALUE\]\n$/);
    const dir = mkdtempSync(join(tmpdir(), 'brook-cli-'));
    try {
      const r2 = runBrook(['serve', '--config', join(dir, 'absent.properties')]);
      assert.equal(r2.status, 2);
      assert.match(r2.stderr, /absent\.properties: no such file \[BROOK_CONFIG_FILE_UNREADABLE\]\n$/);
      writeFileSync(join(dir, 'typo.properties'), 'num.partitons=3\n');
      const r3 = runBrook(['serve', '--config', join(dir, 'typo.properties')]);
      assert.equal(r3.status, 2);
      assert.match(r3.stderr, /did you mean 'num\.partitions'\?\) \(in .*typo\.properties\) \[BROOK_CONFIG_UNKNOWN_KEY\]/);
      assert.doesNotMatch(r3.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--help, serve --help and --version', () => {
    const h = runBrook(['--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /^Usage: brook <command> \[options\]/);
    assert.match(h.stdout, /\n {2}serve +Start a Brook node/);
    const s = runBrook(['serve', '--help']);
    assert.equal(s.status, 0);
    for (const opt of ['--listen HOST:PORT', '--data-dir DIR', '--config FILE', '--set KEY=VALUE', '--node-id N', '-h, --help']) {
      assert.ok(s.stdout.includes(opt), opt);
    }
    const v = runBrook(['--version']);
    assert.equal(v.stdout, `brook ${BROOK_VERSION}\n`);
  });

  test('works from another working directory', () => {
    const r = runBrook(['--version'], node24, tmpdir());
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `brook ${BROOK_VERSION}\n`);
  });

  // The launcher's re-exec path needs a Node older than 24; Debian's /usr/bin/node (20) is one.
  const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
    if (!existsSync(p)) return false;
    const v = spawnSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    return Number(v.split('.')[0]) < 24;
  });
  test('on an older Node it re-runs itself with node_modules/.bin/node, passing the exit status', { skip: oldNode === undefined ? 'no Node older than 24 on this machine' : false }, () => {
    const r = runBrook(['serve', '--set', 'bogus.key=1'], oldNode!);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /\[BROOK_CONFIG_UNKNOWN_KEY\]\n$/);
    const v = runBrook(['--version'], oldNode!);
    assert.equal(v.status, 0);
    assert.equal(v.stdout, `brook ${BROOK_VERSION}\n`);
  });
});
