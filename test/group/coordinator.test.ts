// GroupCoordinator routing against a fake broker: which node coordinates a group, creating
// __consumer_offsets, and the retriable errors (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCoordinator, type CoordinatorHost } from '../../src/group/coordinator.ts';
import type { CoordinatorLog } from '../../src/group/runtime.ts';
import { partitionForGroup } from '../../src/group/group-partition.ts';
import { parseBrokerConfig } from '../../src/config/broker-config.ts';
import { emptyImage, type MetadataImage, type PartitionImage, type TopicImage } from '../../src/controller/image.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { createHeartbeatRequest } from '../../src/protocol/generated/heartbeat-request.ts';
import type { CreatableTopic } from '../../src/controller/topic-control.ts';
import { TEST_CONFIG } from './harness.ts';

const config = parseBrokerConfig({ 'listeners': 'PLAINTEXT://127.0.0.1:9092', 'log.dirs': '/nonexistent', 'node.id': '1' });

function partitionImage(partition: number, leader: number): PartitionImage {
  return {
    topicId: 'offsets-id', partition, replicas: [leader], isr: [leader], removingReplicas: [], addingReplicas: [], leader,
    leaderEpoch: 0, partitionEpoch: 0, leaderRecoveryState: 0, elr: [], lastKnownElr: [], directories: [],
  };
}

/** A log whose reads wait until `release()` (a load in progress). */
class SlowLog implements CoordinatorLog {
  logStartOffset = 0;
  highWatermark = 1;
  #release: () => void = () => {};
  readonly gate = new Promise<void>((r) => (this.#release = r));
  release(): void {
    this.#release();
  }
  append(): { baseOffset: number; done: Promise<void> } {
    return { baseOffset: 0, done: Promise.resolve() };
  }
  async read(): Promise<{ records: Buffer }> {
    await this.gate;
    return { records: Buffer.alloc(0) };
  }
}

class FakeHost implements CoordinatorHost {
  settings = { nodeId: 1, listenerName: 'PLAINTEXT', advertisedHost: 'self.example', advertisedPort: 9092, fsyncAcksAll: true };
  config = config;
  image: MetadataImage = emptyImage('cluster');
  created: CreatableTopic[][] = [];
  logs = new Map<number, CoordinatorLog>();
  lines: string[] = [];
  /** Leader of each __consumer_offsets partition when the topic gets created. */
  leaderOf: (p: number) => number = () => 1;
  controller = {
    createTopics: async (topics: CreatableTopic[]) => {
      this.created.push(topics);
      const t = topics[0];
      const partitions = new Map<number, PartitionImage>();
      for (let p = 0; p < t.numPartitions; p++) partitions.set(p, partitionImage(p, this.leaderOf(p)));
      const topic: TopicImage = { name: t.name, id: 'offsets-id', partitions };
      const brokers = new Map([[2, {
        id: 2, incarnationId: 'x', epoch: 1n, endpoints: [{ name: 'PLAINTEXT', host: 'other.example', port: 9093, securityProtocol: 0 }],
        rack: null, fenced: false, inControlledShutdown: false, features: [], logDirs: [],
      }]]);
      this.image = { ...this.image, topics: new Map([[t.name, topic]]), topicsById: new Map([[topic.id, topic]]), brokers };
      return [{ name: t.name, topicId: topic.id, numPartitions: t.numPartitions, replicationFactor: 1, configs: [], errorCode: 0, errorMessage: null }];
    },
  };
  leaderLog(_topic: string, partition: number) {
    const log = this.logs.get(partition) ?? null;
    return { errorCode: log === null ? ErrorCode.NOT_LEADER_OR_FOLLOWER : 0, log, leaderEpoch: 0 };
  }
  log(line: string): void {
    this.lines.push(line);
  }
}

const cfg = { ...TEST_CONFIG, numPartitions: 4 };

test('FindCoordinator creates a compacted __consumer_offsets once and names the partition leader', async () => {
  const host = new FakeHost();
  host.leaderOf = (p) => (p === partitionForGroup('elsewhere', 4) ? 2 : 1);
  const gc = new GroupCoordinator(host, cfg);
  const [a, b] = await Promise.all([gc.findGroupCoordinator('g'), gc.findGroupCoordinator('g')]);
  assert.deepEqual(a, { errorCode: 0, errorMessage: null, nodeId: 1, host: 'self.example', port: 9092 });
  assert.deepEqual(b, a);
  assert.equal(host.created.length, 1, 'created once');
  const t = host.created[0][0];
  assert.equal(t.name, '__consumer_offsets');
  assert.equal(t.numPartitions, 4);
  assert.deepEqual(t.configs.find((c) => c.name === 'cleanup.policy'), { name: 'cleanup.policy', value: 'compact' });
  const other = await gc.findGroupCoordinator('elsewhere');
  assert.deepEqual([other.nodeId, other.host, other.port], [2, 'other.example', 9093]);
  await gc.close();
});

test('a group led elsewhere is NOT_COORDINATOR; requests wait for a loading shard (ListGroups: COORDINATOR_LOAD_IN_PROGRESS)', async () => {
  const host = new FakeHost();
  const here = 'g';
  const away = 'elsewhere';
  assert.notEqual(partitionForGroup(here, 4), partitionForGroup(away, 4));
  host.leaderOf = (p) => (p === partitionForGroup(away, 4) ? 2 : 1);
  const gc = new GroupCoordinator(host, cfg);
  assert.equal((await gc.heartbeat(createHeartbeatRequest({ groupId: here, memberId: 'm' }))).errorCode, ErrorCode.NOT_COORDINATOR, 'no topic yet');
  await gc.ensureTopic();
  const slow = new SlowLog();
  for (let p = 0; p < 4; p++) host.logs.set(p, p === partitionForGroup(here, 4) ? slow : new SlowLog());
  assert.equal((await gc.heartbeat(createHeartbeatRequest({ groupId: away, memberId: 'm' }))).errorCode, ErrorCode.NOT_COORDINATOR);
  gc.onMetadata();
  const pending = gc.heartbeat(createHeartbeatRequest({ groupId: here, memberId: 'm', generationId: 1 }));
  const listed = gc.listGroups([], []);
  assert.equal(listed.errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  slow.release();
  assert.equal((await pending).errorCode, ErrorCode.UNKNOWN_MEMBER_ID, 'answered by the loaded shard');
  assert.ok(gc.loadedPartitions().includes(partitionForGroup(here, 4)));
  // Leadership moves away: the shard is unloaded and requests are sent elsewhere.
  host.image = { ...host.image, topics: new Map([['__consumer_offsets', { name: '__consumer_offsets', id: 'offsets-id', partitions: new Map([0, 1, 2, 3].map((p) => [p, partitionImage(p, 2)])) }]]) };
  gc.onMetadata();
  assert.deepEqual(gc.loadedPartitions(), []);
  assert.equal((await gc.heartbeat(createHeartbeatRequest({ groupId: here, memberId: 'm' }))).errorCode, ErrorCode.NOT_COORDINATOR);
  await gc.close();
});
