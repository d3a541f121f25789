// Fetch throughput: reading a cold log from offset 0 in 1 MiB reads (PartitionLog.read, as a
// consumer's fetches would) against plain sequential readSync of the segment files with a 1 MiB
// buffer. Reading into fresh memory costs a page fault per 4 KiB, so the read is measured both with
// a new buffer per call (what a fetch response that holds on to the bytes needs) and into a reused
// caller buffer (the `buffer` option), which is the like-for-like comparison. The page cache is
// dropped before each run when we are root; otherwise the figures are for a warm cache and the
// output says so.
// Run: node bench/storage-fetch.ts    (BENCH_FETCH_MB=1024 log size, BENCH_RUNS=5, BENCH_DIR=/tmp)

import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { splitBatches } from '../src/protocol/record-batch.ts';
import { defaultLogConfig } from '../src/storage/log-config.ts';
import { LogManager } from '../src/storage/log-manager.ts';
import { appendBuffer, dropCaches, envNumber, MiB, pairedRatio, report, seconds, tempDir } from './storage-common.ts';

const sizeMb = envNumber('BENCH_FETCH_MB', 1024);
const runs = envNumber('BENCH_RUNS', 5);
const dir = await tempDir('brook-bench-fetch-');
const partDir = join(dir, 'bench-0');

{
  const m = await LogManager.open({ dirs: [dir], background: false });
  const log = await m.create('bench', 0, 'id', defaultLogConfig);
  const buf = appendBuffer();
  const calls = Math.ceil((sizeMb * MiB) / buf.length);
  for (let i = 0; i < calls; i += 4) {
    const dones: Promise<void>[] = [];
    for (let j = 0; j < 4 && i + j < calls; j++) dones.push(log.append(Buffer.from(buf), { leaderEpoch: 0, sync: false }).done);
    await Promise.all(dones);
  }
  await m.close();
}

function plainRead(): { bytes: number; secs: number } {
  const files = readdirSync(partDir).filter((n) => n.endsWith('.log')).sort();
  const buf = Buffer.allocUnsafe(MiB);
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (const f of files) {
    const fd = openSync(join(partDir, f), 'r');
    for (;;) {
      const n = readSync(fd, buf, 0, MiB, null);
      if (n === 0) break;
      bytes += n;
    }
    closeSync(fd);
  }
  return { bytes, secs: seconds(start) };
}

async function brookRead(reuse: boolean): Promise<{ bytes: number; secs: number }> {
  const m = await LogManager.open({ dirs: [dir], background: false });
  const log = m.get('bench', 0)!;
  const scratch = reuse ? Buffer.allocUnsafe(MiB + 8192) : undefined;
  let bytes = 0;
  let offset = 0;
  const start = process.hrtime.bigint();
  while (offset < log.highWatermark) {
    const { records } = await log.read(offset, MiB, { maxOffset: log.highWatermark, minOneBatch: true, buffer: scratch });
    if (records.length === 0) break;
    bytes += records.length;
    const spans = splitBatches(records);
    const last = spans[spans.length - 1].pos;
    offset = Number(records.readBigInt64BE(last)) + records.readInt32BE(last + 23) + 1;
  }
  const secs = seconds(start);
  await m.close();
  return { bytes, secs };
}

const cold = dropCaches();
console.log(`fetch: ${sizeMb} MiB log, 1 MiB reads, ${runs} runs each, page cache ${cold ? 'dropped before each run (cold)' : 'NOT dropped (not root): warm'}`);
const plain: { bytes: number; secs: number }[] = [];
const fresh: { bytes: number; secs: number }[] = [];
const reused: { bytes: number; secs: number }[] = [];
for (let r = 0; r < runs; r++) {
  dropCaches();
  plain.push(plainRead());
  dropCaches();
  fresh.push(await brookRead(false));
  dropCaches();
  reused.push(await brookRead(true));
}
const bestOf = (xs: { bytes: number; secs: number }[]) => xs.reduce((a, b) => (b.bytes / b.secs > a.bytes / a.secs ? b : a));
const p = bestOf(plain);
const f = bestOf(fresh);
const u = bestOf(reused);
report('plain sequential readSync, 1 MiB buffer reused', p.bytes, p.secs);
report('brook read, new buffer per read', f.bytes, f.secs);
report('brook read into a reused caller buffer', u.bytes, u.secs);
// Per-byte time, so runs of slightly different byte counts compare fairly.
const perByte = (xs: { bytes: number; secs: number }[]) => xs.map((x) => x.secs / x.bytes);
pairedRatio('fetch (new buffer per read) vs plain reads', perByte(fresh), perByte(plain), 0.8);
pairedRatio('fetch (reused buffer) vs plain reads', perByte(reused), perByte(plain), 0.8);
await rm(dir, { recursive: true, force: true });
