import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { NULL_UUID } from '../../src/protocol/reader.ts';
import type { MetadataChanges } from '../../src/controller/metadata-delta.ts';
import { startController, topic } from './helpers.ts';

test('DeleteTopics by name and by id, with UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID and duplicates', async () => {
  const { controller } = await startController();
  const created = await controller.createTopics([topic('a', 2, 1, { 'retention.ms': '5' }), topic('b'), topic('c')], { validateOnly: false });
  const idB = created[1].topicId;
  const changes: MetadataChanges[] = [];
  controller.onChange((_img, c) => changes.push(c));
  const missingId = '12345678-1234-4234-8234-123456789012';
  const results = await controller.deleteTopics(['a', 'nope', 'c', 'c'], [idB, missingId]);
  assert.deepEqual(
    results.map((r) => [r.name, r.topicId, r.errorCode]),
    [
      ['a', created[0].topicId, 0],
      ['nope', NULL_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['c', NULL_UUID, ErrorCode.INVALID_REQUEST],
      ['c', NULL_UUID, ErrorCode.INVALID_REQUEST],
      ['b', idB, 0],
      [null, missingId, ErrorCode.UNKNOWN_TOPIC_ID],
    ],
  );
  assert.deepEqual([...controller.image.topics.keys()], ['c']);
  assert.equal(controller.image.configs.has('topic:a'), false, 'configs go with the topic');
  assert.equal(changes.length, 1);
  assert.deepEqual(changes[0].topicsDeleted.map((t) => t.name).sort(), ['a', 'b']);
  assert.deepEqual(changes[0].configsChanged, ['topic:a']);

  // The name can be used again, with a new id.
  const [again] = await controller.createTopics([topic('a')], { validateOnly: false });
  assert.equal(again.errorCode, 0);
  assert.notEqual(again.topicId, created[0].topicId);
});

test('a topic named both by name and by id is removed once', async () => {
  const { controller } = await startController();
  const [t] = await controller.createTopics([topic('x')], { validateOnly: false });
  const offset = controller.image.metadataOffset;
  const results = await controller.deleteTopics(['x'], [t.topicId]);
  assert.deepEqual(results.map((r) => r.errorCode), [0, 0]);
  assert.equal(controller.image.metadataOffset, offset + 1);
});

test('CreatePartitions grows a topic with placed or given replicas', async () => {
  const { controller } = await startController({ brokers: 3 });
  await controller.createTopics([topic('g', 2, 2)], { validateOnly: false });
  const changes: MetadataChanges[] = [];
  controller.onChange((_img, c) => changes.push(c));
  const [r] = await controller.createPartitions([{ name: 'g', count: 5, assignments: null }], false);
  assert.equal(r.errorCode, 0);
  const parts = controller.image.topics.get('g')!.partitions;
  assert.equal(parts.size, 5);
  for (const p of parts.values()) assert.equal(p.replicas.length, 2);
  assert.deepEqual(changes[0].partitionsCreated.map((p) => p.partition).sort(), [2, 3, 4]);

  const [m] = await controller.createPartitions([{ name: 'g', count: 6, assignments: [[3, 1]] }], false);
  assert.equal(m.errorCode, 0);
  assert.deepEqual(controller.image.topics.get('g')!.partitions.get(5)!.replicas, [3, 1]);
});

test('CreatePartitions errors', async () => {
  const { controller } = await startController({ brokers: 2 });
  await controller.createTopics([topic('g', 3, 2)], { validateOnly: false });
  const results = await controller.createPartitions(
    [
      { name: 'missing', count: 4, assignments: null },
      { name: 'g', count: 3, assignments: null },
      { name: 'dup', count: 4, assignments: null },
      { name: 'dup', count: 5, assignments: null },
    ],
    false,
  );
  assert.deepEqual(results.map((r) => [r.name, r.errorCode]), [
    ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ['g', ErrorCode.INVALID_PARTITIONS],
    ['dup', ErrorCode.INVALID_REQUEST],
  ]);
  const cases: [Parameters<typeof controller.createPartitions>[0][0], number][] = [
    [{ name: 'g', count: 2, assignments: null }, ErrorCode.INVALID_PARTITIONS],
    [{ name: 'g', count: 5, assignments: [[1, 2]] }, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
    [{ name: 'g', count: 4, assignments: [[1]] }, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
    [{ name: 'g', count: 4, assignments: [[1, 7]] }, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
    [{ name: 'g', count: 4, assignments: [[2, 2]] }, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
  ];
  for (const [req, code] of cases) {
    const [r] = await controller.createPartitions([req], false);
    assert.equal(r.errorCode, code, JSON.stringify(req));
  }
  const [v] = await controller.createPartitions([{ name: 'g', count: 10, assignments: null }], true);
  assert.equal(v.errorCode, 0);
  assert.equal(controller.image.topics.get('g')!.partitions.size, 3, 'validateOnly writes nothing');
});

test('fencing a broker moves its leaderships to in-sync replicas; unfencing restores leaderless partitions', async () => {
  const { controller } = await startController({ brokers: 3 });
  await controller.createTopics(
    [
      {
        ...topic('f', -1, -1),
        assignments: [
          { partitionIndex: 0, brokerIds: [2, 3] },
          { partitionIndex: 1, brokerIds: [3, 2] },
          { partitionIndex: 2, brokerIds: [2, 1] },
        ],
      },
    ],
    { validateOnly: false },
  );
  await controller.fenceBroker(1);
  await controller.fenceBroker(2);
  const parts = () => controller.image.topics.get('f')!.partitions;
  assert.equal(controller.image.brokers.get(2)!.fenced, true);
  assert.deepEqual([parts().get(0)!.leader, parts().get(0)!.isr, parts().get(0)!.leaderEpoch], [3, [3], 1]);
  assert.deepEqual([parts().get(1)!.leader, parts().get(1)!.isr, parts().get(1)!.leaderEpoch], [3, [3], 0]);
  assert.deepEqual([parts().get(2)!.leader, parts().get(2)!.isr, parts().get(2)!.leaderEpoch], [-1, [2], 1],
    'no unclean election: the ISR keeps its last member');
  await controller.unfenceBroker(1);
  assert.equal(parts().get(2)!.leader, -1, 'broker 1 left the ISR, so it may not lead');
  await controller.unfenceBroker(2);
  assert.equal(controller.image.brokers.get(2)!.fenced, false);
  assert.deepEqual([parts().get(2)!.leader, parts().get(2)!.leaderEpoch], [2, 2]);
  assert.deepEqual(parts().get(0)!.isr, [3], 'rejoining the ISR is the replication layer\'s job');
});
