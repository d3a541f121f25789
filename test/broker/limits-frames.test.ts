// Frame-size limits over TCP. The int32 size prefix is checked before anything is allocated for the
// frame: negative sizes, −2³¹, 2³¹−1 and one byte over socket.request.max.bytes close the connection
// without an answer; a frame of exactly the limit is served; a size of 0 (no request header) closes.
// On a listener that requires SASL, connections start unauthenticated: only ApiVersions,
// SaslHandshake and SaslAuthenticate are accepted and frames are limited to
// sasl.server.max.receive.size until the SASL handler calls ctx.connection.authenticate().
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { connectRaw, sizePrefix, apiVersionsFrame, requestFrame, frame, sleep } from '../fuzz/raw-client.ts';
import { Server } from '../../src/broker/server.ts';
import { defineHandler, type ApiHandler } from '../../src/broker/handler.ts';
import type { ConnectionAuth } from '../../src/broker/limits.ts';
import { createSaslAuthenticateResponse } from '../../src/protocol/generated/sasl-authenticate-response.ts';
import { createMetadataRequest } from '../../src/protocol/generated/metadata-request.ts';

const LIMIT = 4096;
let b: TestBroker;

before(async () => {
  b = await startTestBroker({ 'socket.request.max.bytes': String(LIMIT) }, { quiet: true });
});
after(async () => {
  await b?.close();
});

async function assertClosedUnanswered(bytes: Buffer | Buffer[], what: string, port = b.port): Promise<void> {
  const raw = await connectRaw(b.host, port);
  for (const part of Array.isArray(bytes) ? bytes : [bytes]) {
    raw.socket.write(part);
    if (Array.isArray(bytes)) await sleep(20);
  }
  assert.equal(await raw.closed(), true, `${what}: the broker closes the connection`);
  assert.equal(raw.received().length, 0, `${what}: nothing is answered`);
}

async function assertAnswered(bytes: Buffer, correlationId: number, port = b.port): Promise<void> {
  const raw = await connectRaw(b.host, port);
  raw.socket.write(bytes);
  const [res] = await raw.responses(1);
  assert.equal(res.readInt32BE(0), correlationId);
  assert.equal(res.readInt16BE(4), 0, 'ApiVersions error code');
  raw.destroy();
}

test('size prefixes that are negative, zero or above socket.request.max.bytes close the connection', async () => {
  for (const size of [-1, -2, -(2 ** 31), 0, 2 ** 31 - 1, LIMIT + 1, 0x10000000]) {
    await assertClosedUnanswered(sizePrefix(size), `size ${size}`);
  }
});

test('an oversized prefix arriving one byte at a time is refused as soon as it is complete', async () => {
  const p = sizePrefix(2 ** 31 - 1);
  await assertClosedUnanswered([p.subarray(0, 1), p.subarray(1, 2), p.subarray(2, 3), p.subarray(3)], 'trickled 2^31-1');
});

test('a frame of exactly socket.request.max.bytes is served, one byte more is not', async () => {
  await assertAnswered(apiVersionsFrame(7, LIMIT), 7);
  await assertClosedUnanswered(apiVersionsFrame(8, LIMIT + 1), 'limit + 1');
});

test('a valid request then a bad size: the first is answered, then the connection closes', async () => {
  const raw = await connectRaw(b.host, b.port);
  raw.socket.write(Buffer.concat([apiVersionsFrame(1), sizePrefix(-1)]));
  assert.equal(await raw.closed(), true);
  const all = raw.received();
  // The answer to the first request may or may not get out before the close; never a second one.
  assert.ok(all.length === 0 || all.readInt32BE(4) === 1);
});

test('before authentication only SASL-related APIs are accepted, and frames are capped lower', async () => {
  let authenticated = 0;
  const handlers = new Map<number, ApiHandler>(b.broker.handlers);
  // Stand-in for the SASL handler: accepts any token and marks the connection authenticated.
  handlers.set(36, defineHandler(36, 0, 2, (_req, ctx) => {
    (ctx.connection as typeof ctx.connection & ConnectionAuth).authenticate();
    authenticated++;
    return createSaslAuthenticateResponse({ authBytes: Buffer.alloc(0) });
  }));
  const server = new Server(b.broker, handlers, { requireAuthentication: true, maxUnauthenticatedRequestBytes: 1024 }, 2 ** 31 - 1, () => {});
  const { port } = await server.listen('127.0.0.1', 0);
  try {
    // ApiVersions is answered before authentication.
    await assertAnswered(apiVersionsFrame(3), 3, port);
    // Metadata before authentication closes the connection.
    await assertClosedUnanswered(requestFrame(3, 1, 4, createMetadataRequest({ topics: null })), 'Metadata before SASL', port);
    // A frame above the pre-authentication limit closes, though it is under socket.request.max.bytes.
    await assertClosedUnanswered(apiVersionsFrame(5, 2000), '2000-byte frame before SASL', port);
    // After SaslAuthenticate the full limit and every API apply.
    const raw = await connectRaw(b.host, port);
    raw.socket.write(requestFrame(36, 0, 10, { authBytes: Buffer.from('\0user\0pass') }));
    await raw.responses(1);
    raw.socket.write(apiVersionsFrame(11, 2000));
    raw.socket.write(requestFrame(3, 1, 12, createMetadataRequest({ topics: null })));
    const res = await raw.responses(3);
    assert.deepEqual(res.map((r) => r.readInt32BE(0)), [10, 11, 12]);
    assert.equal(authenticated, 1);
    assert.equal(raw.isClosed(), false);
    raw.destroy();
  } finally {
    await server.close();
  }
});

test('without SASL every connection starts authenticated (PLAINTEXT listener)', async () => {
  const raw = await connectRaw(b.host, b.port);
  raw.socket.write(requestFrame(3, 1, 1, createMetadataRequest({ topics: null })));
  const [res] = await raw.responses(1);
  assert.equal(res.readInt32BE(0), 1);
  raw.destroy();
  // An empty frame body (size 4, no header fields) is malformed and closes.
  await assertClosedUnanswered(frame(Buffer.alloc(4)), 'frame of 4 zero bytes');
});
