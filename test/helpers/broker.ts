// Starts a Brook broker inside the test process on a free port with a fresh data directory, and
// removes it afterwards. Tests that need to kill -9 a broker use spawnBroker (a child process).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseBrokerConfig } from '../../src/config/broker-config.ts';
import { settingsFromConfig } from '../../src/broker/settings.ts';
import { startBrokerWithSettings, type Broker } from '../../src/broker/broker.ts';
import { freePort } from '../../src/broker/server.ts';

export interface TestBroker {
  host: string;
  port: number;
  bootstrap: string;
  dataDir: string;
  broker: Broker;
  /** Stops the broker; keeps the data directory. */
  stop(): Promise<void>;
  /** Stops the broker and removes its data directory. */
  close(): Promise<void>;
}

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export async function startTestBroker(props: Record<string, string> = {}, opts: { dataDir?: string; quiet?: boolean } = {}): Promise<TestBroker> {
  const dataDir = opts.dataDir ?? await mkdtemp(join(tmpdir(), 'brook-test-'));
  const port = await freePort('127.0.0.1');
  const config = parseBrokerConfig({
    'listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'log.dirs': dataDir,
    ...props,
  });
  const settings = settingsFromConfig(config);
  const lines: string[] = [];
  const running = await startBrokerWithSettings(settings, config, {
    log: (line) => {
      lines.push(line);
      if (!opts.quiet && process.env.BROOK_TEST_LOG) process.stderr.write(`[broker] ${line}\n`);
    },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await running.close();
  };
  return {
    host: '127.0.0.1',
    port: running.port,
    bootstrap: `127.0.0.1:${running.port}`,
    dataDir,
    broker: running.broker,
    stop,
    async close() {
      await stop();
      if (opts.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface SpawnedBroker {
  port: number;
  bootstrap: string;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

/** Runs `brook serve` as a child process (for kill -9 and restart tests). */
export async function spawnBroker(opts: { dataDir: string; port?: number; set?: Record<string, string> }): Promise<SpawnedBroker> {
  if (opts.port !== undefined) return spawnBrokerOnce({ ...opts, port: opts.port });
  // The free port is picked before the broker binds it; a test running in parallel may take it
  // meanwhile, so a failed start is retried on a fresh port.
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await spawnBrokerOnce({ ...opts, port: await freePort('127.0.0.1') });
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

async function spawnBrokerOnce(opts: { dataDir: string; port: number; set?: Record<string, string> }): Promise<SpawnedBroker> {
  const port = opts.port;
  const args = [join(repoRoot, 'bin', 'brook.js'), 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', opts.dataDir];
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push('--set', `${k}=${v}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave a half-started broker behind (it would keep the test alive)
      reject(new Error(`broker did not start: ${out}`));
    }, 30_000);
    const check = () => {
      if (/listening on/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`broker exited: ${out}`));
    });
  });
  return {
    port,
    bootstrap: `127.0.0.1:${port}`,
    dataDir: opts.dataDir,
    child,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
