// __consumer_offsets record format (Kafka's key/value schemas with version prefixes) and the
// group → partition mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord, encodeRecord, type CoordinatorRecord } from '../../src/group/records.ts';
import { javaStringHash, partitionForGroup } from '../../src/group/group-partition.ts';

test('group → partition follows Java String.hashCode and Kafka Utils.abs', () => {
  assert.equal(javaStringHash(''), 0);
  assert.equal(javaStringHash('hello'), 99162322);
  assert.equal(javaStringHash('Aa'), javaStringHash('BB'));
  // hashCode is Integer.MIN_VALUE; Utils.abs maps it to 0, not to a negative number.
  assert.equal(javaStringHash('polygenelubricants'), -2147483648);
  assert.equal(partitionForGroup('polygenelubricants', 50), 0);
  assert.equal(partitionForGroup('hello', 50), 99162322 % 50);
  // Negative hash: abs first, then modulo.
  const h = javaStringHash('my-consumer-group-with-a-long-name');
  assert.equal(partitionForGroup('my-consumer-group-with-a-long-name', 7), Math.abs(h) % 7);
  // UTF-16 code units, as Java counts them.
  assert.equal(javaStringHash('é'), 0xe9);
  assert.equal(javaStringHash('😀'), 0xd83d * 31 + 0xde00);
});

test('an OffsetCommit record has Kafka layout: key v1 (group, topic, partition), value v3', () => {
  const enc = encodeRecord({ type: 'offset-commit', key: { group: 'g', topic: 't', partition: 5 }, value: {
    offset: 42n, leaderEpoch: 3, metadata: 'm', commitTimestamp: 1000n, expireTimestamp: -1n,
  } });
  assert.deepEqual(enc.key, Buffer.from([0, 1, 0, 1, 0x67, 0, 1, 0x74, 0, 0, 0, 5]));
  const v = enc.value!;
  assert.equal(v.readInt16BE(0), 3);
  assert.equal(v.readBigInt64BE(2), 42n);
  assert.equal(v.readInt32BE(10), 3);
  assert.equal(v.readInt16BE(14), 1);
  assert.equal(v.toString('latin1', 16, 17), 'm');
  assert.equal(v.readBigInt64BE(17), 1000n);
  assert.equal(v.length, 25);
});

test('an offset with an explicit expiry is written as value v1, which keeps it', () => {
  const rec: CoordinatorRecord = { type: 'offset-commit', key: { group: 'g', topic: 't', partition: 0 }, value: {
    offset: 1n, leaderEpoch: -1, metadata: '', commitTimestamp: 10n, expireTimestamp: 99n,
  } };
  const enc = encodeRecord(rec);
  assert.equal(enc.value!.readInt16BE(0), 1);
  assert.deepEqual(decodeRecord(enc.key, enc.value), rec);
});

test('every record type round-trips, tombstones included', () => {
  const records: CoordinatorRecord[] = [
    { type: 'offset-commit', key: { group: 'g', topic: 't', partition: 1 }, value: null },
    { type: 'group-metadata', groupId: 'g', value: {
      protocolType: 'consumer', generation: 4, protocol: 'range', leader: 'm1', currentStateTimestamp: 123n,
      members: [{ memberId: 'm1', groupInstanceId: 'i1', clientId: 'c', clientHost: '/h', rebalanceTimeout: 300, sessionTimeout: 100, subscription: Buffer.from('s'), assignment: Buffer.from('a') }],
    } },
    { type: 'group-metadata', groupId: 'g', value: null },
    { type: 'consumer-group-metadata', groupId: 'g', value: { epoch: 3 } },
    { type: 'consumer-group-partition-metadata', groupId: 'g', value: { topics: [{ topicId: '00000000-0000-0000-0000-000000000001', topicName: 't', numPartitions: 6, partitionMetadata: [] }] } },
    { type: 'consumer-group-member-metadata', groupId: 'g', memberId: 'm', value: {
      instanceId: null, rackId: null, clientId: 'c', clientHost: '/h', subscribedTopicNames: ['t'], subscribedTopicRegex: null,
      rebalanceTimeoutMs: 1000, serverAssignor: 'uniform', classicMemberMetadata: null,
    } },
    { type: 'consumer-group-target-assignment-metadata', groupId: 'g', value: { assignmentEpoch: 3 } },
    { type: 'consumer-group-target-assignment-member', groupId: 'g', memberId: 'm', value: { topicPartitions: [{ topicId: '00000000-0000-0000-0000-000000000001', partitions: [0, 2] }] } },
    { type: 'consumer-group-current-member-assignment', groupId: 'g', memberId: 'm', value: {
      memberEpoch: 3, previousMemberEpoch: 2, state: 0,
      assignedPartitions: [{ topicId: '00000000-0000-0000-0000-000000000001', partitions: [0] }], partitionsPendingRevocation: [],
    } },
    { type: 'consumer-group-member-metadata', groupId: 'g', memberId: 'm', value: null },
  ];
  for (const r of records) {
    const enc = encodeRecord(r);
    assert.deepEqual(decodeRecord(enc.key, enc.value), r, r.type);
  }
});

test('share-group and unknown record types are skipped, not errors', () => {
  assert.equal(decodeRecord(Buffer.from([0, 9, 0, 1, 0x67]), null), null);
  assert.equal(decodeRecord(Buffer.from([0, 77]), null), null);
});
