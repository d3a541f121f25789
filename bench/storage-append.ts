// Append throughput: LogManager/PartitionLog appends of 1 MiB buffers (16 × 1 KiB records per batch)
// against plain fs.writeSync of the same bytes, awaiting each call and with 4 calls in flight (as a
// producer with max.in.flight); then acks=all (fdatasync group commit, 1 and 8 appends in flight)
// against writeSync + fdatasync every 1 MiB. Runs are interleaved; ratios are medians of per-run
// ratios, rates the best runs. The machine is shared: expect noise, compare ratios from one run.
// Run: node bench/storage-append.ts    (BENCH_APPEND_MB=512 total per run, BENCH_RUNS=7, BENCH_DIR=/tmp)

import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultLogConfig } from '../src/storage/log-config.ts';
import { LogManager } from '../src/storage/log-manager.ts';
import { appendBuffer, envNumber, MiB, pairedRatio, report, seconds, tempDir } from './storage-common.ts';

const totalMb = envNumber('BENCH_APPEND_MB', 512);
const syncMb = envNumber('BENCH_SYNC_MB', Math.min(totalMb, 256));
const runs = envNumber('BENCH_RUNS', 7);
const buf = appendBuffer();
const calls = Math.ceil((totalMb * MiB) / buf.length);
const syncCalls = Math.ceil((syncMb * MiB) / buf.length);

async function plain(sync: boolean, n: number): Promise<number> {
  const dir = await tempDir('brook-bench-plain-');
  const fd = openSync(join(dir, 'plain.log'), 'w');
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    writeSync(fd, buf);
    if (sync) fdatasyncSync(fd);
  }
  const s = seconds(start);
  // Untimed, as Brook's close() does: write back now, so it does not slow down the next run.
  fdatasyncSync(fd);
  closeSync(fd);
  created.push(dir);
  return s;
}

async function brook(sync: boolean, n: number, inFlight = 1): Promise<number> {
  const dir = await tempDir('brook-bench-log-');
  const m = await LogManager.open({ dirs: [dir], background: false });
  const log = await m.create('bench', 0, 'id', defaultLogConfig);
  const copies = Array.from({ length: inFlight }, () => Buffer.from(buf));
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i += inFlight) {
    const dones: Promise<void>[] = [];
    for (let j = 0; j < inFlight && i + j < n; j++) dones.push(log.append(copies[j], { leaderEpoch: 0, sync }).done);
    await Promise.all(dones);
  }
  const s = seconds(start);
  await m.close();
  created.push(dir);
  return s;
}

const best = (xs: number[]): number => Math.min(...xs);
// Files are removed only at the end: on a file system mounted with `discard`, deleting them between
// runs makes the next run wait for the device to trim.
const created: string[] = [];
const bytes = calls * buf.length;
const syncBytes = syncCalls * buf.length;
console.log(`append: ${calls} calls of ${(buf.length / MiB).toFixed(2)} MiB (${buf.length / (16 * 1024) | 0} batches of 16 × 1 KiB records), ${runs} runs each`);
const p: number[] = [];
const b: number[] = [];
const b4: number[] = [];
for (let r = 0; r < runs; r++) {
  p.push(await plain(false, calls));
  b.push(await brook(false, calls));
  b4.push(await brook(false, calls, 4));
}
report('plain writeSync', bytes, best(p));
report('brook append acks=1, 1 call in flight', bytes, best(b));
report('brook append acks=1, 4 calls in flight', bytes, best(b4));
pairedRatio('append (1 in flight) vs writeSync', b, p, 0.8);
pairedRatio('append (4 in flight) vs writeSync', b4, p, 0.8);

const ps: number[] = [];
const bs: number[] = [];
const bg: number[] = [];
for (let r = 0; r < runs; r++) {
  ps.push(await plain(true, syncCalls));
  bs.push(await brook(true, syncCalls));
  bg.push(await brook(true, syncCalls, 8));
}
report('plain writeSync + fdatasync every 1 MiB', syncBytes, best(ps));
report('brook append acks=all (group commit), 1 in flight', syncBytes, best(bs));
report('brook append acks=all, 8 appends in flight', syncBytes, best(bg));
pairedRatio('acks=all vs write+fdatasync per MiB', bs, ps, 0.8);
pairedRatio('acks=all 8 in flight vs write+fdatasync per MiB', bg, ps, 0.8);
if (process.env.BENCH_VERBOSE) console.log({ p, b, b4, ps, bs, bg });
for (const d of created) await rm(d, { recursive: true, force: true });
