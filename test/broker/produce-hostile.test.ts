// Compressed batches are checked after decompression (bombs refused at a cap, lying counts
// refused), old-format fetches never expand a stored batch without bound, and an acks=0 producer
// whose records are refused sees its connection closed (it gets no response to read).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { buildRecordBatch, recomputeCrc, Compression, RECORDS_COUNT } from '../../src/protocol/record-batch.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';

let b: TestBroker;
let conn: KafkaConnection;

before(async () => {
  b = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  conn = await KafkaConnection.connect('127.0.0.1', b.port);
  const res = await conn.send(19, 4, { topics: [{ name: 'hostile', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  assert.equal(res.topics[0].errorCode, 0);
});

after(async () => {
  conn.close();
  await b.close();
});

async function produce(c: KafkaConnection, records: Buffer, acks = -1) {
  return c.send(0, 7, { transactionalId: null, acks, timeoutMs: 10_000, topicData: [{ name: 'hostile', partitionData: [{ index: 0, records }] }] }, { expectResponse: acks !== 0 });
}

test('a compressed batch that expands past the cap is refused, not stored', async () => {
  const bomb = buildRecordBatch({ records: [{ key: Buffer.from('k'), value: Buffer.alloc(80 * 1024 * 1024) }], compression: Compression.Zstd });
  assert.ok(bomb.length < 1024 * 1024, `bomb is ${bomb.length} bytes on the wire`);
  const res = await produce(conn, bomb);
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.MESSAGE_TOO_LARGE);
  const offsets = await conn.send(2, 1, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'hostile', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }] });
  assert.equal(offsets.topics[0].partitions[0].offset, 0n, 'nothing was appended');
});

test('a compressed batch whose record count lies is refused with INVALID_RECORD', async () => {
  const batch = buildRecordBatch({ records: [{ key: Buffer.from('a'), value: Buffer.from('1') }, { key: Buffer.from('b'), value: Buffer.from('2') }], compression: Compression.Gzip });
  batch.writeInt32BE(3, RECORDS_COUNT);
  batch.writeInt32BE(2, 23); // lastOffsetDelta consistent with the lie, so only the records can tell
  recomputeCrc(batch, 0);
  const res = await produce(conn, batch);
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_RECORD);
});

test('Fetch v3 of a batch that expands past the down-conversion cap fails that partition only', async () => {
  const big = buildRecordBatch({ records: [{ key: Buffer.from('k'), value: Buffer.alloc(20 * 1024 * 1024, 1) }], compression: Compression.Zstd });
  const res = await produce(conn, big);
  assert.equal(res.responses[0].partitionResponses[0].errorCode, 0);
  const base = res.responses[0].partitionResponses[0].baseOffset;
  const fetched = await conn.send(1, 3, {
    clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: 'hostile', topicId: '00000000-0000-0000-0000-000000000000', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: base, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: '00000000-0000-0000-0000-000000000000' }] }],
    forgottenTopicsData: [], rackId: '',
  });
  const p = fetched.responses[0].partitions[0];
  assert.notEqual(p.errorCode, 0);
  assert.equal(p.records?.length ?? 0, 0);
  // The connection is still usable.
  const md = await conn.send(3, 1, { topics: [{ name: 'hostile', topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  assert.equal(md.topics[0].errorCode, 0);
});

test('acks=0 with a refused record closes the connection; accepted ones keep it open', async () => {
  const c = await KafkaConnection.connect('127.0.0.1', b.port);
  await produce(c, buildRecordBatch({ records: [{ key: Buffer.from('ok'), value: Buffer.from('v') }] }), 0);
  await c.send(18, 2, { clientSoftwareName: '', clientSoftwareVersion: '' });
  assert.equal(c.closed, false, 'an accepted acks=0 produce keeps the connection');
  const bad = buildRecordBatch({ records: [{ key: Buffer.from('x'), value: Buffer.from('y') }] });
  bad[30] ^= 0xff; // inside the CRC-covered range: CORRUPT_MESSAGE
  await produce(c, bad, 0);
  await assert.rejects(c.send(18, 2, { clientSoftwareName: '', clientSoftwareVersion: '' }), /closed/);
  c.close();
});
