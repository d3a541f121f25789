// What a client that pipelines requests and never reads the answers can make the broker hold.
// A connection takes a new frame only while fewer than brook.connection.max.in.flight.requests are
// unanswered and fewer than brook.connection.max.buffered.response.bytes wait for the client;
// otherwise it stops reading the socket and TCP pushes back on the client. So the broker holds at
// most the buffered limit plus one response per in-flight request, however many requests the
// client sends — checked on the connection's own accounting in process, and on the resident memory
// (VmHWM) of a broker in its own process. When the client reads again, every answer arrives, in
// order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBroker, spawnBroker } from '../helpers/broker.ts';
import { connectRaw, requestFrame, sleep, apiVersionsFrame } from '../fuzz/raw-client.ts';
import { createTopic, produce } from '../fuzz/broker-ops.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { Server } from '../../src/broker/server.ts';
import { UNREAD_HIGH_WATER } from '../../src/broker/connection.ts';
import { createFetchRequest, createFetchTopic, createFetchPartition } from '../../src/protocol/generated/fetch-request.ts';

const VALUE_BYTES = 900_000;

function fetchFrame(correlationId: number, topic: string, maxWaitMs = 0, minBytes = 0): Buffer {
  return requestFrame(1, 4, correlationId, createFetchRequest({
    replicaId: -1, maxWaitMs, minBytes, maxBytes: 1 << 20, isolationLevel: 0,
    topics: [createFetchTopic({ topic, partitions: [createFetchPartition({ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 })] })],
  }));
}

/** Polls `read` until it returns the same value for `quietMs` (the connection has settled). */
async function settle<T>(read: () => T, quietMs = 500, maxMs = 10_000): Promise<T> {
  let last = JSON.stringify(read());
  let since = performance.now();
  const start = since;
  while (performance.now() - since < quietMs && performance.now() - start < maxMs) {
    await sleep(25);
    const now = JSON.stringify(read());
    if (now !== last) {
      last = now;
      since = performance.now();
    }
  }
  return read();
}

test('a client that never reads: in-flight requests and buffered responses stay within the limits', async () => {
  const b = await startTestBroker({}, { quiet: true });
  const maxInFlight = 8;
  const maxBuffered = 256 * 1024;
  const server = new Server(b.broker, b.broker.handlers, { maxInFlight, maxBufferedResponseBytes: maxBuffered }, 2 ** 31 - 1, () => {});
  const { port } = await server.listen('127.0.0.1', 0);
  try {
    const admin = await KafkaConnection.connect(b.host, b.port);
    await createTopic(admin, 'bp');
    assert.equal((await produce(admin, 'bp', [{ key: null, value: Buffer.alloc(VALUE_BYTES, 7) }])).errorCode, 0);
    admin.close();

    const raw = await connectRaw('127.0.0.1', port);
    raw.socket.pause(); // never read
    const requests = 120;
    raw.socket.write(Buffer.concat(Array.from({ length: requests }, (_, i) => fetchFrame(i + 1, 'bp'))));
    const [state] = await settle(() => server.connectionStates());
    const responseBound = VALUE_BYTES + 4096;
    assert.equal(state.blocked, true, 'no new frame is taken');
    assert.ok(state.inFlight <= maxInFlight, `in flight ${state.inFlight}`);
    const held = state.socketBufferedBytes + state.queuedResponseBytes;
    assert.ok(held <= maxBuffered + maxInFlight * responseBound, `response bytes held ${held}`);
    assert.ok(state.unreadRequestBytes > 0, 'requests the client sent wait unread');

    // More than UNREAD_HIGH_WATER of further requests: the broker stops reading the socket.
    const extra = 60_000;
    raw.socket.write(Buffer.concat(Array.from({ length: extra }, (_, i) => apiVersionsFrame(requests + i + 1))));
    const [later] = await settle(() => server.connectionStates());
    assert.equal(later.readingPaused, true, 'the socket is no longer read');
    assert.ok(later.unreadRequestBytes < UNREAD_HIGH_WATER + 256 * 1024, `unread request bytes ${later.unreadRequestBytes}`);

    raw.socket.resume();
    const total = requests + extra;
    const responses = await raw.responses(total, 60_000);
    assert.deepEqual(responses.map((r) => r.readInt32BE(0)), Array.from({ length: total }, (_, i) => i + 1), 'every answer, in order');
    assert.ok(responses.slice(0, requests).every((r) => r.length > VALUE_BYTES), 'each fetch carries the record');
    raw.destroy();
  } finally {
    await server.close();
    await b.close();
  }
});

test('pipelined long polls: at most max.in.flight are worked on at once, all are answered in order', async () => {
  const b = await startTestBroker({}, { quiet: true });
  const maxInFlight = 4;
  const server = new Server(b.broker, b.broker.handlers, { maxInFlight }, 2 ** 31 - 1, () => {});
  const { port } = await server.listen('127.0.0.1', 0);
  try {
    const admin = await KafkaConnection.connect(b.host, b.port);
    await createTopic(admin, 'empty');
    admin.close();
    const raw = await connectRaw('127.0.0.1', port);
    const n = 20;
    raw.socket.write(Buffer.concat([...Array.from({ length: n }, (_, i) => fetchFrame(i + 1, 'empty', 150, 1)), apiVersionsFrame(n + 1)]));
    let maxSeen = 0;
    const watch = setInterval(() => {
      for (const s of server.connectionStates()) maxSeen = Math.max(maxSeen, s.inFlight);
    }, 5);
    const responses = await raw.responses(n + 1, 30_000);
    clearInterval(watch);
    assert.deepEqual(responses.map((r) => r.readInt32BE(0)), Array.from({ length: n + 1 }, (_, i) => i + 1));
    assert.ok(maxSeen >= 1 && maxSeen <= maxInFlight, `in flight peaked at ${maxSeen}`);
    raw.destroy();
  } finally {
    await server.close();
    await b.close();
  }
});

function vmHwmBytes(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

test('a broker process stays small while clients pipeline gigabytes of fetches they never read', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'brook-bp-'));
  const broker = await spawnBroker({ dataDir, set: {
    'brook.connection.max.in.flight.requests': '10',
    'brook.connection.max.buffered.response.bytes': String(4 << 20),
  } });
  try {
    const pid = broker.child.pid!;
    const admin = await KafkaConnection.connect('127.0.0.1', broker.port);
    await createTopic(admin, 'big');
    assert.equal((await produce(admin, 'big', [{ key: null, value: Buffer.alloc(VALUE_BYTES, 1) }])).errorCode, 0);
    const before = vmHwmBytes(pid);
    // 4 connections × 1000 fetches × 0.9 MB: 3.6 GB of answers if the broker built them all.
    const conns = await Promise.all([1, 2, 3, 4].map(() => connectRaw('127.0.0.1', broker.port)));
    for (const c of conns) {
      c.socket.pause();
      c.socket.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => fetchFrame(i + 1, 'big'))));
    }
    await sleep(3000);
    const peak = vmHwmBytes(pid);
    const grown = peak - before;
    console.log(`broker VmHWM ${(before / 2 ** 20).toFixed(0)} MiB before, ${(peak / 2 ** 20).toFixed(0)} MiB after 4000 unread 0.9 MB fetches (+${(grown / 2 ** 20).toFixed(0)} MiB)`);
    assert.ok(grown < 400 * 2 ** 20, `VmHWM grew by ${grown} bytes`);
    for (const c of conns) c.destroy();
    assert.equal(await stillServing(admin), true);
    admin.close();
  } finally {
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

async function stillServing(conn: KafkaConnection): Promise<boolean> {
  const res = await conn.send(18, 3, { clientSoftwareName: 'brook-test', clientSoftwareVersion: '1' });
  return res.errorCode === 0;
}
