import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetadataRecordType as T } from '../../src/protocol/generated/metadata/index.ts';
import { createPartitionRecord } from '../../src/protocol/generated/metadata/partition-record.ts';
import { createPartitionChangeRecord } from '../../src/protocol/generated/metadata/partition-change-record.ts';
import { createRegisterBrokerRecord } from '../../src/protocol/generated/metadata/register-broker-record.ts';
import { createBrokerRegistrationChangeRecord } from '../../src/protocol/generated/metadata/broker-registration-change-record.ts';
import { emptyImage } from '../../src/controller/image.ts';
import { MetadataDelta, MetadataReplayError, replayRecords } from '../../src/controller/metadata-delta.ts';
import { decodeMetadataRecord, encodeMetadataRecord, metadataRecord, type MetadataRecord } from '../../src/controller/record-codec.ts';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';

function partition(topicId: string, p: number, replicas: number[], leader = replicas[0]): MetadataRecord {
  return metadataRecord(
    T.PartitionRecord,
    createPartitionRecord({ partitionId: p, topicId, replicas, isr: replicas, leader, leaderEpoch: 0, partitionEpoch: 0 }),
  );
}

function broker(id: number, epoch: bigint, rack: string | null = null): MetadataRecord {
  return metadataRecord(
    T.RegisterBrokerRecord,
    createRegisterBrokerRecord({
      brokerId: id, brokerEpoch: epoch, rack, fenced: false,
      endPoints: [{ name: 'PLAINTEXT', host: 'h', port: 9000 + id, securityProtocol: 0 }],
    }),
  );
}

const history: MetadataRecord[] = [
  metadataRecord(T.FeatureLevelRecord, { name: 'metadata.version', featureLevel: 21 }),
  broker(1, 1n, 'r1'),
  broker(2, 2n, 'r2'),
  metadataRecord(T.TopicRecord, { name: 'a', topicId: A }),
  metadataRecord(T.ConfigRecord, { resourceType: 2, resourceName: 'a', name: 'retention.ms', value: '1000' }),
  partition(A, 0, [1, 2]),
  partition(A, 1, [2, 1]),
  metadataRecord(T.TopicRecord, { name: 'b', topicId: B }),
  partition(B, 0, [1]),
  metadataRecord(T.PartitionChangeRecord, createPartitionChangeRecord({ partitionId: 0, topicId: A, isr: [2], leader: 2 })),
  metadataRecord(T.ProducerIdsRecord, { brokerId: 1, brokerEpoch: 1n, nextProducerId: 1000n }),
  metadataRecord(T.ConfigRecord, { resourceType: 4, resourceName: '', name: 'log.retention.ms', value: '5000' }),
  metadataRecord(T.NoOpRecord, {}),
];

test('replaying the same records gives equal images (also after an encode/decode trip)', () => {
  const one = replayRecords(emptyImage('c'), history).image;
  const two = replayRecords(emptyImage('c'), history.map((r) => decodeMetadataRecord(encodeMetadataRecord(r)))).image;
  assert.deepEqual(one, two);
  // Replaying in two steps gives the same image as in one.
  const half = replayRecords(emptyImage('c'), history.slice(0, 6)).image;
  assert.deepEqual(replayRecords(half, history.slice(6)).image, one);
  assert.equal(one.metadataOffset, history.length - 1);
});

test('the image holds topics, partitions, brokers, configs, features and producer ids', () => {
  const img = replayRecords(emptyImage('c'), history).image;
  assert.equal(img.features.get('metadata.version'), 21);
  assert.deepEqual([...img.topics.keys()].sort(), ['a', 'b']);
  assert.equal(img.topicsById.get(A), img.topics.get('a'));
  const p0 = img.topics.get('a')!.partitions.get(0)!;
  assert.deepEqual(p0.isr, [2]);
  assert.equal(p0.leader, 2);
  assert.equal(p0.leaderEpoch, 1, 'a leader change bumps the leader epoch');
  assert.equal(p0.partitionEpoch, 1, 'every change bumps the partition epoch');
  assert.deepEqual(p0.replicas, [1, 2]);
  assert.equal(img.brokers.get(2)!.rack, 'r2');
  assert.equal(img.configs.get('topic:a')!.get('retention.ms'), '1000');
  assert.equal(img.configs.get('broker:')!.get('log.retention.ms'), '5000');
  assert.equal(img.nextProducerId, 1000n);
});

test('a PartitionChangeRecord without a leader keeps leader and leader epoch but bumps the partition epoch', () => {
  const img = replayRecords(emptyImage('c'), [
    ...history,
    metadataRecord(T.PartitionChangeRecord, createPartitionChangeRecord({ partitionId: 1, topicId: A, isr: [2] })),
  ]).image;
  const p1 = img.topics.get('a')!.partitions.get(1)!;
  assert.deepEqual([p1.leader, p1.leaderEpoch, p1.partitionEpoch], [2, 0, 1]);
  assert.deepEqual(p1.isr, [2]);
});

test('changes list created topics and partitions, then deletions with the topic as it was', () => {
  const first = replayRecords(emptyImage('c'), history);
  assert.deepEqual(first.changes.topicsCreated.map((t) => t.name).sort(), ['a', 'b']);
  assert.equal(first.changes.partitionsCreated.length, 3);
  assert.deepEqual(first.changes.partitionsChanged, [], 'a partition created and changed in one delta is only created');
  assert.deepEqual([...first.changes.configsChanged].sort(), ['broker:', 'topic:a']);
  assert.equal(first.changes.producerIdsChanged, true);

  const second = replayRecords(first.image, [
    metadataRecord(T.RemoveTopicRecord, { topicId: A }),
    metadataRecord(T.TopicRecord, { name: 'a', topicId: 'cccccccc-0000-4000-8000-000000000003' }),
    partition('cccccccc-0000-4000-8000-000000000003', 0, [1]),
    partition(B, 1, [2]),
    metadataRecord(T.PartitionChangeRecord, createPartitionChangeRecord({ partitionId: 0, topicId: B, isr: [1] })),
  ]);
  const c = second.changes;
  assert.deepEqual(c.topicsDeleted.map((t) => [t.name, t.id, t.partitions.size]), [['a', A, 2]]);
  assert.deepEqual(c.topicsCreated.map((t) => t.id), ['cccccccc-0000-4000-8000-000000000003']);
  assert.deepEqual(c.partitionsCreated.map((p) => [p.topicId, p.partition]).sort(), [
    [B, 1],
    ['cccccccc-0000-4000-8000-000000000003', 0],
  ]);
  assert.equal(c.partitionsChanged.length, 1);
  assert.equal(c.partitionsChanged[0].before.partitionEpoch, 0);
  assert.equal(c.partitionsChanged[0].after.partitionEpoch, 1);
  assert.deepEqual(c.configsChanged, ['topic:a'], 'the removed topic took its overrides with it');
  assert.equal(second.image.configs.has('topic:a'), false);
});

test('the base image is never modified by a delta', () => {
  const base = replayRecords(emptyImage('c'), history).image;
  const snapshot = structuredClone({ ...base, topics: [...base.topics.keys()], configs: [...base.configs.get('topic:a')!] });
  const p0 = base.topics.get('a')!.partitions.get(0)!;
  replayRecords(base, [
    metadataRecord(T.PartitionChangeRecord, createPartitionChangeRecord({ partitionId: 0, topicId: A, leader: 1, isr: [1, 2] })),
    metadataRecord(T.ConfigRecord, { resourceType: 2, resourceName: 'a', name: 'retention.ms', value: null }),
    metadataRecord(T.RemoveTopicRecord, { topicId: B }),
  ]);
  assert.equal(base.topics.get('a')!.partitions.get(0), p0);
  assert.equal(p0.leader, 2);
  assert.deepEqual([...base.topics.keys()], snapshot.topics);
  assert.deepEqual([...base.configs.get('topic:a')!], snapshot.configs);
  assert.ok(Object.isFrozen(p0) && Object.isFrozen(p0.isr));
});

test('a ConfigRecord with a null value deletes the override; an empty resource disappears', () => {
  const img = replayRecords(emptyImage('c'), [
    ...history,
    metadataRecord(T.ConfigRecord, { resourceType: 2, resourceName: 'a', name: 'retention.ms', value: null }),
  ]).image;
  assert.equal(img.configs.has('topic:a'), false);
});

test('fencing via FenceBrokerRecord, UnfenceBrokerRecord and BrokerRegistrationChangeRecord', () => {
  let img = replayRecords(emptyImage('c'), history).image;
  img = replayRecords(img, [metadataRecord(T.FenceBrokerRecord, { id: 2, epoch: 2n })]).image;
  assert.equal(img.brokers.get(2)!.fenced, true);
  img = replayRecords(img, [metadataRecord(T.UnfenceBrokerRecord, { id: 2, epoch: 2n })]).image;
  assert.equal(img.brokers.get(2)!.fenced, false);
  img = replayRecords(img, [
    metadataRecord(T.BrokerRegistrationChangeRecord, createBrokerRegistrationChangeRecord({ brokerId: 2, brokerEpoch: 2n, fenced: 1 })),
  ]).image;
  assert.equal(img.brokers.get(2)!.fenced, true);
  img = replayRecords(img, [metadataRecord(T.UnregisterBrokerRecord, { brokerId: 2, brokerEpoch: 2n })]).image;
  assert.equal(img.brokers.has(2), false);
});

test('records that contradict the image are refused', () => {
  const img = replayRecords(emptyImage('c'), history).image;
  const bad: [string, MetadataRecord][] = [
    ['partition of unknown topic', partition('dddddddd-0000-4000-8000-000000000004', 0, [1])],
    ['duplicate topic name', metadataRecord(T.TopicRecord, { name: 'a', topicId: 'dddddddd-0000-4000-8000-000000000004' })],
    ['duplicate topic id', metadataRecord(T.TopicRecord, { name: 'z', topicId: A })],
    ['change of unknown partition', metadataRecord(T.PartitionChangeRecord, createPartitionChangeRecord({ partitionId: 9, topicId: A }))],
    ['stale broker epoch', metadataRecord(T.FenceBrokerRecord, { id: 2, epoch: 1n })],
    ['unknown broker', metadataRecord(T.FenceBrokerRecord, { id: 9, epoch: 1n })],
    ['producer ids going back', metadataRecord(T.ProducerIdsRecord, { brokerId: 1, brokerEpoch: 1n, nextProducerId: 10n })],
  ];
  for (const [what, r] of bad) {
    assert.throws(() => new MetadataDelta(img).replay(r), MetadataReplayError, what);
  }
  assert.throws(() => new MetadataDelta(img).replay(history[0], img.metadataOffset), MetadataReplayError, 'offset must grow');
});

test('a feature level of 0 removes the feature', () => {
  const img = replayRecords(emptyImage('c'), [
    ...history,
    metadataRecord(T.FeatureLevelRecord, { name: 'metadata.version', featureLevel: 0 }),
  ]).image;
  assert.equal(img.features.has('metadata.version'), false);
});
