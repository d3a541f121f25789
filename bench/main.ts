// `npm run bench`: Brook side by side with librdkafka's C mock broker, driven by librdkafka's own
// benchmark client. Each workload runs against both, alternating A B A B, --runs times (≥ 5 by
// default); we print medians, the Brook/mock ratio and Brook's CPU seconds per GB. Ratios from the
// same run are the figures that count: this machine is shared and noisy. Between the runs the
// "disk floor" (disk-floor.ts) measures the same writes done by the kernel alone: the mock keeps
// everything in memory, so that is the other yardstick for a broker that writes a real log.
//   npm run bench [-- --runs 5] [--only produce-1k-acks1,...] [--quick] [--settle-ms 3000]
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBrook, startMock, type Target } from './targets.ts';
import { rdkafkaPerf, rdkafkaLatency } from './rdkafka.ts';
import { KafkaConnection } from '../src/client/connection.ts';
import { fdatasyncLatency, pageCacheWriteMBps } from './disk-floor.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(flag('--runs') ?? 5);
const settleMs = Number(flag('--settle-ms') ?? 3000);
const quick = args.includes('--quick');
const only = flag('--only')?.split(',');
const scale = quick ? 0.2 : 1;

function ensureTools(): string {
  const tools = join(root, '.rdkafka-perf');
  const build = join(root, '..', 'shared', 'tools', 'rdkafka-perf', 'build.sh');
  if (!existsSync(join(tools, 'rdkafka_performance')) || !existsSync(join(tools, 'mock_cluster'))) {
    if (!existsSync(build)) throw new Error(`rdkafka-perf tools missing and ${build} not found`);
    execFileSync('bash', [build, tools], { stdio: 'inherit' });
  }
  for (const [bin, src] of [['rdkafka_latency', 'rdkafka-latency.c'], ['mock_topics', 'mock-with-topics.c']]) {
    const out = join(tools, bin);
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(join(root, 'bench', src)).mtimeMs) execFileSync('gcc', ['-O2', '-o', join(tools, bin), join(root, 'bench', src), '-lrdkafka'], { stdio: 'inherit' });
  }
  return tools;
}

/** Topics with more than the default partition count, pre-created on the mock. */
const MOCK_TOPICS = ['p16:16', 'g16:16'];

async function createTopic(bootstrap: string, name: string, partitions: number): Promise<void> {
  if (MOCK_TOPICS.includes(`${name}:${partitions}`) && !(await isBrook(bootstrap))) return;
  const [host, port] = bootstrap.split(':');
  const conn = await KafkaConnection.connect(host, Number(port));
  try {
    const res = await conn.send(19, 4, { topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    const code = res.topics[0]?.errorCode ?? -1;
    if (code !== 0 && code !== 36) throw new Error(`CreateTopics ${name}: error ${code}`);
  } finally {
    conn.close();
  }
}

async function isBrook(bootstrap: string): Promise<boolean> {
  const [host, port] = bootstrap.split(':');
  const conn = await KafkaConnection.connect(host, Number(port));
  try {
    const res = await conn.send(18, 2, { clientSoftwareName: '', clientSoftwareVersion: '' });
    return res.apiKeys.some((k: { apiKey: number }) => k.apiKey === 19);
  } finally {
    conn.close();
  }
}

interface Measure {
  value: number; // MB/s, or p99 ms for latency
  cpuPerGB: number | null;
  detail?: string;
}

interface Workload {
  name: string;
  unit: 'MB/s' | 'ms';
  /** Which targets it runs on (consume and group run on Brook only: the mock keeps ~5 MB/partition). */
  targets: ('brook' | 'mock')[];
  run(t: Target, tools: string): Promise<Measure>;
  /** The same work done by the kernel alone (disk-floor.ts), measured between the broker runs. */
  floor?: () => number | Promise<number>;
}

const N1K = Math.round(1_000_000 * scale);

async function timed(t: Target, bytes: number, body: () => Promise<number>): Promise<Measure> {
  const cpu0 = t.cpuSeconds();
  const mb = await body();
  const cpu = t.cpuSeconds() - cpu0;
  return { value: mb, cpuPerGB: cpu / (bytes / 1e9) };
}

const producePerf = (topic: string, size: number, count: number, acks: string, extra: string[] = []) =>
  (t: Target, tools: string) => timed(t, size * count, async () =>
    (await rdkafkaPerf(tools, ['-P', '-t', topic, '-b', t.bootstrap, '-s', String(size), '-c', String(count), '-a', acks, '-X', 'linger.ms=5', '-X', 'batch.num.messages=10000', ...extra])).mbPerSec);

const WORKLOADS: Workload[] = [
  { name: 'produce-1k-acks1', unit: 'MB/s', targets: ['brook', 'mock'], run: producePerf('p1', 1000, N1K, '1'), floor: () => pageCacheWriteMBps(1000 * N1K) },
  { name: 'produce-1k-acksall', unit: 'MB/s', targets: ['brook', 'mock'], run: producePerf('p2', 1000, N1K, '-1'), floor: () => pageCacheWriteMBps(1000 * N1K) },
  { name: 'produce-100b-acks1', unit: 'MB/s', targets: ['brook', 'mock'], run: producePerf('p3', 100, N1K * 3, '1') },
  {
    name: 'produce-1k-16p-acks1', unit: 'MB/s', targets: ['brook', 'mock'],
    async run(t, tools) {
      await createTopic(t.bootstrap, 'p16', 16);
      return producePerf('p16', 1000, N1K, '1')(t, tools);
    },
  },
  {
    name: 'consume-from-disk', unit: 'MB/s', targets: ['brook'],
    async run(t, tools) {
      const count = Math.round(600_000 * scale);
      await rdkafkaPerf(tools, ['-P', '-t', 'c1', '-p', '0', '-b', t.bootstrap, '-s', '1000', '-c', String(count), '-a', '1', '-X', 'linger.ms=5', '-X', 'batch.num.messages=10000']);
      return timed(t, 1000 * count, async () =>
        (await rdkafkaPerf(tools, ['-C', '-t', 'c1', '-p', '0', '-b', t.bootstrap, '-o', 'beginning', '-c', String(count)])).mbPerSec);
    },
  },
  {
    name: 'latency-50k-acksall-p99', unit: 'ms', targets: ['brook', 'mock'],
    async run(t, tools) {
      const r = await rdkafkaLatency(tools, t.bootstrap, 'lat', 50_000, Math.round(250_000 * scale), 1000, 'all');
      return { value: r.p99, cpuPerGB: null, detail: `p50=${r.p50} p99=${r.p99} p99.9=${r.p999} rate=${r.rate}/s` };
    },
    // One group commit per millisecond at 50k msg/s: 50 KB appended, then fdatasync.
    floor: () => fdatasyncLatency(50_000, Math.round(2000 * scale)).p99,
  },
  {
    name: 'group-consume-16p', unit: 'MB/s', targets: ['brook'],
    async run(t, tools) {
      const count = Math.round(400_000 * scale);
      await createTopic(t.bootstrap, 'g16', 16);
      await rdkafkaPerf(tools, ['-P', '-t', 'g16', '-b', t.bootstrap, '-s', '1000', '-c', String(count), '-a', '1', '-X', 'linger.ms=5']);
      return timed(t, 1000 * count, async () =>
        (await rdkafkaPerf(tools, ['-G', `bench-${Date.now()}`, '-t', 'g16', '-b', t.bootstrap, '-c', String(count), '-X', 'auto.offset.reset=earliest'])).mbPerSec);
    },
  },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const tools = ensureTools();
  const selected = WORKLOADS.filter((w) => only === undefined || only.includes(w.name));
  console.log(`Brook vs librdkafka mock cluster — ${runs} runs each, alternating; ${new Date().toISOString()}`);
  const rows: string[][] = [];
  let brookProduce = NaN;
  for (const w of selected) {
    const results: Record<string, Measure[]> = { brook: [], mock: [] };
    const floors: number[] = [];
    const errors: string[] = [];
    for (let i = 0; i < runs; i++) {
      for (const name of w.targets) {
        // Memory freed by the previous run is reused at memory speed for ~2 s, fresh memory costs
        // page faults in the host (disk-floor.ts): every run starts from the same state.
        await new Promise((r) => setTimeout(r, settleMs));
        const t = name === 'brook' ? await startBrook(root) : await startMock(tools, MOCK_TOPICS);
        try {
          results[name].push(await w.run(t, tools));
        } catch (e) {
          errors.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
        } finally {
          await t.stop();
        }
      }
      if (w.floor !== undefined) floors.push(await w.floor());
    }
    const b = median(results.brook.map((m) => m.value));
    const m = median(results.mock.map((x) => x.value));
    const cpu = median(results.brook.map((x) => x.cpuPerGB ?? NaN));
    const f = median(floors);
    const floorRatio = w.unit === 'ms' ? f / b : b / f;
    if (w.name === 'produce-1k-acks1') brookProduce = b;
    let ratio = w.targets.includes('mock') ? (w.unit === 'ms' ? m / b : b / m) : NaN;
    let ratioNote = 'brook/mock';
    if (w.name === 'consume-from-disk' && !Number.isNaN(brookProduce)) {
      ratio = b / brookProduce;
      ratioNote = 'consume/brook produce';
    }
    const detail = results.brook.at(-1)?.detail ?? '';
    rows.push([w.name, `${b.toFixed(w.unit === 'ms' ? 2 : 1)} ${w.unit}`, Number.isNaN(m) ? '—' : `${m.toFixed(w.unit === 'ms' ? 2 : 1)} ${w.unit}`,
      Number.isNaN(ratio) ? '—' : `${ratio.toFixed(2)}× (${ratioNote})`,
      Number.isNaN(f) ? '—' : `${f.toFixed(w.unit === 'ms' ? 2 : 0)} ${w.unit} (${floorRatio.toFixed(2)}×)`,
      Number.isNaN(cpu) ? '—' : cpu.toFixed(2), detail]);
    console.log(`${w.name}: brook ${results.brook.map((x) => x.value.toFixed(1)).join(' ')} | mock ${results.mock.map((x) => x.value.toFixed(1)).join(' ')}${floors.length ? ` | floor ${floors.map((x) => x.toFixed(1)).join(' ')}` : ''}${errors.length ? ` | errors: ${errors.join('; ')}` : ''}`);
  }
  console.log('\n| workload | Brook (median) | mock (median) | ratio | disk floor (Brook/floor) | Brook CPU s/GB | last Brook run |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

main().catch((e) => {
  console.error(`bench failed: ${e.stack ?? e}`);
  process.exit(1);
});
