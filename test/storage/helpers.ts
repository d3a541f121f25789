// Shared helpers for storage tests: batch building, a manager over an in-memory fs, and decoding of
// what a read returned.

import { buildRecordBatch, decodeRecords, splitBatches, type CompressionType } from '../../src/protocol/record-batch.ts';
import { ManualClock } from '../../src/storage/clock.ts';
import type { FileHandle, FileSystem, OpenMode } from '../../src/storage/fs.ts';
import { defaultLogConfig, type LogConfig } from '../../src/storage/log-config.ts';
import { LogManager, type LogManagerOptions } from '../../src/storage/log-manager.ts';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';

export interface TestRecord {
  key?: string | null;
  value: string | null;
  timestamp?: number;
}

/** One batch of `count` records "<prefix>-<i>" (or the given records), base offset 0. */
export function batch(records: number | TestRecord[], opts: { prefix?: string; timestamp?: number; compression?: CompressionType } = {}): Buffer {
  const list: TestRecord[] = typeof records === 'number'
    ? Array.from({ length: records }, (_, i) => ({ key: `k${i}`, value: `${opts.prefix ?? 'v'}-${i}` }))
    : records;
  return buildRecordBatch({
    records: list.map((r) => ({
      key: r.key === null || r.key === undefined ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      timestamp: r.timestamp ?? opts.timestamp ?? 1_700_000_000_000,
    })),
    compression: opts.compression,
  });
}

/** Values of every record in `data` (whole batches), with offsets. */
export function records(data: Buffer): { offset: number; key: string | null; value: string | null; timestamp: number }[] {
  const out: { offset: number; key: string | null; value: string | null; timestamp: number }[] = [];
  for (const { pos } of splitBatches(data)) {
    for (const r of decodeRecords(data.subarray(pos))) {
      out.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, timestamp: r.timestamp });
    }
  }
  return out;
}

export function config(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...defaultLogConfig, fileDeleteDelayMs: 0, ...overrides };
}

export interface MemEnv {
  fs: MemoryFileSystem;
  clock: ManualClock;
  open(extra?: Partial<LogManagerOptions>): Promise<LogManager>;
}

export function memEnv(defaults: LogConfig = config()): MemEnv {
  const fs = new MemoryFileSystem();
  const clock = new ManualClock();
  fs.now = () => clock.now();
  return {
    fs,
    clock,
    open: (extra = {}) => LogManager.open({ dirs: ['/data'], fs, clock, defaults, background: false, ...extra }),
  };
}

/** Reads everything from `from` to the high watermark, batch by batch. */
export async function readAll(log: { read: (o: number, m: number, opts: { maxOffset: number; minOneBatch: boolean }) => Promise<{ records: Buffer; outOfRange: boolean }>; highWatermark: number; logStartOffset: number }, from = log.logStartOffset): Promise<ReturnType<typeof records>> {
  const out: ReturnType<typeof records> = [];
  let offset = from;
  for (let guard = 0; guard < 100_000 && offset < log.highWatermark; guard++) {
    const { records: data, outOfRange } = await log.read(offset, 64 * 1024, { maxOffset: log.highWatermark, minOneBatch: true });
    if (outOfRange) throw new Error(`out of range at ${offset}`);
    if (data.length === 0) break;
    const got = records(data).filter((r) => r.offset >= offset);
    out.push(...got);
    const spans = splitBatches(data);
    const lastSpan = spans[spans.length - 1];
    offset = Number(data.readBigInt64BE(lastSpan.pos)) + data.readInt32BE(lastSpan.pos + 23) + 1;
  }
  return out;
}

/** Waits for every queued callback (setImmediate) and resolved promise to settle a few times. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Counts calls reaching a file system (writev / datasync per path substring). */
export class CountingFs {
  writev = 0;
  datasync = 0;
  readonly inner: FileSystem;
  readonly fs: FileSystem;
  constructor(inner: FileSystem, match = '.log') {
    this.inner = inner;
    const self = this;
    this.fs = new Proxy(inner, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'open' || typeof v !== 'function') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        return async (path: string, mode: OpenMode) => {
          const h = await target.open(path, mode);
          if (!path.endsWith(match)) return h;
          const counted: FileHandle = {
            read: h.read.bind(h),
            truncate: h.truncate.bind(h),
            size: h.size.bind(h),
            close: h.close.bind(h),
            writev: (bufs: readonly Buffer[], pos: number) => {
              self.writev++;
              return h.writev(bufs, pos);
            },
            datasync: () => {
              self.datasync++;
              return h.datasync();
            },
          };
          return counted;
        };
      },
    });
  }
}

/** A view of `fs` that fails every call once killed (the file system as a killed process saw it). */
export function killable(fs: MemoryFileSystem): { fs: FileSystem; kill(): void } {
  let dead = false;
  const view = new Proxy(fs, {
    get(target, prop) {
      const v = Reflect.get(target, prop) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (dead) return Promise.reject(Object.assign(new Error('process is dead'), { code: 'EIO' }));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { fs: view, kill: () => (dead = true) };
}
