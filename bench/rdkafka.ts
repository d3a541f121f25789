// Runs librdkafka's rdkafka_performance and the latency probe, and parses what they print.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export interface PerfResult {
  msgsPerSec: number;
  mbPerSec: number;
  messages: number;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve(`${stdout}\n${stderr}`);
    });
  });
}

/** Parses the last throughput line of rdkafka_performance. */
export function parsePerf(out: string): PerfResult {
  const lines = out.split('\n').filter((l) => /msgs\/s/.test(l));
  const last = lines.at(-1);
  if (!last) throw new Error(`no result in rdkafka_performance output:\n${out.slice(-2000)}`);
  const produced = /(\d+) messages produced .* (\d+) msgs\/s and ([\d.]+) MB\/s/.exec(last);
  if (produced) return { messages: Number(produced[1]), msgsPerSec: Number(produced[2]), mbPerSec: Number(produced[3]) };
  const consumed = /(\d+) messages \(\d+ bytes\) consumed in \d+ms: (\d+) msgs\/s \(([\d.]+) MB\/s\)/.exec(last);
  if (consumed) return { messages: Number(consumed[1]), msgsPerSec: Number(consumed[2]), mbPerSec: Number(consumed[3]) };
  throw new Error(`unrecognised rdkafka_performance line: ${last}`);
}

export async function rdkafkaPerf(tools: string, args: string[], timeoutMs = 180_000): Promise<PerfResult> {
  return parsePerf(await run(join(tools, 'rdkafka_performance'), args, timeoutMs));
}

export interface LatencyResult {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  rate: number;
}

export async function rdkafkaLatency(tools: string, bootstrap: string, topic: string, rate: number, count: number, size: number, acks: string): Promise<LatencyResult> {
  const out = await run(join(tools, 'rdkafka_latency'), [bootstrap, topic, String(rate), String(count), String(size), acks], 180_000);
  const m = /p50=([\d.]+) p99=([\d.]+) p999=([\d.]+) max=([\d.]+) delivered=\d+ failed=(\d+) rate=(\d+)/.exec(out);
  if (!m) throw new Error(`no latency result:\n${out.slice(-2000)}`);
  if (Number(m[5]) > 0) throw new Error(`${m[5]} messages failed`);
  return { p50: Number(m[1]), p99: Number(m[2]), p999: Number(m[3]), max: Number(m[4]), rate: Number(m[6]) };
}
