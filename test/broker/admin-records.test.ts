// DeleteRecords and DescribeLogDirs over TCP against an in-process broker holding records written
// by kafkajs' producer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { createCreateTopicsRequest } from '../../src/protocol/generated/create-topics-request.ts';
import { createDeleteRecordsRequest } from '../../src/protocol/generated/delete-records-request.ts';
import { createDescribeLogDirsRequest } from '../../src/protocol/generated/describe-log-dirs-request.ts';

describe('admin: records and log dirs', () => {
  let b: TestBroker;
  let conn: KafkaConnection;
  let kafka: Kafka;

  const deleteRecords = (version: number, name: string, partitions: { partitionIndex: number; offset: bigint }[]) =>
    conn.send(21, version, createDeleteRecordsRequest({ topics: [{ name, partitions }], timeoutMs: 5000 }));

  before(async () => {
    b = await startTestBroker({}, { quiet: true });
    conn = await KafkaConnection.connect(b.host, b.port);
    const created = await conn.send(19, 4, createCreateTopicsRequest({
      topics: [
        { name: 'trimmed', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'compacted', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] },
        { name: 'empty', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      ],
    }));
    assert.deepEqual(created.topics.map((t) => t.errorCode), [0, 0, 0]);
    kafka = new Kafka({ clientId: 'admin-records-test', brokers: [b.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'trimmed', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `value-${i}`, partition: 0 })) });
    await producer.send({ topic: 'compacted', acks: -1, messages: [{ key: 'k', value: 'v', partition: 0 }] });
    await producer.disconnect();
    assert.equal(b.broker.logs.get('trimmed', 0)?.highWatermark, 10);
  });
  after(async () => {
    conn?.close();
    await b?.close();
  });

  it('moves the log start offset and answers the new low watermark', async () => {
    const res = await deleteRecords(0, 'trimmed', [{ partitionIndex: 0, offset: 3n }]);
    assert.deepEqual(res.topics[0].partitions.map((p) => [p.partitionIndex, p.lowWatermark, p.errorCode]), [[0, 3n, 0]]);
    assert.equal(b.broker.logs.get('trimmed', 0)?.logStartOffset, 3);
    const lower = await deleteRecords(1, 'trimmed', [{ partitionIndex: 0, offset: 1n }]);
    assert.equal(lower.topics[0].partitions[0].lowWatermark, 3n, 'an offset below the log start leaves it');
  });

  it('treats -1 as the high watermark and refuses offsets past it', async () => {
    const past = await deleteRecords(2, 'trimmed', [{ partitionIndex: 0, offset: 11n }, { partitionIndex: 1, offset: -2n }]);
    assert.deepEqual(past.topics[0].partitions.map((p) => [p.lowWatermark, p.errorCode]),
      [[-1n, ErrorCode.OFFSET_OUT_OF_RANGE], [-1n, ErrorCode.OFFSET_OUT_OF_RANGE]]);
    const hw = await deleteRecords(2, 'trimmed', [{ partitionIndex: 0, offset: -1n }]);
    assert.deepEqual(hw.topics[0].partitions.map((p) => [p.lowWatermark, p.errorCode]), [[10n, 0]]);
    assert.equal(b.broker.logs.get('trimmed', 0)?.logStartOffset, 10);
  });

  it('answers unknown partitions and compacted topics with errors', async () => {
    const res = await conn.send(21, 1, createDeleteRecordsRequest({
      topics: [
        { name: 'trimmed', partitions: [{ partitionIndex: 7, offset: 0n }] },
        { name: 'nowhere', partitions: [{ partitionIndex: 0, offset: 0n }] },
        { name: 'compacted', partitions: [{ partitionIndex: 0, offset: -1n }] },
      ],
    }));
    assert.deepEqual(res.topics.map((t) => [t.name, t.partitions[0].errorCode]), [
      ['trimmed', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['nowhere', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['compacted', ErrorCode.POLICY_VIOLATION],
    ]);
  });

  it('works through kafkajs deleteTopicRecords', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'trimmed', acks: -1, messages: Array.from({ length: 4 }, (_, i) => ({ value: `more-${i}`, partition: 1 })) });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      // kafkajs looks the leader up in its metadata cache without loading it first.
      await admin.fetchTopicMetadata({ topics: ['trimmed'] });
      await admin.deleteTopicRecords({ topic: 'trimmed', partitions: [{ partition: 1, offset: '2' }] });
      const offsets = await admin.fetchTopicOffsets('trimmed');
      const p1 = offsets.find((o) => o.partition === 1);
      assert.deepEqual(p1 && { low: p1.low, high: p1.high }, { low: '2', high: '4' });
    } finally {
      await admin.disconnect();
    }
  });

  it('DescribeLogDirs lists every local partition with its size in the data dir', async () => {
    const res = await conn.send(35, 0, createDescribeLogDirsRequest({ topics: null }));
    assert.equal(res.results.length, 1);
    const dir = res.results[0];
    assert.equal(dir.errorCode, 0);
    assert.equal(dir.logDir, resolve(b.dataDir));
    const sizes = new Map(dir.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionIndex}`, p])));
    assert.deepEqual([...sizes.keys()].sort(), ['compacted-0', 'empty-0', 'trimmed-0', 'trimmed-1']);
    assert.equal(sizes.get('empty-0')?.partitionSize, 0n);
    assert.ok(sizes.get('compacted-0')!.partitionSize > 0n);
    assert.equal(sizes.get('compacted-0')?.partitionSize, BigInt(b.broker.logs.get('compacted', 0)!.sizeInBytes()));
    for (const p of sizes.values()) {
      assert.equal(p.offsetLag, 0n);
      assert.equal(p.isFutureKey, false);
    }
  });

  it('DescribeLogDirs filters by the listed partitions and reports disk space at v4', async () => {
    const res = await conn.send(35, 4, createDescribeLogDirsRequest({
      topics: [{ topic: 'trimmed', partitions: [1, 9] }, { topic: 'nowhere', partitions: [0] }],
    }));
    assert.equal(res.errorCode, 0);
    const dir = res.results[0];
    assert.deepEqual(dir.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]), [['trimmed', [1]]]);
    assert.ok(dir.totalBytes > 0n);
    assert.ok(dir.usableBytes >= 0n && dir.usableBytes <= dir.totalBytes);
    const v3 = await conn.send(35, 3, createDescribeLogDirsRequest({ topics: [] }));
    assert.deepEqual(v3.results[0].topics, [], 'an empty list asks for nothing');
  });
});
