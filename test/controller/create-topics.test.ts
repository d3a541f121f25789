import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { NULL_UUID } from '../../src/protocol/reader.ts';
import { startController, topic } from './helpers.ts';

test('creates a topic with placed partitions, its config overrides and the effective configs in the answer', async () => {
  const { controller } = await startController({ brokers: 3, racks: ['a', 'b', 'c'] });
  const [r] = await controller.createTopics([topic('orders', 6, 3, { 'retention.ms': '3600000' })], { validateOnly: false });
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.equal(r.errorMessage, null);
  assert.equal(r.numPartitions, 6);
  assert.equal(r.replicationFactor, 3);
  assert.match(r.topicId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const retention = r.configs.find((c) => c.name === 'retention.ms')!;
  assert.deepEqual(retention, { name: 'retention.ms', value: '3600000', readOnly: false, configSource: 1, isSensitive: false });
  assert.equal(r.configs.find((c) => c.name === 'cleanup.policy')!.configSource, 5);

  const t = controller.image.topics.get('orders')!;
  assert.equal(t.id, r.topicId);
  assert.equal(t.partitions.size, 6);
  const leaders = new Map<number, number>();
  for (const p of t.partitions.values()) {
    assert.equal(p.replicas.length, 3);
    assert.deepEqual(p.isr, p.replicas);
    assert.equal(p.leader, p.replicas[0]);
    assert.deepEqual([p.leaderEpoch, p.partitionEpoch], [0, 0]);
    leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
  }
  assert.deepEqual([...leaders.keys()].sort(), [1, 2, 3]);
  assert.deepEqual([...leaders.values()], [2, 2, 2]);
  assert.equal(controller.image.configs.get('topic:orders')!.get('retention.ms'), '3600000');
});

test('-1 takes num.partitions and default.replication.factor', async () => {
  const { controller } = await startController({ brokers: 2, props: { 'num.partitions': '4', 'default.replication.factor': '2' } });
  const [r] = await controller.createTopics([topic('d', -1, -1)], { validateOnly: false });
  assert.deepEqual([r.errorCode, r.numPartitions, r.replicationFactor], [0, 4, 2]);
});

test('validateOnly answers like a create and writes nothing', async () => {
  const { controller } = await startController();
  const before = controller.image;
  const [r] = await controller.createTopics([topic('v', 3)], { validateOnly: true });
  assert.deepEqual([r.errorCode, r.numPartitions, r.replicationFactor, r.topicId], [0, 3, 1, NULL_UUID]);
  assert.equal(controller.image, before);
  const [bad] = await controller.createTopics([topic('v', 0)], { validateOnly: true });
  assert.equal(bad.errorCode, ErrorCode.INVALID_PARTITIONS);
});

test('each CreateTopics error code', async () => {
  const { controller } = await startController({ brokers: 2 });
  await controller.createTopics([topic('exists'), topic('with.dot')], { validateOnly: false });
  const manual = (name: string, assignments: number[][], extra: Partial<ReturnType<typeof topic>> = {}) => ({
    ...topic(name, -1, -1),
    assignments: assignments.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
    ...extra,
  });
  const cases: [ReturnType<typeof topic>, number][] = [
    [topic('exists'), ErrorCode.TOPIC_ALREADY_EXISTS],
    [topic('bad name!'), ErrorCode.INVALID_TOPIC_EXCEPTION],
    [topic(''), ErrorCode.INVALID_TOPIC_EXCEPTION],
    [topic('x'.repeat(250)), ErrorCode.INVALID_TOPIC_EXCEPTION],
    [topic('with_dot'), ErrorCode.INVALID_TOPIC_EXCEPTION],
    [topic('__consumer_offsets'), ErrorCode.INVALID_TOPIC_EXCEPTION],
    [topic('__transaction_state'), ErrorCode.INVALID_TOPIC_EXCEPTION],
    [topic('zero', 0), ErrorCode.INVALID_PARTITIONS],
    [topic('negative', -2), ErrorCode.INVALID_PARTITIONS],
    [topic('huge', 1_000_000), ErrorCode.INVALID_PARTITIONS],
    [topic('rf0', 1, 0), ErrorCode.INVALID_REPLICATION_FACTOR],
    [topic('rf3', 1, 3), ErrorCode.INVALID_REPLICATION_FACTOR],
    [manual('gap', [[1], [2]], { assignments: [{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 2, brokerIds: [2] }] }), ErrorCode.INVALID_REPLICA_ASSIGNMENT],
    [manual('dupbroker', [[1, 1]]), ErrorCode.INVALID_REPLICA_ASSIGNMENT],
    [manual('unknownbroker', [[9]]), ErrorCode.INVALID_REPLICA_ASSIGNMENT],
    [manual('uneven', [[1, 2], [1]]), ErrorCode.INVALID_REPLICA_ASSIGNMENT],
    [manual('empty', [[]]), ErrorCode.INVALID_REPLICA_ASSIGNMENT],
    [manual('both', [[1]], { numPartitions: 1 }), ErrorCode.INVALID_REQUEST],
    [topic('badconfig', 1, 1, { 'retention.ms': 'soon' }), ErrorCode.INVALID_CONFIG],
    [topic('unknownconfig', 1, 1, { 'no.such.config': '1' }), ErrorCode.INVALID_CONFIG],
    [topic('nullconfig', 1, 1, { 'retention.ms': null }), ErrorCode.INVALID_CONFIG],
    [{ ...topic('dupconfig'), configs: [{ name: 'retention.ms', value: '1' }, { name: 'retention.ms', value: '2' }] }, ErrorCode.INVALID_REQUEST],
  ];
  const results = await controller.createTopics(cases.map((c) => c[0]), { validateOnly: false });
  assert.equal(results.length, cases.length);
  results.forEach((r, i) => {
    assert.equal(r.name, cases[i][0].name);
    assert.equal(r.errorCode, cases[i][1], `${r.name.slice(0, 20)}: ${r.errorMessage}`);
    assert.equal(typeof r.errorMessage, 'string');
    assert.deepEqual([r.numPartitions, r.replicationFactor, r.topicId, r.configs], [-1, -1, NULL_UUID, []]);
  });
  assert.deepEqual([...controller.image.topics.keys()].sort(), ['exists', 'with.dot']);
});

test('a name given twice is INVALID_REQUEST, answered once; the other topics are created', async () => {
  const { controller } = await startController();
  const results = await controller.createTopics([topic('twice'), topic('once'), topic('twice', 2)], { validateOnly: false });
  assert.deepEqual(results.map((r) => [r.name, r.errorCode]), [['twice', ErrorCode.INVALID_REQUEST], ['once', 0]]);
  assert.deepEqual([...controller.image.topics.keys()], ['once']);
});

test('two names of one request that collide: the second is refused', async () => {
  const { controller } = await startController();
  const results = await controller.createTopics([topic('a.b'), topic('a_b')], { validateOnly: false });
  assert.deepEqual(results.map((r) => r.errorCode), [0, ErrorCode.INVALID_TOPIC_EXCEPTION]);
});

test('internal topics can be created by the broker with internal: true; __cluster_metadata never', async () => {
  const { controller } = await startController();
  const [ok] = await controller.createTopics([topic('__consumer_offsets', 50, 1, { 'cleanup.policy': 'compact' })], {
    validateOnly: false,
    internal: true,
  });
  assert.equal(ok.errorCode, 0);
  assert.equal(controller.image.topics.get('__consumer_offsets')!.partitions.size, 50);
  const [meta] = await controller.createTopics([topic('__cluster_metadata')], { validateOnly: false, internal: true });
  assert.equal(meta.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
});

test('a manual assignment sets replicas and leader; fenced replicas stay out of the ISR', async () => {
  const { controller } = await startController({ brokers: 3 });
  await controller.fenceBroker(3);
  const [r] = await controller.createTopics(
    [{ ...topic('m', -1, -1), assignments: [{ partitionIndex: 1, brokerIds: [3, 2] }, { partitionIndex: 0, brokerIds: [2, 1] }] }],
    { validateOnly: false },
  );
  assert.equal(r.errorCode, 0, r.errorMessage ?? '');
  assert.deepEqual([r.numPartitions, r.replicationFactor], [2, 2]);
  const parts = controller.image.topics.get('m')!.partitions;
  assert.deepEqual([parts.get(0)!.replicas, parts.get(0)!.isr, parts.get(0)!.leader], [[2, 1], [2, 1], 2]);
  assert.deepEqual([parts.get(1)!.replicas, parts.get(1)!.isr, parts.get(1)!.leader], [[3, 2], [2], 2]);
  // Every replica fenced → refused.
  await controller.fenceBroker(2);
  const [all] = await controller.createTopics(
    [{ ...topic('n', -1, -1), assignments: [{ partitionIndex: 0, brokerIds: [3, 2] }] }],
    { validateOnly: false },
  );
  assert.equal(all.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  // Placement only uses usable brokers: one is left.
  const [placed] = await controller.createTopics([topic('p', 3, 2)], { validateOnly: false });
  assert.equal(placed.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
});

test('concurrent creates of the same topic: exactly one succeeds', async () => {
  const { controller } = await startController({ brokers: 3 });
  const attempts = await Promise.all(
    Array.from({ length: 8 }, (_, i) => controller.createTopics([topic('race', i + 1)], { validateOnly: false })),
  );
  const codes = attempts.map(([r]) => r.errorCode);
  assert.equal(codes.filter((c) => c === 0).length, 1);
  assert.equal(codes.filter((c) => c === ErrorCode.TOPIC_ALREADY_EXISTS).length, 7);
  const winner = attempts.findIndex(([r]) => r.errorCode === 0);
  assert.equal(controller.image.topics.get('race')!.partitions.size, winner + 1);
});
