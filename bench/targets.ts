// The two brokers a benchmark run compares: Brook (a child process, durable, fresh data dir) and
// librdkafka's in-memory C mock cluster. Each start is fresh; CPU time is read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/broker/server.ts';

export interface Target {
  name: 'brook' | 'mock';
  bootstrap: string;
  pid: number;
  /** user+system CPU seconds used by the broker process so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const TICKS = 100; // USER_HZ on Linux

function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function waitFor(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`start timed out: ${out}`)), 30_000);
    const on = (d: Buffer) => {
      out += d;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? m[0]);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

function stopper(child: ChildProcess, cleanup?: () => void): () => Promise<void> {
  return () => new Promise((resolve) => {
    if (child.exitCode !== null) {
      cleanup?.();
      return resolve();
    }
    child.once('exit', () => {
      cleanup?.();
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startBrook(root: string, set: Record<string, string> = {}): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brook-bench-'));
  const port = await freePort('127.0.0.1');
  const args = [join(root, 'bin', 'brook.js'), 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir];
  for (const [k, v] of Object.entries(set)) args.push('--set', `${k}=${v}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, /listening on/);
  return {
    name: 'brook',
    bootstrap: `127.0.0.1:${port}`,
    pid: child.pid!,
    cpuSeconds: () => cpuOf(child.pid!),
    stop: stopper(child, () => rmSync(dataDir, { recursive: true, force: true })),
  };
}

/** The mock cluster; `topics` ("name:partitions") are created up front (the mock has no CreateTopics). */
export async function startMock(tools: string, topics: string[] = []): Promise<Target> {
  const child = spawn(join(tools, 'mock_topics'), ['1', ...topics], { stdio: ['ignore', 'pipe', 'pipe'] });
  const bootstrap = await waitFor(child, /^(\d+\.\d+\.\d+\.\d+:\d+)$/m);
  return {
    name: 'mock',
    bootstrap,
    pid: child.pid!,
    cpuSeconds: () => cpuOf(child.pid!),
    stop: stopper(child),
  };
}
