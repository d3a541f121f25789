// Shared pieces of the storage benchmarks: 1 MiB append buffers of 1 KiB-record batches, timing,
// temp dirs and page-cache dropping (root only; otherwise "cold" means "not yet read by us").

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecordBatch } from '../src/protocol/record-batch.ts';

export const MiB = 1 << 20;

/** ~1 MiB of batches, each of `recordsPerBatch` records of 1 KiB (a producer with batch.size 16 KiB). */
export function appendBuffer(recordsPerBatch = 16, bytes = MiB): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let i = 0;
  while (total < bytes - 20 * 1024) {
    const records = Array.from({ length: recordsPerBatch }, () => ({ key: Buffer.from(`key-${i++}`), value: randomBytes(1024), timestamp: Date.now() }));
    const b = buildRecordBatch({ records });
    parts.push(b);
    total += b.length;
  }
  return Buffer.concat(parts);
}

export function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
}

export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), prefix));
}

/** Drops the page cache (needs root); returns whether it could. */
export function dropCaches(): boolean {
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

export function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export function report(name: string, bytes: number, secs: number): number {
  const rate = bytes / secs / MiB;
  console.log(`${name.padEnd(52)} ${rate.toFixed(0).padStart(7)} MiB/s  (${secs.toFixed(3)} s)`);
  return rate;
}

export function ratio(name: string, ours: number, baseline: number, target: number): void {
  const r = ours / baseline;
  console.log(`${name.padEnd(52)} ${r.toFixed(2).padStart(7)}×  (target ≥ ${target}×) ${r >= target ? 'OK' : 'BELOW TARGET'}`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs are interleaved (baseline, then each variant) so disk write-back and host noise hit them
 * alike; the ratio reported is the median of the per-run ratios, the rates are the best runs.
 */
export function pairedRatio(name: string, oursSecs: number[], baseSecs: number[], target: number): void {
  const r = median(oursSecs.map((s, i) => baseSecs[i] / s));
  console.log(`${name.padEnd(52)} ${r.toFixed(2).padStart(7)}×  median of ${oursSecs.length} paired runs (target ≥ ${target}×) ${r >= target ? 'OK' : 'BELOW TARGET'}`);
}
