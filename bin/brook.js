#!/usr/bin/env node
// Launcher for the `brook` command. Brook runs its TypeScript sources directly, which needs
// Node.js 24 (type stripping). On an older Node this re-runs itself with the Node 24 binary that
// `npm install` puts in the package's node_modules/.bin (the `node` dependency), passing the
// arguments, stdio, signals and exit status through. Plain JavaScript: it must load on old Nodes.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);

// The broker allocates a buffer per produce frame: a larger young generation (V8 semi-space) cuts
// its garbage-collection time markedly (see docs/performance.md). The flag must be given at
// start-up, so `brook serve` replaces itself in place (same PID: signals and kill -9 still reach the
// broker) with the flag added.
const SERVE_FLAGS = ['--max-semi-space-size=64'];
const serving = process.argv[2] === 'serve';

if (major >= REQUIRED_MAJOR && serving && process.env.BROOK_REEXEC !== '1' && typeof process.execve === 'function'
    && !process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) {
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...SERVE_FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { ...process.env, BROOK_REEXEC: '1' });
}

if (major >= REQUIRED_MAJOR) {
  delete process.env.BROOK_REEXEC;
  const { runCli } = await import('../src/cli/main.ts');
  await runCli(process.argv.slice(2));
} else {
  const self = fileURLToPath(import.meta.url);
  const root = dirname(dirname(self));
  const node = join(root, 'node_modules', '.bin', 'node');
  if (!existsSync(node) || process.env.BROOK_REEXEC === '1') {
    process.stderr.write(
      `brook: Node.js ${REQUIRED_MAJOR} or newer is required (this is ${process.version}); ` +
      `run 'npm install' in ${root} to fetch it, or use 'npx brook' [BROOK_NODE_TOO_OLD]\n`,
    );
    process.exit(1);
  }
  const child = spawn(node, [...(serving ? SERVE_FLAGS : []), self, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, BROOK_REEXEC: '1' },
  });
  // The child shares our terminal, so Ctrl-C reaches it directly; forward signals sent to us alone.
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => forward(signal));
  child.on('error', (err) => {
    process.stderr.write(`brook: cannot run ${node}: ${err.message} [BROOK_NODE_TOO_OLD]\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      // Die of the same signal so our parent sees what happened to the child.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
