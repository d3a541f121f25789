// Frames cut from a byte stream, however the stream is split into reads; large Produce frames read
// straight into pooled memory and handed back after use. Then end to end: pipelined Produce requests
// (acks=0 and acks=1) whose frames reuse pooled memory store exactly the bytes that were sent, Fetch
// reads into pooled buffers return them, and every pooled buffer goes back to the pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, type Frame } from '../../src/broker/frame-reader.ts';
import { FramePool, MIN_POOLED } from '../../src/broker/frame-pool.ts';
import { Server } from '../../src/broker/server.ts';
import { startTestBroker } from '../helpers/broker.ts';
import { connectRaw, requestFrame, sleep } from '../fuzz/raw-client.ts';
import { createTopic, fetchFrom } from '../fuzz/broker-ops.ts';
import { readPooled } from '../../src/broker/fetch.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { buildRecordBatch } from '../../src/protocol/record-batch.ts';
import { seeded as rng } from '../helpers/seeded.ts';
import { createFetchRequest, createFetchTopic, createFetchPartition } from '../../src/protocol/generated/fetch-request.ts';

/** A stream of frames: API key 0 (Produce) or 3, random sizes from 0 up to `maxSize`, random bytes. */
function stream(rand: () => number, count: number, maxSize: number): { bytes: Buffer; frames: Buffer[] } {
  const frames: Buffer[] = [];
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = rand() < 0.1 ? Math.floor(rand() * 3) : Math.floor(rand() * maxSize);
    const f = Buffer.alloc(size);
    for (let j = 0; j < size; j++) f[j] = (rand() * 256) | 0;
    if (size >= 2) f.writeInt16BE(rand() < 0.5 ? 0 : 3, 0);
    frames.push(f);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(size);
    parts.push(prefix, f);
  }
  return { bytes: Buffer.concat(parts), frames };
}

function drain(reader: FrameReader, out: Frame[]): void {
  for (let f = reader.take(); f !== undefined; f = reader.take()) out.push(f);
}

test('feed: the same frames for every way of splitting the stream into chunks', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rand = rng(seed);
    const { bytes, frames } = stream(rand, 30, 3 * MIN_POOLED);
    const pool = new FramePool(8 * MIN_POOLED * 4);
    const reader = new FrameReader(pool, () => true);
    const got: Frame[] = [];
    for (let pos = 0; pos < bytes.length;) {
      const n = Math.min(bytes.length - pos, 1 + Math.floor(rand() * (rand() < 0.5 ? 8 : 200_000)));
      const chunk = Buffer.from(bytes.subarray(pos, pos + n)); // a copy the reader must not keep
      reader.feed(chunk);
      chunk.fill(0xee);
      pos += n;
      drain(reader, got);
    }
    assert.equal(got.length, frames.length, `seed ${seed}`);
    for (let i = 0; i < frames.length; i++) assert.ok(got[i].bytes.equals(frames[i]), `seed ${seed} frame ${i}`);
    assert.equal(reader.unreadBytes, 0);
    for (const f of got) reader.release(f);
    assert.equal(pool.outstanding, 0);
  }
});

test('onread: large frames are read in place, the rest through scratch, and the frames are exact', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rand = rng(1000 + seed);
    const { bytes, frames } = stream(rand, 20, 4 * MIN_POOLED);
    const pool = new FramePool(64 * MIN_POOLED);
    const reader = new FrameReader(pool, () => true);
    const got: Frame[] = [];
    let direct = 0;
    for (let pos = 0; pos < bytes.length;) {
      const buf = reader.readBuffer();
      const n = Math.min(buf.length, bytes.length - pos, 1 + Math.floor(rand() * 100_000));
      bytes.copy(buf, 0, pos, pos + n); // what the kernel would do
      if (buf.length < 64 * 1024 || buf.buffer.byteLength !== 64 * 1024) direct += n;
      reader.onRead(n, buf);
      pos += n;
      drain(reader, got);
    }
    assert.equal(got.length, frames.length, `seed ${seed}`);
    for (let i = 0; i < frames.length; i++) assert.ok(got[i].bytes.equals(frames[i]), `seed ${seed} frame ${i}`);
    const pooled = got.filter((f) => f.base !== null);
    for (const f of pooled) assert.equal(f.bytes.readInt16BE(0), 0, 'only Produce frames are pooled');
    if (frames.some((f) => f.length > 2 * MIN_POOLED)) assert.ok(direct > 0, `seed ${seed}: some bytes read in place`);
    for (const f of got) reader.release(f);
    assert.equal(pool.outstanding, 0);
  }
});

test('a refused size stops the reader before anything is allocated for the frame', () => {
  const seen: number[] = [];
  const reader = new FrameReader(null, (size) => {
    seen.push(size);
    return size >= 0 && size <= 1000;
  });
  const b = Buffer.alloc(12);
  b.writeInt32BE(2, 0);
  b.writeInt16BE(7, 4);
  b.writeInt32BE(-5, 6);
  reader.feed(b);
  assert.deepEqual(seen, [2, -5]);
  assert.equal(reader.failed, true);
  assert.equal(reader.readyCount, 1);
});

test('the pool reuses released buffers and keeps no more idle memory than its cap', () => {
  const pool = new FramePool(3 * 128 * 1024);
  const a = pool.acquire(100_000);
  assert.equal(a.bytes.length, 100_000);
  assert.equal(a.base!.length, 128 * 1024);
  pool.release(a.base);
  const b = pool.acquire(120_000);
  assert.equal(b.base, a.base, 'same class: the released buffer comes back');
  const held = [b, pool.acquire(70_000), pool.acquire(80_000), pool.acquire(90_000)];
  for (const h of held) pool.release(h.base);
  assert.equal(pool.idleBytes, 3 * 128 * 1024);
  assert.equal(pool.outstanding, 0);
  assert.equal(pool.acquire(1000).base, null, 'small frames are not pooled');
});

test('pipelined Produce frames in pooled memory: the log holds exactly what was sent, and the memory comes back', async () => {
  const b = await startTestBroker();
  const server = new Server(b.broker, b.broker.handlers, {}, 2 ** 31 - 1, () => {});
  const { port } = await server.listen('127.0.0.1', 0);
  const admin = await KafkaConnection.connect('127.0.0.1', port);
  const raw = await connectRaw('127.0.0.1', port);
  try {
    await createTopic(admin, 'pooled');
    const rand = rng(7);
    const values: Buffer[] = [];
    const frames: Buffer[] = [];
    for (let i = 0; i < 60; i++) {
      const value = Buffer.alloc(20_000 + Math.floor(rand() * 300_000));
      for (let j = 0; j < value.length; j += 97) value[j] = (rand() * 256) | 0;
      value.writeUInt32BE(i, 0);
      values.push(value);
      frames.push(requestFrame(0, 7, i, {
        transactionalId: null, acks: i % 3 === 0 ? 0 : 1, timeoutMs: 10_000,
        topicData: [{ name: 'pooled', partitionData: [{ index: 0, records: buildRecordBatch({ records: [{ key: null, value }] }) }] }],
      }));
    }
    assert.ok(server.connectionStates().every((c) => c.readsInPlace), 'accepted sockets are read through onread');
    // One write: the broker reads the requests back to back, as fast as it can.
    raw.socket.write(Buffer.concat(frames));
    await raw.responses(40, 30_000); // acks=1 requests are answered; acks=0 are not
    const got: Buffer[] = [];
    const beforeFetch = server.framePool.handedOut;
    while (got.length < values.length) {
      const p = await fetchFrom(admin, 'pooled', got.length, { maxBytes: 8 << 20 });
      assert.equal(p.errorCode, 0);
      if (p.records.length === 0) {
        await sleep(20);
        continue;
      }
      for (const r of p.records) got.push(r.value!);
    }
    for (let i = 0; i < values.length; i++) assert.ok(got[i].equals(values[i]), `record ${i} is what was sent`);
    assert.ok(server.framePool.handedOut > beforeFetch, 'Fetch read into pooled buffers');
    // Fetch responses carried pooled read buffers too: each comes back once its response is written.
    for (let i = 0; i < 100 && server.framePool.outstanding !== 0; i++) await sleep(10);
    assert.equal(server.framePool.outstanding, 0, 'every pooled frame and read buffer was released');
    assert.ok(server.framePool.idleBytes > 0, 'Produce frames used the pool');
  } finally {
    raw.destroy();
    admin.close();
    await server.close();
    await b.close();
  }
});

test('a class short of room takes it from idle buffers of other classes', () => {
  const pool = new FramePool(4 * 1024 * 1024);
  const small = [1, 2, 3, 4].map(() => pool.acquire(900_000)); // 1 MiB class
  for (const s of small) pool.release(s.base);
  assert.equal(pool.idleBytes, 4 * 1024 * 1024);
  const big = pool.acquire(1_500_000); // 2 MiB class
  pool.release(big.base);
  assert.equal(pool.idleBytes, 4 * 1024 * 1024, 'still within the cap');
  assert.equal(pool.acquire(1_500_000).base, big.base, 'the 2 MiB buffer was kept (two 1 MiB ones made room)');
});

test('a long poll woken by many appends holds one set of read buffers, not one per wake-up', async () => {
  const b = await startTestBroker();
  const server = new Server(b.broker, b.broker.handlers, {}, 2 ** 31 - 1, () => {});
  const { port } = await server.listen('127.0.0.1', 0);
  const admin = await KafkaConnection.connect('127.0.0.1', port);
  const poller = await KafkaConnection.connect('127.0.0.1', port);
  try {
    await createTopic(admin, 'longpoll');
    // minBytes beyond what will arrive: the fetch re-reads after every append until maxWait.
    const poll = poller.send(1, 11, createFetchRequest({
      replicaId: -1, maxWaitMs: 4000, minBytes: 64 << 20, maxBytes: 64 << 20, isolationLevel: 0,
      topics: [createFetchTopic({ topic: 'longpoll', partitions: [createFetchPartition({ partition: 0, fetchOffset: 0n, partitionMaxBytes: 64 << 20 })] })],
    }));
    let most = 0;
    for (let i = 0; i < 30; i++) {
      const value = Buffer.alloc(100_000, i);
      await admin.send(0, 7, {
        transactionalId: null, acks: 1, timeoutMs: 10_000,
        topicData: [{ name: 'longpoll', partitionData: [{ index: 0, records: buildRecordBatch({ records: [{ key: null, value }] }) }] }],
      });
      await sleep(5);
      most = Math.max(most, server.framePool.outstanding);
    }
    const res = await poll;
    assert.equal(res.responses[0].partitions[0].errorCode, 0);
    assert.ok((res.responses[0].partitions[0].records?.length ?? 0) >= 30 * 100_000, 'the answer holds everything appended');
    assert.ok(most <= 3, `pooled buffers held during the poll: ${most} (one per wake-up would be ~30)`);
    for (let i = 0; i < 100 && server.framePool.outstanding !== 0; i++) await sleep(10);
    assert.equal(server.framePool.outstanding, 0);
  } finally {
    admin.close();
    poller.close();
    await server.close();
    await b.close();
  }
});

test('a pooled read the result does not use goes back at once', async () => {
  const b = await startTestBroker();
  const conn = await KafkaConnection.connect(b.host, b.port);
  try {
    await createTopic(conn, 'unused');
    for (let i = 0; i < 3; i++) {
      const r = await conn.send(0, 7, {
        transactionalId: null, acks: 1, timeoutMs: 10_000,
        topicData: [{ name: 'unused', partitionData: [{ index: 0, records: buildRecordBatch({ records: [{ key: null, value: Buffer.alloc(100_000, i) }] }) }] }],
      });
      assert.equal(r.responses[0].partitionResponses[0].errorCode, 0);
    }
    const log = b.broker.logs.get('unused', 0)!;
    const held = new Set<Buffer>();
    const buffers = {
      acquire: (n: number) => {
        const buf = Buffer.alloc(n);
        held.add(buf);
        return buf;
      },
      release: (buf: Buffer) => assert.ok(held.delete(buf), 'released once, and only what was acquired'),
      discard: () => held.clear(),
    };
    const none = await readPooled(log, 1, 1 << 20, { maxOffset: 1, minOneBatch: true }, buffers);
    assert.equal(none.records.length, 0);
    assert.equal(held.size, 0, 'nothing read: the buffer went back');
    const some = await readPooled(log, 0, 1 << 20, { maxOffset: log.highWatermark, minOneBatch: true }, buffers);
    assert.ok(some.records.length > 200_000);
    assert.equal(held.size, 1, 'the buffer the records live in stays with the response');
    assert.equal([...held][0].buffer, some.records.buffer);
  } finally {
    conn.close();
    await b.close();
  }
});
