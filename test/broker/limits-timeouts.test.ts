// Time limits on a connection. connections.max.idle.ms closes a connection with no traffic; a
// request frame whose bytes trickle in must be complete within brook.connection.receive.timeout.ms
// of its first byte, else the connection is closed unanswered (the trickle keeps the idle timer
// from firing, so this is the limit that stops slow senders). Neither limit touches a connection
// that is waiting for the broker, such as a long-poll Fetch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { connectRaw, apiVersionsFrame, requestFrame, sleep } from '../fuzz/raw-client.ts';
import { createFetchRequest, createFetchTopic, createFetchPartition } from '../../src/protocol/generated/fetch-request.ts';
import { createMetadataRequest, createMetadataRequestTopic } from '../../src/protocol/generated/metadata-request.ts';
import { KafkaConnection } from '../../src/client/connection.ts';

const RECEIVE_TIMEOUT_MS = 500;
const IDLE_MS = 1000;
let b: TestBroker;

before(async () => {
  b = await startTestBroker({
    'brook.connection.receive.timeout.ms': String(RECEIVE_TIMEOUT_MS),
    'connections.max.idle.ms': String(IDLE_MS),
  }, { quiet: true });
});
after(async () => {
  await b?.close();
});

test('a connection that sends nothing is closed once idle', async () => {
  const raw = await connectRaw(b.host, b.port);
  assert.equal(await raw.closed(IDLE_MS * 10), true);
  assert.equal(raw.received().length, 0);
});

test('a connection that keeps sending requests is not idle', async () => {
  const raw = await connectRaw(b.host, b.port);
  for (let i = 0; i < 8; i++) {
    raw.socket.write(apiVersionsFrame(i));
    await raw.responses(i + 1);
    await sleep(IDLE_MS / 5);
  }
  assert.equal(raw.isClosed(), false);
  raw.destroy();
});

test('a frame trickling in a byte at a time is cut off at the receive timeout, unanswered', async () => {
  const raw = await connectRaw(b.host, b.port);
  const bytes = apiVersionsFrame(1, 200);
  let sent = 0;
  // One byte every 30 ms: the whole frame would take ~6 s, the idle timer never fires.
  while (sent < bytes.length && !raw.isClosed()) {
    raw.socket.write(bytes.subarray(sent, sent + 1));
    sent++;
    await sleep(30);
  }
  assert.equal(raw.isClosed(), true, 'closed before the frame was complete');
  assert.ok(sent < bytes.length, `closed after ${sent} of ${bytes.length} bytes`);
  assert.equal(raw.received().length, 0);
});

test('a frame split into two parts that arrive in time is answered', async () => {
  const raw = await connectRaw(b.host, b.port);
  const bytes = apiVersionsFrame(5, 200);
  raw.socket.write(bytes.subarray(0, 50));
  await sleep(RECEIVE_TIMEOUT_MS / 10);
  raw.socket.write(bytes.subarray(50));
  const [res] = await raw.responses(1);
  assert.equal(res.readInt32BE(0), 5);
  raw.destroy();
});

test('a long-poll Fetch longer than both timeouts is answered, not cut off', async () => {
  const admin = await KafkaConnection.connect(b.host, b.port);
  const md = await admin.send(3, 4, createMetadataRequest({ topics: [createMetadataRequestTopic({ name: 'long-poll' })], allowAutoTopicCreation: true }));
  assert.equal(md.topics[0].errorCode, 0);
  await b.broker.whenApplied();
  admin.close();
  const raw = await connectRaw(b.host, b.port);
  // An empty partition and min_bytes 1: the broker holds the request for max_wait_ms.
  const wait = IDLE_MS + 2 * RECEIVE_TIMEOUT_MS;
  const started = performance.now();
  raw.socket.write(requestFrame(1, 4, 9, createFetchRequest({
    replicaId: -1, maxWaitMs: wait, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0,
    topics: [createFetchTopic({ topic: 'long-poll', partitions: [createFetchPartition({ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 })] })],
  })));
  const [res] = await raw.responses(1, wait * 10);
  assert.equal(res.readInt32BE(0), 9);
  assert.ok(performance.now() - started >= IDLE_MS, 'the request was held past the idle timeout');
  assert.equal(raw.isClosed(), false);
  raw.destroy();
});
