// A malformed frame closes only the connection it arrived on; the broker keeps serving every other
// connection. Frames are [int32 size][request header][body]; the size is checked before anything is
// allocated (negative or above socket.request.max.bytes closes at once). An ApiVersions version the
// broker does not know is the one malformation that is answered: v0 format, UNSUPPORTED_VERSION (35)
// and the full api_keys list, so the client can retry lower (KIP-511).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { KafkaConnection } from '../../src/client/connection.ts';

const MAX_REQUEST_BYTES = 1 << 20;

let b: TestBroker;
let bystander: KafkaConnection;
// An exception escaping a socket handler would kill a real broker process; here it is recorded.
const escaped: Error[] = [];
const onEscaped = (e: Error) => escaped.push(e);

before(async () => {
  process.on('uncaughtException', onEscaped);
  b = await startTestBroker({ 'socket.request.max.bytes': String(MAX_REQUEST_BYTES) });
  bystander = await KafkaConnection.connect(b.host, b.port, { clientId: 'bystander' });
});
after(async () => {
  bystander?.close();
  await b?.close();
  process.off('uncaughtException', onEscaped);
});

interface Raw {
  socket: net.Socket;
  received: () => Buffer;
  /** Resolves true once the broker has closed the socket, false if it is still open after `ms`. */
  closed: (ms?: number) => Promise<boolean>;
}

function connectRaw(): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: b.host, port: b.port });
    const chunks: Buffer[] = [];
    let isClosed = false;
    const waiters: Array<() => void> = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      isClosed = true;
      for (const w of waiters) w();
    });
    socket.once('connect', () => resolve({
      socket,
      received: () => Buffer.concat(chunks),
      closed: (ms = 5000) => new Promise((res) => {
        if (isClosed) return res(true);
        const timer = setTimeout(() => res(false), ms);
        waiters.push(() => {
          clearTimeout(timer);
          res(true);
        });
      }),
    }));
    socket.once('error', reject);
  });
}

/** A request header v1 (int16 key, int16 version, int32 correlation id, nullable string client id). */
function header(apiKey: number, version: number, correlationId: number, clientId: string | null = 'raw'): Buffer {
  const id = clientId === null ? null : Buffer.from(clientId);
  const h = Buffer.alloc(10);
  h.writeInt16BE(apiKey, 0);
  h.writeInt16BE(version, 2);
  h.writeInt32BE(correlationId, 4);
  h.writeInt16BE(id === null ? -1 : id.length, 8);
  return id === null ? h : Buffer.concat([h, id]);
}

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  return Buffer.concat([size, payload]);
}

/** Each failure is reported once, by the test that caused it. */
function assertNothingEscaped(): void {
  const seen = escaped.splice(0).map((e) => e.stack ?? e.message);
  assert.deepEqual(seen, [], 'no exception may escape the broker\'s connection handling');
}

/** Nothing escaped, and the broker still answers ApiVersions and Metadata on the long-lived connection and on a new one. */
async function assertServing(): Promise<void> {
  assertNothingEscaped();
  for (const conn of [bystander, await KafkaConnection.connect(b.host, b.port, { clientId: 'fresh' })]) {
    const av = await conn.send(18, 3, { clientSoftwareName: 'brook-test', clientSoftwareVersion: '1.0' });
    assert.equal(av.errorCode, 0);
    assert.ok(av.apiKeys.some((k) => k.apiKey === 3), 'Metadata is advertised');
    const md = await conn.send(3, 1, { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    assert.equal(md.brokers.length, 1);
    assert.equal(md.brokers[0].port, b.port);
    if (conn !== bystander) conn.close();
  }
}

async function assertClosesOnly(bytes: Buffer, what: string): Promise<void> {
  const raw = await connectRaw();
  raw.socket.write(bytes);
  const closed = await raw.closed();
  assertNothingEscaped();
  assert.equal(closed, true, `${what}: the broker must close the connection`);
  assert.equal(raw.received().length, 0, `${what}: nothing is answered`);
  await assertServing();
}

test('a negative frame size closes the connection', async () => {
  const neg = Buffer.alloc(4);
  neg.writeInt32BE(-1, 0);
  await assertClosesOnly(neg, 'size -1');
  neg.writeInt32BE(-2147483648, 0);
  await assertClosesOnly(neg, 'size INT32_MIN');
});

test('a frame size above socket.request.max.bytes closes the connection before any body arrives', async () => {
  const huge = Buffer.alloc(4);
  huge.writeInt32BE(0x7fffffff, 0);
  await assertClosesOnly(huge, 'size 2^31-1');
  huge.writeInt32BE(MAX_REQUEST_BYTES + 1, 0);
  await assertClosesOnly(huge, 'size max+1');
});

test('a truncated body followed by the client closing leaves the broker serving', async () => {
  const raw = await connectRaw();
  const full = frame(Buffer.concat([header(3, 1, 1), Buffer.alloc(200, 0)]));
  raw.socket.write(full.subarray(0, 40));
  raw.socket.end();
  assert.equal(await raw.closed(), true);
  // A size prefix cut in half, then close.
  const half = await connectRaw();
  half.socket.end(Buffer.from([0, 0]));
  assert.equal(await half.closed(), true);
  await assertServing();
});

test('a frame too short for a request header closes the connection', async () => {
  await assertClosesOnly(frame(Buffer.from([0, 3, 0])), '3-byte frame');
  await assertClosesOnly(frame(Buffer.alloc(0)), 'empty frame');
});

test('a client id longer than the frame closes the connection', async () => {
  const h = header(18, 0, 1, 'abc');
  h.writeInt16BE(500, 8);
  await assertClosesOnly(frame(h), 'lying client id length');
});

test('an unknown api key closes the connection', async () => {
  await assertClosesOnly(frame(header(32000, 0, 1)), 'api key 32000');
  await assertClosesOnly(frame(header(-5, 0, 1)), 'api key -5');
});

test('an unsupported version of a known api closes the connection', async () => {
  await assertClosesOnly(frame(Buffer.concat([header(3, 999, 1), Buffer.alloc(8)])), 'Metadata v999');
});

test('garbage in a known request body closes the connection', async () => {
  // Produce v3 body: transactional id, acks, timeout, then a topics array whose count lies.
  const body = Buffer.from([0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x75, 0x30, 0x7f, 0xff, 0xff, 0xff, 0x01, 0x02]);
  await assertClosesOnly(frame(Buffer.concat([header(0, 3, 1), body])), 'Produce v3 with a lying array count');
  await assertClosesOnly(frame(Buffer.concat([header(3, 1, 1), Buffer.from([0x00, 0x00, 0x00, 0x05, 0x00])])), 'Metadata v1 truncated topics');
});

test('ApiVersions with an unknown version is answered in v0 format with UNSUPPORTED_VERSION and the api list', async () => {
  const raw = await connectRaw();
  raw.socket.write(frame(header(18, 999, 77)));
  const deadline = Date.now() + 5000;
  while (raw.received().length < 4 || raw.received().length < 4 + raw.received().readInt32BE(0)) {
    assert.ok(Date.now() < deadline, `no complete answer (got ${raw.received().length} bytes)`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const res = raw.received();
  assert.equal(res.readInt32BE(4), 77, 'correlation id');
  assert.equal(res.readInt16BE(8), 35, 'UNSUPPORTED_VERSION');
  const count = res.readInt32BE(10);
  const keys = new Map<number, [number, number]>();
  for (let i = 0, at = 14; i < count; i++, at += 6) keys.set(res.readInt16BE(at), [res.readInt16BE(at + 2), res.readInt16BE(at + 4)]);
  assert.ok(keys.has(18), 'ApiVersions itself is listed');
  assert.equal(keys.get(18)![0], 0, 'ApiVersions min version 0');
  // The connection stays usable: the client retries with a version we know.
  raw.socket.write(frame(header(18, 0, 78)));
  const before = res.length;
  while (raw.received().length < before + 8) {
    assert.ok(Date.now() < deadline + 5000, 'no answer to the retried ApiVersions v0');
    await new Promise((r) => setTimeout(r, 20));
  }
  const retry = raw.received().subarray(before);
  assert.equal(retry.readInt32BE(4), 78);
  assert.equal(retry.readInt16BE(8), 0, 'v0 retry succeeds');
  raw.socket.destroy();
  await assertServing();
});

test('seeded random garbage frames never take the broker down', async () => {
  let seed = 0x5eed;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
  const conns = await Promise.all(Array.from({ length: 40 }, async () => {
    const raw = await connectRaw();
    const body = Buffer.alloc(rnd() % 64);
    for (let i = 0; i < body.length; i++) body[i] = rnd() & 0xff;
    // Half keep a known api key and version so the body decoders see the garbage too.
    if (body.length >= 4 && rnd() % 2 === 0) {
      body.writeInt16BE([0, 1, 2, 3, 18][rnd() % 5], 0);
      body.writeInt16BE(rnd() % 4, 2);
    }
    raw.socket.write(frame(body));
    return raw;
  }));
  // Each connection is either closed by the broker or (for a frame that happens to decode) answered.
  await Promise.all(conns.map(async (raw) => {
    if (!(await raw.closed(2000))) raw.socket.destroy();
  }));
  await assertServing();
});
