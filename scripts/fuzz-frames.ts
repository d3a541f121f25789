// End-to-end frame fuzzer: many connections send malformed Kafka frames to a running broker —
// truncations, bit flips, size prefixes −1 / −2³¹ / 2³¹−1, lying array counts and lengths,
// over-long varints, unknown API keys and versions, bad CRCs and compression bombs in Produce —
// and check that every frame gets the reaction it must (test/fuzz/frame-cases.ts) within 1 s, that
// the broker stays up with bounded memory (peak RSS from /proc/PID/status VmHWM), and that a normal
// client then produces and consumes correctly.
//
//   node scripts/fuzz-frames.ts [--frames 20000 | --full] [--connections 64] [--seed N]
//        [--bootstrap host:port --pid PID [--max-request-bytes N]] [--json]
//
// Without --bootstrap a broker is started in its own process (brook serve) and stopped afterwards.
// Exit status 1 when a frame got the wrong reaction, the broker crashed or the normal client failed.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaConnection } from '../src/client/connection.ts';
import { API_CODECS } from '../src/protocol/generated/api-index.ts';
import { Reader } from '../src/protocol/reader.ts';
import { isFlexibleResponse } from '../src/protocol/request-header.ts';
import { connectRaw, type RawConnection } from '../test/fuzz/raw-client.ts';
import { messageSamples } from '../test/fuzz/samples.ts';
import { nextCase, buildBombs, type FrameCase, type FrameContext } from '../test/fuzz/frame-cases.ts';
import { mulberry32, fuzzSeed } from '../test/fuzz/mutations.ts';
import { createTopic, produce, fetchFrom } from '../test/fuzz/broker-ops.ts';
import { spawnBroker } from '../test/helpers/broker.ts';

export interface FrameFuzzOptions {
  host: string;
  port: number;
  frames: number;
  connections: number;
  seed: number;
  /** The broker's process id, for the crash check and peak RSS. */
  pid?: number;
  maxRequestBytes?: number;
  /** How long a malformed frame may wait for its close or answer. */
  reactionMs?: number;
  log?: (line: string) => void;
}

export interface FrameFuzzReport {
  seed: number;
  framesSent: number;
  connectionsOpened: number;
  byKind: Record<string, number>;
  /** How the broker reacted: closed, answered, or still waiting (valid requests only). */
  reactions: { closed: number; answered: number; waiting: number };
  violations: string[];
  violationCount: number;
  maxReactionMs: number;
  crashes: number;
  peakRssBytes: number | null;
  normalClientOk: boolean;
  durationMs: number;
}

function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The produce answer's first partition error code, or null when the bytes do not decode. */
function produceErrorCode(frame: Buffer, version: number): number | null {
  try {
    const r = new Reader(frame, 4);
    if (isFlexibleResponse(0, version)) r.readTaggedFields();
    const res = API_CODECS.get(0)!.decodeResponse(r, version);
    return res.responses[0].partitionResponses[0].errorCode;
  } catch {
    return null;
  }
}

interface Worker {
  conn: RawConnection | null;
  seen: number;
}

async function fire(w: Worker, c: FrameCase, opts: FrameFuzzOptions, report: FrameFuzzReport, connect: () => Promise<RawConnection>): Promise<void> {
  if (w.conn === null || w.conn.isClosed()) {
    w.conn = await connect();
    w.seen = 0;
  }
  const conn = w.conn;
  const started = performance.now();
  conn.socket.write(c.bytes);
  if (c.endAfterWrite) conn.socket.end();
  const limit = c.expect === 'any' ? 250 : (opts.reactionMs ?? 1000);
  let answer: Buffer | null = null;
  try {
    const frames = await conn.responses(w.seen + 1, limit);
    answer = frames[w.seen];
    w.seen++;
  } catch {
    // closed or timed out: told apart below
  }
  const took = performance.now() - started;
  const reaction = answer !== null ? 'answered' : conn.isClosed() ? 'closed' : 'waiting';
  report.reactions[reaction]++;
  if (reaction !== 'waiting') report.maxReactionMs = Math.max(report.maxReactionMs, took);
  const problem = (what: string) => {
    report.violationCount++;
    if (report.violations.length < 20) report.violations.push(`${c.kind}: ${what} (frame ${c.bytes.subarray(0, 48).toString('hex')})`);
  };
  if (c.expect === 'close' && reaction !== 'closed') problem(reaction === 'answered' ? 'a malformed frame was answered' : `no close within ${limit} ms`);
  if (c.expect === 'answer') {
    if (answer === null) problem(reaction === 'closed' ? 'closed instead of answered' : `no answer within ${limit} ms`);
    else if (answer.readInt32BE(0) !== c.correlationId) problem(`answer carries correlation id ${answer.readInt32BE(0)}, expected ${c.correlationId}`);
    else if (c.expectErrorCode !== undefined) {
      const code = produceErrorCode(answer, c.bytes.readInt16BE(6));
      if (code !== c.expectErrorCode) problem(`partition error ${code}, expected ${c.expectErrorCode}`);
    }
  }
  // A connection whose request is still pending, or that got a close, is not reused.
  if (reaction !== 'answered') {
    conn.destroy();
    w.conn = null;
  }
}

export async function runFrameFuzz(opts: FrameFuzzOptions): Promise<FrameFuzzReport> {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const report: FrameFuzzReport = {
    seed: opts.seed, framesSent: 0, connectionsOpened: 0, byKind: {}, reactions: { closed: 0, answered: 0, waiting: 0 },
    violations: [], violationCount: 0, maxReactionMs: 0, crashes: 0, peakRssBytes: null, normalClientOk: false, durationMs: 0,
  };
  const admin = await KafkaConnection.connect(opts.host, opts.port, { clientId: 'fuzz-admin' });
  const av = await admin.send(18, 3, { clientSoftwareName: 'brook-fuzz', clientSoftwareVersion: '1' });
  const ranges = new Map(av.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion] as const]));
  await createTopic(admin, 'fuzz-target');
  await createTopic(admin, 'fuzz-bombs');
  admin.close();
  const { samples } = await messageSamples({ seed: opts.seed, perVersion: 2 });
  const ctx: FrameContext = {
    samples, ranges, maxRequestBytes: opts.maxRequestBytes ?? 104857600, topic: 'fuzz-target', bombTopic: 'fuzz-bombs', bombs: buildBombs(),
  };
  log(`fuzzing ${opts.host}:${opts.port} with ${opts.frames} frames over ${opts.connections} concurrent connections, seed ${opts.seed}`);

  const rssTimer = opts.pid === undefined ? null : setInterval(() => {
    if (!alive(opts.pid!)) report.crashes = 1;
  }, 200);
  const connect = async () => {
    report.connectionsOpened++;
    return connectRaw(opts.host, opts.port);
  };
  const perWorker = Math.ceil(opts.frames / opts.connections);
  let lastLog = performance.now();
  await Promise.all(Array.from({ length: opts.connections }, async (_, i) => {
    const rng = mulberry32((opts.seed + i * 0x9e3779b9) >>> 0);
    const w: Worker = { conn: null, seen: 0 };
    for (let n = 0; n < perWorker && report.framesSent < opts.frames && report.crashes === 0; n++) {
      const c = nextCase(ctx, rng, n + 1);
      report.framesSent++;
      report.byKind[c.kind] = (report.byKind[c.kind] ?? 0) + 1;
      try {
        await fire(w, c, opts, report, connect);
      } catch (e) {
        // The broker refused the TCP connection itself: that is a crash or a hang, not a reaction.
        report.violationCount++;
        if (report.violations.length < 20) report.violations.push(`${c.kind}: cannot connect: ${(e as Error).message}`);
        w.conn = null;
      }
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        log(`  ${report.framesSent} frames, ${report.violationCount} violations`);
      }
    }
    w.conn?.destroy();
  }));
  if (rssTimer !== null) clearInterval(rssTimer);
  if (opts.pid !== undefined) {
    if (!alive(opts.pid)) report.crashes = 1;
    report.peakRssBytes = procStatus(opts.pid, 'VmHWM');
  }

  // A normal client afterwards: produce, then consume what it produced.
  try {
    const client = await KafkaConnection.connect(opts.host, opts.port, { clientId: 'fuzz-after' });
    await createTopic(client, 'fuzz-after');
    const values = Array.from({ length: 100 }, (_, i) => `after-${opts.seed}-${i}`);
    const res = await produce(client, 'fuzz-after', values.map((v, i) => ({ key: Buffer.from(String(i)), value: Buffer.from(v) })));
    const fetched = await fetchFrom(client, 'fuzz-after', Number(res.baseOffset));
    const got = fetched.records.map((r) => r.value?.toString());
    report.normalClientOk = res.errorCode === 0 && JSON.stringify(got.slice(0, values.length)) === JSON.stringify(values);
    client.close();
  } catch (e) {
    log(`normal client failed: ${(e as Error).message}`);
    report.normalClientOk = false;
    if (opts.pid === undefined) report.crashes = 1;
  }
  report.durationMs = Math.round(performance.now() - started);
  return report;
}

export function summary(r: FrameFuzzReport): string {
  const rss = r.peakRssBytes === null ? 'n/a' : `${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`;
  return [
    `frames sent: ${r.framesSent} over ${r.connectionsOpened} connections in ${(r.durationMs / 1000).toFixed(1)} s (seed ${r.seed})`,
    `kinds: ${Object.entries(r.byKind).sort().map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `reactions: ${r.reactions.closed} closed, ${r.reactions.answered} answered, ${r.reactions.waiting} valid requests left waiting; slowest reaction ${r.maxReactionMs.toFixed(0)} ms`,
    `violations: ${r.violationCount}${r.violations.length ? `\n  ${r.violations.join('\n  ')}` : ''}`,
    `crashes: ${r.crashes}`,
    `peak RSS (VmHWM): ${rss}`,
    `normal client after the run: ${r.normalClientOk ? 'produced and consumed correctly' : 'FAILED'}`,
  ].join('\n');
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

if (import.meta.main) {
  const frames = process.argv.includes('--full') ? 100_000 : Number(arg('frames') ?? process.env.BROOK_FUZZ_FRAMES ?? 20_000);
  const connections = Number(arg('connections') ?? 64);
  const seed = arg('seed') !== undefined ? Number(arg('seed')) >>> 0 : fuzzSeed();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const bootstrap = arg('bootstrap');
  let report: FrameFuzzReport;
  if (bootstrap !== undefined) {
    const at = bootstrap.lastIndexOf(':');
    const pid = arg('pid');
    report = await runFrameFuzz({
      host: bootstrap.slice(0, at), port: Number(bootstrap.slice(at + 1)), frames, connections, seed, log,
      pid: pid === undefined ? undefined : Number(pid),
      maxRequestBytes: arg('max-request-bytes') === undefined ? undefined : Number(arg('max-request-bytes')),
    });
  } else {
    const dataDir = await mkdtemp(join(tmpdir(), 'brook-fuzz-'));
    const broker = await spawnBroker({ dataDir, set: { 'auto.create.topics.enable': 'false' } });
    try {
      report = await runFrameFuzz({ host: '127.0.0.1', port: broker.port, frames, connections, seed, log, pid: broker.child.pid });
    } finally {
      await broker.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(report)}\n` : `${summary(report)}\n`);
  process.exitCode = report.violationCount === 0 && report.crashes === 0 && report.normalClientOk ? 0 : 1;
}
