// Shared helpers for the real-client compatibility tests: running a client process with a hard
// timeout (killed, never left behind), unique topic names, a deterministic record set, byte-exact
// comparison of what came back, and topic creation through Brook's own connection for tests whose
// client has no admin API (kcat).
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { KafkaConnection } from '../../src/client/connection.ts';
import { seeded } from '../helpers/seeded.ts';

export const PYTHON = '/usr/bin/python3';
export const KCAT = '/usr/bin/kcat';
export const PY_DIR = fileURLToPath(new URL('./py/', import.meta.url));
export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Codec = (typeof CODECS)[number];

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** Runs a process to completion, feeding `input` on stdin; SIGKILLs it after `timeoutMs`. */
export function runProcess(cmd: string, args: string[], opts: { input?: Buffer | string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 20_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err, timedOut });
    });
    child.stdin.on('error', () => {}); // the child may exit before reading everything
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs a process and fails (with its stderr) unless it exits 0 in time. */
export async function runOk(cmd: string, args: string[], opts: { input?: Buffer | string; timeoutMs?: number } = {}): Promise<RunResult> {
  const res = await runProcess(cmd, args, opts);
  if (res.timedOut || res.code !== 0) {
    const what = res.timedOut ? `timed out after ${opts.timeoutMs ?? 20_000} ms` : `exited with ${res.code ?? res.signal}`;
    throw new Error(`${cmd} ${args.join(' ')} ${what}\n--- stderr ---\n${res.stderr}\n--- stdout ---\n${res.stdout.toString().slice(0, 4000)}`);
  }
  return res;
}

/** Runs test/clients/py/<script> with a JSON request on stdin and parses its JSON answer. */
export async function runPython<T = any>(script: string, command: string, request: unknown, timeoutMs = 30_000): Promise<T> {
  const res = await runOk(PYTHON, [PY_DIR + script, command], { input: JSON.stringify(request), timeoutMs });
  try {
    return JSON.parse(res.stdout.toString()) as T;
  } catch {
    throw new Error(`${script} ${command}: output is not JSON: ${res.stdout.toString().slice(0, 2000)}\n${res.stderr}`);
  }
}

let topicCounter = 0;
/** A topic name unique within this machine's test runs. */
export function uniqueTopic(prefix: string): string {
  topicCounter++;
  return `${prefix}-${process.pid}-${topicCounter}-${Math.floor(Math.random() * 1e6)}`;
}

export interface TestRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[string, Buffer]>;
  /** Milliseconds since the epoch (CreateTime). */
  timestamp: number;
}

/** What a client gave back; a null header value stays null so it never passes for an empty one. */
export interface ConsumedRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[string, Buffer | null]>;
  timestamp: number;
  offset: number;
}

/** mulberry32: a small seeded generator, so every run produces the same bytes. */

function randomBytes(rnd: () => number, n: number, avoid: ReadonlySet<number>): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    let v = Math.floor(rnd() * 256);
    while (avoid.has(v)) v = (v + 1) & 0xff;
    b[i] = v;
  }
  return b;
}

export interface PayloadOptions {
  seed: number;
  /** Timestamp of the first record; the others follow 1 s apart, ascending. */
  baseTimestamp: number;
  count?: number;
  /** Include a record with a null value (a tombstone). */
  nullValues?: boolean;
  /** Byte values that must not appear in keys or values (kcat's delimiters). */
  avoidBytes?: number[];
}

/**
 * The deterministic record set: a null key, an empty (non-null) key, binary keys, every byte value,
 * an empty value, a large compressible value, duplicate header keys in order, empty and binary
 * header values, a non-ASCII header key, and optionally a tombstone.
 */
export function payloadSet(opts: PayloadOptions): TestRecord[] {
  const rnd = seeded(opts.seed);
  const avoid = new Set(opts.avoidBytes ?? []);
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((i) => !avoid.has(i)));
  const large = Buffer.from('brook-compressible-line;'.repeat(2500)); // ~60 KB
  const ts = (i: number) => opts.baseTimestamp + i * 1000;
  const out: TestRecord[] = [
    { key: null, value: Buffer.from('null-key value'), headers: [], timestamp: ts(0) },
    { key: Buffer.from('k1'), value: allBytes, headers: [['h1', Buffer.from('v1')]], timestamp: ts(1) },
    {
      key: randomBytes(rnd, 16, avoid),
      value: Buffer.alloc(0),
      headers: [['dup', Buffer.from('a')], ['dup', Buffer.from('b')], ['empty', Buffer.alloc(0)]],
      timestamp: ts(2),
    },
    { key: Buffer.alloc(0), value: large, headers: [['bin', randomBytes(rnd, 8, new Set())]], timestamp: ts(3) },
  ];
  if (opts.nullValues) out.push({ key: Buffer.from('tombstone'), value: null, headers: [['t', Buffer.from('1')]], timestamp: ts(out.length) });
  const count = opts.count ?? 10;
  while (out.length < count) {
    const i = out.length;
    out.push({
      key: i % 3 === 0 ? null : Buffer.from(`key-${i}`),
      value: randomBytes(rnd, 1 + Math.floor(rnd() * 300), avoid),
      headers: i % 2 === 0 ? [['ключ', Buffer.from(`значение-${i}`)], ['n', Buffer.from(String(i))]] : [],
      timestamp: ts(i),
    });
  }
  return out;
}

/** JSON form shared with the Python scripts: bytes as base64, null stays null. */
export interface WireRecord {
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
  timestamp: number;
  offset?: number;
}

export function toWire(r: TestRecord): WireRecord {
  return {
    key: r.key === null ? null : r.key.toString('base64'),
    value: r.value === null ? null : r.value.toString('base64'),
    headers: r.headers.map(([k, v]) => [k, v.toString('base64')]),
    timestamp: r.timestamp,
  };
}

export function fromWire(w: WireRecord): ConsumedRecord {
  return {
    key: w.key === null ? null : Buffer.from(w.key, 'base64'),
    value: w.value === null ? null : Buffer.from(w.value, 'base64'),
    headers: w.headers.map(([k, v]) => [k, v === null ? null : Buffer.from(v, 'base64')]),
    timestamp: w.timestamp,
    offset: w.offset ?? -1,
  };
}

function show(b: Buffer | null): string {
  if (b === null) return 'null';
  return b.length > 40 ? `<${b.length} bytes ${b.subarray(0, 20).toString('hex')}…>` : `<${b.toString('hex')}>`;
}

/**
 * Byte-exact comparison: same count, offsets contiguous from `firstOffset`, and per record the same
 * key (null distinct from empty), value, headers in order, and (unless told not to) timestamp.
 */
export function assertSameRecords(actual: ConsumedRecord[], expected: TestRecord[], opts: { firstOffset: number; checkTimestamps?: boolean; what?: string }): void {
  const what = opts.what ?? 'records';
  assert.equal(actual.length, expected.length, `${what}: consumed ${actual.length} records, produced ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const at = `${what} #${i} (offset ${a.offset})`;
    assert.equal(a.offset, opts.firstOffset + i, `${at}: offsets must be contiguous from ${opts.firstOffset}`);
    assert.ok(a.key === null ? e.key === null : e.key !== null && a.key.equals(e.key), `${at}: key ${show(a.key)} != ${show(e.key)}`);
    assert.ok(a.value === null ? e.value === null : e.value !== null && a.value.equals(e.value), `${at}: value ${show(a.value)} != ${show(e.value)}`);
    assert.deepEqual(
      a.headers.map(([k, v]) => [k, v === null ? '<null>' : v.toString('hex')]),
      e.headers.map(([k, v]) => [k, v.toString('hex')]),
      `${at}: headers differ`,
    );
    if (opts.checkTimestamps ?? true) assert.equal(a.timestamp, e.timestamp, `${at}: timestamp`);
  }
}

/** A base timestamp an hour ago, whole seconds: recent enough that time retention never applies. */
export function recentBase(): number {
  return Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
}

/** Creates a topic with Brook's own client (CreateTopics v5), for clients without an admin API. */
export async function createTopic(host: string, port: number, name: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const conn = await KafkaConnection.connect(host, port, { clientId: 'compat-test' });
  try {
    const res = await conn.send(19, 5, {
      topics: [{
        name,
        numPartitions: partitions,
        replicationFactor: 1,
        assignments: [],
        configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
      }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    const t = res.topics[0];
    assert.equal(t.errorCode, 0, `CreateTopics ${name}: error ${t.errorCode} ${t.errorMessage ?? ''}`);
  } finally {
    conn.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/**
 * Consumes one partition with kcat's group-less consumer and -J. kcat writes keys and payloads as
 * JSON strings of raw bytes (control characters escaped, bytes >= 0x80 as-is), so the output is
 * read as latin1 to get every byte back. Used by the kcat test and to check other clients' produce
 * paths independently of their own consumers.
 */
export async function kcatConsume(bootstrap: string, topic: string, partition: number, offset: string, count: number): Promise<ConsumedRecord[]> {
  const res = await runOk(KCAT, [
    '-b', bootstrap, '-m', '10', '-X', 'socket.timeout.ms=10000',
    '-C', '-t', topic, '-p', String(partition), '-o', offset, '-e', '-c', String(count), '-J',
  ], { timeoutMs: 30_000 });
  const out: ConsumedRecord[] = [];
  for (const line of res.stdout.toString('latin1').split('\n')) {
    if (line.trim() === '') continue;
    const m = JSON.parse(line) as { offset: number; ts: number; key: string | null; payload: string | null; headers?: Array<string | null>; partition: number };
    assert.equal(m.partition, partition);
    const headers: Array<[string, Buffer | null]> = [];
    const h = m.headers ?? [];
    for (let i = 0; i + 1 < h.length; i += 2) {
      const v = h[i + 1];
      headers.push([Buffer.from(h[i] ?? '', 'latin1').toString('utf8'), v === null ? null : Buffer.from(v, 'latin1')]);
    }
    out.push({
      offset: m.offset,
      timestamp: m.ts,
      key: m.key === null ? null : Buffer.from(m.key, 'latin1'),
      value: m.payload === null ? null : Buffer.from(m.payload, 'latin1'),
      headers,
    });
  }
  return out;
}
