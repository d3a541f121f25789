// Hostile records and requests over TCP, answered with Kafka's error codes rather than a close:
// clients may not write the internal topics (__consumer_offsets, __transaction_state,
// __cluster_metadata → INVALID_TOPIC_EXCEPTION) nor fetch as a follower (replica_id ≥ 0,
// CVE-2018-1288 → TOPIC_AUTHORIZATION_FAILED, no records); and Produce checks each batch: a CRC32C
// mismatch is CORRUPT_MESSAGE (2), a batch over max.message.bytes MESSAGE_TOO_LARGE (10), a record
// count or offset delta that lies, a control batch or a producer id without a sequence
// INVALID_RECORD (87), a timestamp beyond message.timestamp.after.max.ms INVALID_TIMESTAMP (32).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { createTopic, produce, produceRaw, fetchFrom } from '../fuzz/broker-ops.ts';
import {
  buildRecordBatch, recomputeCrc, RECORDS_COUNT, LAST_OFFSET_DELTA, CRC,
} from '../../src/protocol/record-batch.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';

let b: TestBroker;
let conn: KafkaConnection;

before(async () => {
  b = await startTestBroker({ 'log.message.timestamp.after.max.ms': '3600000' }, { quiet: true });
  conn = await KafkaConnection.connect(b.host, b.port);
  await createTopic(conn, 'records');
  await createTopic(conn, 'small', { 'max.message.bytes': '2048' });
});
after(async () => {
  conn?.close();
  await b?.close();
});

const batch = (n = 1) => buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })) });

test('clients cannot write the internal topics, at any produce version', async () => {
  for (const topic of ['__consumer_offsets', '__transaction_state', '__cluster_metadata']) {
    for (const version of [3, 7, 9]) {
      const res = await produceRaw(conn, topic, batch(), { version });
      assert.equal(res.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION, `${topic} v${version}`);
    }
  }
});

test('a Fetch posing as a follower (replica_id ≥ 0) is refused and gets no records', async () => {
  assert.equal((await produce(conn, 'records', [{ key: null, value: Buffer.from('secret') }])).errorCode, 0);
  for (const version of [4, 11, 12]) {
    for (const replicaId of [0, 1, 1000]) {
      const p = await fetchFrom(conn, 'records', 0, { version, replicaId });
      assert.equal(p.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, `v${version} replica ${replicaId}`);
      assert.equal(p.records.length, 0);
    }
    const consumer = await fetchFrom(conn, 'records', 0, { version, replicaId: -1 });
    assert.equal(consumer.errorCode, 0);
    assert.ok(consumer.records.some((r) => r.value?.toString() === 'secret'), 'an ordinary consumer reads');
  }
});

test('a CRC mismatch is CORRUPT_MESSAGE and nothing is appended', async () => {
  const before = (await fetchFrom(conn, 'records', 0)).highWatermark;
  for (const at of [CRC, CRC + 3]) {
    const bad = batch(3);
    bad[at] ^= 0x10;
    assert.equal((await produceRaw(conn, 'records', bad)).errorCode, ErrorCode.CORRUPT_MESSAGE);
  }
  const flipped = batch(3);
  flipped[flipped.length - 1] ^= 0x01; // a record byte under the CRC
  assert.equal((await produceRaw(conn, 'records', flipped)).errorCode, ErrorCode.CORRUPT_MESSAGE);
  assert.equal((await fetchFrom(conn, 'records', 0)).highWatermark, before);
});

test('a batch over the topic max.message.bytes is MESSAGE_TOO_LARGE', async () => {
  const big = buildRecordBatch({ records: [{ key: null, value: Buffer.alloc(4096, 1) }] });
  assert.equal((await produceRaw(conn, 'small', big)).errorCode, ErrorCode.MESSAGE_TOO_LARGE);
  assert.equal((await produce(conn, 'small', [{ key: null, value: Buffer.alloc(100) }])).errorCode, 0);
});

test('lying counts and offset deltas, control batches and sequence-less producer ids are INVALID_RECORD', async () => {
  const count = batch(2);
  count.writeInt32BE(5, RECORDS_COUNT);
  count.writeInt32BE(4, LAST_OFFSET_DELTA);
  recomputeCrc(count, 0);
  assert.equal((await produceRaw(conn, 'records', count)).errorCode, ErrorCode.INVALID_RECORD, 'count larger than the records');
  const delta = batch(2);
  delta.writeInt32BE(7, LAST_OFFSET_DELTA);
  recomputeCrc(delta, 0);
  assert.equal((await produceRaw(conn, 'records', delta)).errorCode, ErrorCode.INVALID_RECORD, 'offset delta beyond the count');
  const control = buildRecordBatch({ records: [{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.alloc(6) }], control: true });
  assert.equal((await produceRaw(conn, 'records', control)).errorCode, ErrorCode.INVALID_RECORD, 'control batch from a client');
  const noSeq = buildRecordBatch({ records: [{ key: null, value: Buffer.from('x') }], producerId: 42n, producerEpoch: 0, baseSequence: -1 });
  assert.equal((await produceRaw(conn, 'records', noSeq)).errorCode, ErrorCode.INVALID_RECORD, 'producer id with sequence -1');
});

test('a timestamp beyond message.timestamp.after.max.ms is INVALID_TIMESTAMP', async () => {
  const future = buildRecordBatch({ records: [{ key: null, value: Buffer.from('later'), timestamp: Date.now() + 24 * 3_600_000 }] });
  assert.equal((await produceRaw(conn, 'records', future)).errorCode, ErrorCode.INVALID_TIMESTAMP);
});
