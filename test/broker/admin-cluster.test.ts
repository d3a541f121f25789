// DescribeCluster and DescribeTopicPartitions (KIP-966 paging) over TCP against an in-process broker.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { NULL_UUID } from '../../src/protocol/reader.ts';
import { createCreateTopicsRequest } from '../../src/protocol/generated/create-topics-request.ts';
import { createDescribeClusterRequest } from '../../src/protocol/generated/describe-cluster-request.ts';
import { createDescribeTopicPartitionsRequest } from '../../src/protocol/generated/describe-topic-partitions-request.ts';
import type { DescribeTopicPartitionsResponse } from '../../src/protocol/generated/describe-topic-partitions-response.ts';

describe('admin: cluster', () => {
  let b: TestBroker;
  let conn: KafkaConnection;
  let nodeId: number;

  const page = (topics: string[], limit: number, cursor: { topicName: string; partitionIndex: number } | null = null) =>
    conn.send(75, 0, createDescribeTopicPartitionsRequest({ topics: topics.map((name) => ({ name })), responsePartitionLimit: limit, cursor }));
  const shape = (r: DescribeTopicPartitionsResponse) => ({
    topics: r.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]),
    next: r.nextCursor === null ? null : [r.nextCursor.topicName, r.nextCursor.partitionIndex],
  });

  before(async () => {
    b = await startTestBroker({}, { quiet: true });
    nodeId = b.broker.settings.nodeId;
    conn = await KafkaConnection.connect(b.host, b.port);
    const res = await conn.send(19, 4, createCreateTopicsRequest({
      topics: [['p-alpha', 3], ['p-beta', 2], ['p-gamma', 1]].map(([name, n]) => ({
        name: name as string, numPartitions: n as number, replicationFactor: 1, assignments: [], configs: [],
      })),
    }));
    assert.deepEqual(res.topics.map((t) => t.errorCode), [0, 0, 0]);
  });
  after(async () => {
    conn?.close();
    await b?.close();
  });

  it('DescribeCluster names this broker, the cluster id and the controller', async () => {
    for (const version of [0, 1]) {
      const res = await conn.send(60, version, createDescribeClusterRequest({ includeClusterAuthorizedOperations: false, endpointType: 1 }));
      assert.equal(res.errorCode, 0);
      assert.equal(res.clusterId, b.broker.image.clusterId);
      assert.equal(res.controllerId, nodeId);
      assert.deepEqual(res.brokers.map((x) => [x.brokerId, x.host, x.port]), [[nodeId, '127.0.0.1', b.port]]);
      assert.equal(res.clusterAuthorizedOperations, -2147483648);
    }
    const v1 = await conn.send(60, 1, createDescribeClusterRequest({ endpointType: 1 }));
    assert.equal(v1.endpointType, 1);
  });

  it('DescribeCluster reports the authorized cluster operations when asked', async () => {
    const res = await conn.send(60, 0, createDescribeClusterRequest({ includeClusterAuthorizedOperations: true }));
    // CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE.
    assert.equal(res.clusterAuthorizedOperations, (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12));
  });

  it('DescribeCluster refuses controller and unknown endpoint types (KIP-919)', async () => {
    const controllers = await conn.send(60, 1, createDescribeClusterRequest({ endpointType: 2 }));
    assert.equal(controllers.errorCode, ErrorCode.MISMATCHED_ENDPOINT_TYPE);
    assert.deepEqual(controllers.brokers, []);
    const unknown = await conn.send(60, 1, createDescribeClusterRequest({ endpointType: 7 }));
    assert.equal(unknown.errorCode, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
  });

  it('DescribeTopicPartitions describes listed topics in name order with their partitions', async () => {
    const res = await page(['p-beta', 'p-alpha', 'p-missing', 'bad name'], 100);
    assert.deepEqual(shape(res), {
      topics: [
        ['bad name', ErrorCode.INVALID_TOPIC_EXCEPTION, []],
        ['p-alpha', 0, [0, 1, 2]],
        ['p-beta', 0, [0, 1]],
        ['p-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []],
      ],
      next: null,
    });
    const alpha = res.topics.find((t) => t.name === 'p-alpha')!;
    assert.equal(alpha.topicId, b.broker.image.topics.get('p-alpha')!.id);
    assert.equal(alpha.isInternal, false);
    for (const p of alpha.partitions) {
      assert.equal(p.errorCode, 0);
      assert.equal(p.leaderId, nodeId);
      assert.ok(p.leaderEpoch >= 0);
      assert.deepEqual(p.replicaNodes, [nodeId]);
      assert.deepEqual(p.isrNodes, [nodeId]);
      assert.deepEqual(p.eligibleLeaderReplicas, []);
      assert.deepEqual(p.lastKnownElr, []);
      assert.deepEqual(p.offlineReplicas, []);
    }
    assert.equal(res.topics.find((t) => t.name === 'p-missing')!.topicId, NULL_UUID);
  });

  it('DescribeTopicPartitions pages through every topic with the cursor', async () => {
    const first = await page([], 2);
    assert.deepEqual(shape(first), { topics: [['p-alpha', 0, [0, 1]]], next: ['p-alpha', 2] });
    const second = await page([], 2, first.nextCursor);
    assert.deepEqual(shape(second), { topics: [['p-alpha', 0, [2]], ['p-beta', 0, [0]]], next: ['p-beta', 1] });
    const third = await page([], 2, second.nextCursor);
    assert.deepEqual(shape(third), { topics: [['p-beta', 0, [1]], ['p-gamma', 0, [0]]], next: null });
    const boundary = await page([], 3);
    assert.deepEqual(shape(boundary), { topics: [['p-alpha', 0, [0, 1, 2]]], next: ['p-beta', 0] },
      'a limit reached at a topic boundary points at the next topic');
  });

  it('DescribeTopicPartitions refuses a cursor topic missing from the list', async () => {
    const res = await page(['p-alpha'], 10, { topicName: 'p-beta', partitionIndex: 0 });
    assert.deepEqual(res.topics.map((t) => [t.name, t.errorCode]), [['p-alpha', ErrorCode.INVALID_REQUEST]]);
  });
});
