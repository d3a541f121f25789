// Start-up after a crash: a child process fills BENCH_PARTITIONS partitions with BENCH_RECOVERY_MB
// in total (acks=1, so nothing is flushed and no recovery point is checkpointed: the worst case),
// then kills itself with SIGKILL. We time LogManager.open (which recovers every partition: scan,
// CRC check, index rebuild), with the page cache kept (kill -9) and dropped (power loss; root only),
// and then a start-up after a clean shutdown.
// Run: node bench/storage-recovery.ts   (BENCH_PARTITIONS=100, BENCH_RECOVERY_MB=512, BENCH_DIR=/tmp)
// The figure: BENCH_PARTITIONS=1000 BENCH_RECOVERY_MB=10240.

import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { defaultLogConfig } from '../src/storage/log-config.ts';
import { LogManager } from '../src/storage/log-manager.ts';
import { appendBuffer, dropCaches, envNumber, MiB, seconds, tempDir } from './storage-common.ts';

const partitions = envNumber('BENCH_PARTITIONS', 100);
const totalMb = envNumber('BENCH_RECOVERY_MB', 512);

if (process.argv[2] === '--writer') {
  const dir = process.argv[3];
  const m = await LogManager.open({ dirs: [dir] });
  const logs = [];
  for (let p = 0; p < partitions; p++) logs.push(await m.create('recovery', p, 'rid', defaultLogConfig));
  const perPartition = (totalMb * MiB) / partitions;
  const chunk = appendBuffer(16, Math.min(MiB, Math.max(64 * 1024, perPartition)));
  const rounds = Math.max(1, Math.round(perPartition / chunk.length));
  const copies = logs.map(() => Buffer.from(chunk));
  for (let r = 0; r < rounds; r++) {
    // All partitions in parallel, as a broker under load; wait for the writes to reach the files.
    await Promise.all(logs.map((log, i) => log.append(copies[i], { leaderEpoch: 0, sync: false }).done));
  }
  process.stdout.write(`${rounds * chunk.length * partitions}\n`);
  process.kill(process.pid, 'SIGKILL');
} else {
  const dir = await tempDir('brook-bench-recovery-');
  const writer = spawn(process.execPath, [import.meta.filename, '--writer', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  writer.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((resolve) => writer.on('exit', resolve));
  const written = Number(out.trim());
  console.log(`recovery: ${partitions} partitions, ${(written / MiB).toFixed(0)} MiB written, writer killed with SIGKILL`);

  const timeOpen = async (label: string): Promise<LogManager> => {
    const start = process.hrtime.bigint();
    const m = await LogManager.open({ dirs: [dir], background: false });
    const secs = seconds(start);
    const scanned = m.stats.scannedBytes / MiB;
    console.log(`${label.padEnd(44)} ${secs.toFixed(2).padStart(6)} s  (scanned ${scanned.toFixed(0)} MiB, ${(scanned / secs).toFixed(0)} MiB/s, ${m.all().length} partitions)`);
    return m;
  };

  // kill -9: the page cache still holds the data. Open without closing so the next open recovers too.
  const warm = await timeOpen('start-up after kill -9 (page cache warm)');
  warm.halt();
  if (dropCaches()) {
    const cold = await timeOpen('start-up after crash, page cache dropped');
    cold.halt();
  } else {
    console.log('start-up with a cold page cache: skipped (dropping caches needs root)');
  }
  const last = await LogManager.open({ dirs: [dir], background: false });
  await last.close();
  const clean = await timeOpen('start-up after a clean shutdown');
  await clean.close();
  await rm(dir, { recursive: true, force: true });
}
