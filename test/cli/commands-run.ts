// Runs `brook ...` as a person would: `node_modules/.bin/node bin/brook.js ARGS` in a child
// process, with stdin, environment and a hard timeout; returns exit status, stdout and stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/broker.ts';

export const NODE24 = join(repoRoot, 'node_modules/.bin/node');
export const BROOK = join(repoRoot, 'bin/brook.js');

/** The test's environment without the variables that change brook's behaviour. */
function cleanEnv(): Record<string, string | undefined> {
  const env = { ...process.env };
  delete env.BROOK_BROKERS;
  delete env.BROOK_PROGRESS;
  delete env.BROOK_DEBUG;
  return env;
}

export interface BrookRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function brook(args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<BrookRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE24, [BROOK, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...cleanEnv(), ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`brook ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Starts `brook ARGS` and leaves it running (for commands that follow until interrupted). */
export function startBrook(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => { stdout: string; stderr: string }; exited: Promise<number | null> } {
  const child = spawn(NODE24, [BROOK, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...cleanEnv(), ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Waits until `check()` holds, or throws after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
