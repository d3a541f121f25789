import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetadataRecordType as T } from '../../src/protocol/generated/metadata/index.ts';
import { createPartitionRecord } from '../../src/protocol/generated/metadata/partition-record.ts';
import { createPartitionChangeRecord } from '../../src/protocol/generated/metadata/partition-change-record.ts';
import { createRegisterBrokerRecord } from '../../src/protocol/generated/metadata/register-broker-record.ts';
import { createBrokerRegistrationChangeRecord } from '../../src/protocol/generated/metadata/broker-registration-change-record.ts';
import { ProtocolError } from '../../src/protocol/reader.ts';
import {
  decodeMetadataRecord,
  encodeMetadataRecord,
  metadataRecord,
  type MetadataRecord,
} from '../../src/controller/record-codec.ts';

const TOPIC_ID = 'b1a5c3d4-0001-4abc-8def-000000000001';

const samples: MetadataRecord[] = [
  metadataRecord(T.TopicRecord, { name: 'orders', topicId: TOPIC_ID }),
  metadataRecord(
    T.PartitionRecord,
    createPartitionRecord({ partitionId: 3, topicId: TOPIC_ID, replicas: [1, 2, 3], isr: [1, 2], leader: 1, leaderEpoch: 4, partitionEpoch: 9 }),
  ),
  metadataRecord(
    T.PartitionRecord,
    createPartitionRecord({
      partitionId: 0, topicId: TOPIC_ID, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0,
      directories: ['00000000-0000-0000-0000-0000000000aa'],
    }),
  ),
  metadataRecord(
    T.PartitionRecord,
    createPartitionRecord({
      partitionId: 1, topicId: TOPIC_ID, replicas: [1, 2], isr: [1], leader: 1, leaderEpoch: 2, partitionEpoch: 3,
      eligibleLeaderReplicas: [2], lastKnownElr: [], leaderRecoveryState: 1,
    }),
  ),
  metadataRecord(T.PartitionChangeRecord, createPartitionChangeRecord({ partitionId: 3, topicId: TOPIC_ID, isr: [1], leader: 2 })),
  metadataRecord(T.PartitionChangeRecord, createPartitionChangeRecord({ partitionId: 3, topicId: TOPIC_ID, eligibleLeaderReplicas: [3] })),
  metadataRecord(T.RemoveTopicRecord, { topicId: TOPIC_ID }),
  metadataRecord(T.ConfigRecord, { resourceType: 2, resourceName: 'orders', name: 'retention.ms', value: '1000' }),
  metadataRecord(T.ConfigRecord, { resourceType: 4, resourceName: '', name: 'log.retention.ms', value: null }),
  metadataRecord(
    T.RegisterBrokerRecord,
    createRegisterBrokerRecord({
      brokerId: 2, incarnationId: TOPIC_ID, brokerEpoch: 17n, rack: 'rack-b', fenced: false,
      endPoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9093, securityProtocol: 0 }],
      features: [{ name: 'metadata.version', minSupportedVersion: 1, maxSupportedVersion: 21 }],
      logDirs: ['00000000-0000-0000-0000-0000000000bb'],
    }),
  ),
  metadataRecord(T.RegisterBrokerRecord, createRegisterBrokerRecord({ brokerId: 5, rack: null, brokerEpoch: 2n })),
  metadataRecord(T.UnregisterBrokerRecord, { brokerId: 2, brokerEpoch: 17n }),
  metadataRecord(T.FenceBrokerRecord, { id: 2, epoch: 17n }),
  metadataRecord(T.UnfenceBrokerRecord, { id: 2, epoch: 17n }),
  metadataRecord(T.BrokerRegistrationChangeRecord, createBrokerRegistrationChangeRecord({ brokerId: 2, brokerEpoch: 17n, fenced: 1 })),
  metadataRecord(T.ProducerIdsRecord, { brokerId: 1, brokerEpoch: 3n, nextProducerId: 2000n }),
  metadataRecord(T.FeatureLevelRecord, { name: 'metadata.version', featureLevel: 21 }),
  metadataRecord(T.NoOpRecord, {}),
];

test('every record type the controller writes or replays survives encode → decode', () => {
  for (const r of samples) {
    const bytes = encodeMetadataRecord(r);
    assert.deepEqual(decodeMetadataRecord(bytes), r, `round trip of type ${r.type} v${r.version}`);
  }
});

test('frame header is [uvarint 1][uvarint type][uvarint version] (MetadataRecordSerde)', () => {
  for (const r of samples) {
    const bytes = encodeMetadataRecord(r);
    assert.deepEqual([...bytes.subarray(0, 3)], [1, r.type, r.version]);
  }
});

test('record versions follow the fields in use', () => {
  assert.equal(samples[1].version, 0, 'plain PartitionRecord');
  assert.equal(samples[2].version, 1, 'directories need v1');
  assert.equal(samples[3].version, 2, 'ELR needs v2');
  assert.equal(samples[4].version, 0);
  assert.equal(samples[5].version, 2);
  assert.equal(samples[9].version, 3, 'RegisterBrokerRecord at its newest version');
});

test('TopicRecord bytes match the schema layout', () => {
  const bytes = encodeMetadataRecord(samples[0]);
  // frame(1,2,0) + compact string "orders" + 16-byte uuid + empty tagged fields
  const expected = Buffer.concat([
    Buffer.from([1, 2, 0, 7]),
    Buffer.from('orders'),
    Buffer.from(TOPIC_ID.replaceAll('-', ''), 'hex'),
    Buffer.from([0]),
  ]);
  assert.deepEqual(bytes, expected);
});

test('decoding rejects an unknown frame version, record type, record version or trailing bytes', () => {
  const good = encodeMetadataRecord(samples[0]);
  const withFrame = Buffer.from(good);
  withFrame[0] = 2;
  assert.throws(() => decodeMetadataRecord(withFrame), ProtocolError);
  const withType = Buffer.from(good);
  withType[1] = 6; // no metadata record has apiKey 6
  assert.throws(() => decodeMetadataRecord(withType), ProtocolError);
  const withVersion = Buffer.from(good);
  withVersion[2] = 1; // TopicRecord has only v0
  assert.throws(() => decodeMetadataRecord(withVersion), ProtocolError);
  assert.throws(() => decodeMetadataRecord(Buffer.concat([good, Buffer.from([0])])), /left after TopicRecord/);
  assert.throws(() => decodeMetadataRecord(good.subarray(0, good.length - 3)), ProtocolError);
});

test('encoding refuses a version the schema does not have', () => {
  assert.throws(() => encodeMetadataRecord(metadataRecord(T.TopicRecord, { name: 'x', topicId: TOPIC_ID }, 3)), ProtocolError);
});
