// Shared pieces of the transaction integration tests: a broker behind the fault proxy, the
// confluent-kafka-python driver (txn_client.py) as a process that reports JSON lines as it goes (so
// it can be killed mid-way), read-back of a whole topic, topic creation and raw requests.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { readJsonLines } from '../helpers/json-lines.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { createCreateTopicsRequest } from '../../src/protocol/generated/create-topics-request.ts';
import { FaultProxy } from './fault-proxy.ts';
import type { Read, Write } from './checker.ts';

export const PYTHON = '/usr/bin/python3';
const CLIENT = fileURLToPath(new URL('./py/txn_client.py', import.meta.url));

export interface PyEvent {
  event: string;
  value?: string;
  partition?: number;
  offset?: number;
  txn?: string;
  outcome?: 'committed' | 'aborted' | 'unknown';
  error?: string;
  [k: string]: unknown;
}

/** txn_client.py running in its own process. */
export class PyClient {
  readonly events: PyEvent[] = [];
  readonly child: ChildProcess;
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(command: string, request: Record<string, unknown>) {
    this.child = spawn(PYTHON, [CLIENT, command, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'pipe'] });
    readJsonLines<PyEvent>(this.child.stdout!, (e) => this.events.push(e), (line) => (this.stderr += `unparsable stdout line: ${line}\n`));
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (this.stderr.length > 200_000) this.stderr = this.stderr.slice(-100_000);
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  has(event: string): boolean {
    return this.events.some((e) => e.event === event);
  }

  of(event: string): PyEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  async waitFor(event: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.has(event)) {
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`no "${event}" from txn_client (exit ${this.child.exitCode}); last events ${JSON.stringify(this.events.slice(-5))}\n${this.stderr.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for "done" and a clean exit. */
  async finish(timeoutMs: number): Promise<PyEvent[]> {
    await this.waitFor('done', timeoutMs);
    const code = await this.exited;
    assert.equal(code, 0, `txn_client exited with ${code}\n${this.stderr.slice(-3000)}`);
    return this.events;
  }

  kill(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

export async function runPy(command: string, request: Record<string, unknown>, timeoutMs = 90_000): Promise<PyEvent[]> {
  const c = new PyClient(command, request);
  try {
    return await c.finish(timeoutMs);
  } finally {
    if (c.child.exitCode === null) await c.kill();
  }
}

/** Everything in the topic as a librdkafka consumer at `isolation` sees it. */
export async function readBack(bootstrap: string, topic: string, partitions: number, isolation: 'read_committed' | 'read_uncommitted' = 'read_committed'): Promise<Read[]> {
  const events = await runPy('read', { bootstrap, topic, partitions, isolation });
  const done = events.find((e) => e.event === 'done');
  assert.equal(done?.complete, true, `read of ${topic} did not reach the end of every partition`);
  return events.filter((e) => e.event === 'record').map((e) => ({ partition: e.partition!, offset: e.offset!, value: e.value! }));
}

/** The writes a `produce` run reported (acknowledged or failed; values it never heard about are unknown). */
export function producedWrites(events: PyEvent[], prefix: string, count: number, partitions: number): Write[] {
  const status = new Map<string, 'ok' | 'fail'>();
  for (const e of events) if (e.event === 'ack' || e.event === 'fail') status.set(e.value!, e.event === 'ack' ? 'ok' : 'fail');
  return Array.from({ length: count }, (_, i) => {
    const value = `${prefix}-${i}`;
    return { value, status: status.get(value) ?? 'info', producer: prefix, partition: i % partitions, seq: i };
  });
}

export async function createTopic(host: string, port: number, name: string, numPartitions: number, configs: { name: string; value: string }[] = []): Promise<void> {
  const conn = await KafkaConnection.connect(host, port);
  try {
    const res = await conn.send(19, 4, createCreateTopicsRequest({ topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs }], timeoutMs: 10_000 }));
    assert.equal(res.topics[0].errorCode, 0, `create ${name}: ${res.topics[0].errorMessage}`);
  } finally {
    conn.close();
  }
}

export interface ProxiedBroker {
  broker: TestBroker;
  proxy: FaultProxy;
  /** The proxy's address: what clients bootstrap from, and what the broker advertises. */
  bootstrap: string;
  close(): Promise<void>;
}

/** A broker that advertises the fault proxy in front of it, so clients never bypass the proxy. */
export function startProxiedBroker(props: Record<string, string>, proxy: { seed: number; dropRate: number; maxDrops?: number }): Promise<ProxiedBroker> {
  return startBehind(props, (proxyPort, brokerPort) => FaultProxy.start(proxyPort, { host: '127.0.0.1', port: brokerPort }, proxy));
}

/**
 * A broker that advertises the address of a proxy in front of it (`startProxy` listens there and
 * forwards to the broker's port), so clients stay behind the proxy after bootstrap.
 */
export async function startBehind<P extends { close(): Promise<void> }>(
  props: Record<string, string>, startProxy: (proxyPort: number, brokerPort: number) => Promise<P>,
): Promise<{ broker: TestBroker; proxy: P; bootstrap: string; close(): Promise<void> }> {
  const proxyPort = await reservedPort();
  const brokerPort = await reservedPort();
  const broker = await startTestBroker({
    'listeners': `PLAINTEXT://127.0.0.1:${brokerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxyPort}`,
    ...props,
  }, { quiet: true });
  const proxy = await startProxy(proxyPort, broker.port);
  return {
    broker, proxy, bootstrap: `127.0.0.1:${proxyPort}`,
    async close() {
      await proxy.close();
      await broker.close();
    },
  };
}

/**
 * A free port outside the kernel's ephemeral range (where freePort's port-0 picks land). A broker
 * restarted on its old port must not find it taken by another test's broker that was handed the
 * port in between — then the clients would silently talk to the wrong broker.
 */
export async function reservedPort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 20000-29999');
}

/** Polls `pred` until it holds. */
export async function eventually(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
