// Brook's admin client against an in-process broker: topics, partitions, configs, records,
// offsets, cluster and log dirs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { Admin } from '../../src/client/admin.ts';
import { Producer } from '../../src/client/producer.ts';
import { EARLIEST, LATEST, MAX_TIMESTAMP, tpKey } from '../../src/client/list-offsets.ts';
import { KafkaError, UnknownTopicError } from '../../src/client/errors.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';

describe('admin client against Brook', () => {
  let b: TestBroker;
  let admin: Admin;

  before(async () => {
    b = await startTestBroker({ 'num.partitions': '2' }, { quiet: true });
    admin = new Admin({ brokers: b.bootstrap });
  });
  after(async () => {
    admin?.close();
    await b?.close();
  });

  test('describeCluster names the cluster, the controller and the broker', async () => {
    const c = await admin.describeCluster();
    assert.equal(c.brokers.length, 1);
    assert.equal(c.brokers[0].port, b.port);
    assert.equal(c.controllerId, c.brokers[0].nodeId);
    assert.ok(c.clusterId && c.clusterId.length > 10);
  });

  test('createTopics: defaults, explicit counts, configs, validate-only, and per-topic errors', async () => {
    const res = await admin.createTopics([
      { name: 'a-default' },
      { name: 'b-three', partitions: 3, configs: { 'retention.ms': '60000' } },
      { name: 'bad name!' },
    ]);
    assert.equal(res[0].error, null);
    assert.equal(res[0].partitions, 2, 'num.partitions');
    assert.equal(res[1].partitions, 3);
    assert.ok(res[2].error instanceof KafkaError && res[2].error.code === ErrorCode.INVALID_TOPIC_EXCEPTION);
    const again = await admin.createTopics([{ name: 'a-default' }]);
    assert.equal(again[0].error?.code, ErrorCode.TOPIC_ALREADY_EXISTS);
    const dry = await admin.createTopics([{ name: 'c-dry', partitions: 4 }], { validateOnly: true });
    assert.equal(dry[0].error, null);
    assert.deepEqual((await admin.listTopics()).map((t) => t.name), ['a-default', 'b-three']);
  });

  test('describeTopics reports partitions with leader, replicas and ISR; unknown topics throw', async () => {
    const [t] = await admin.describeTopics(['b-three']);
    assert.deepEqual(t.partitions.map((p) => p.partition), [0, 1, 2]);
    for (const p of t.partitions) {
      assert.ok(p.leader >= 0);
      assert.deepEqual(p.replicas, [p.leader]);
      assert.deepEqual(p.isr, [p.leader]);
    }
    await assert.rejects(admin.describeTopics(['nope']), UnknownTopicError);
  });

  test('createPartitions grows a topic; shrinking is refused', async () => {
    const [ok] = await admin.createPartitions([{ topic: 'a-default', count: 4 }]);
    assert.equal(ok.error, null);
    assert.equal((await admin.describeTopics(['a-default']))[0].partitions.length, 4);
    const [bad] = await admin.createPartitions([{ topic: 'a-default', count: 1 }]);
    assert.equal(bad.error?.code, ErrorCode.INVALID_PARTITIONS);
  });

  test('configs: describe with sources, incremental set/delete, full replace', async () => {
    const [before] = await admin.describeConfigs([{ type: 'topic', name: 'b-three' }]);
    const retention = before.entries.find((e) => e.name === 'retention.ms');
    assert.equal(retention?.value, '60000');
    assert.equal(retention?.source, 'dynamic-topic');
    assert.equal(before.entries.find((e) => e.name === 'segment.bytes')?.source, 'default');

    await admin.incrementalAlterConfigs({ type: 'topic', name: 'b-three' }, [
      { name: 'cleanup.policy', op: 'set', value: 'compact' },
      { name: 'retention.ms', op: 'delete' },
    ]);
    const [mid] = await admin.describeConfigs([{ type: 'topic', name: 'b-three', keys: ['cleanup.policy', 'retention.ms'] }]);
    assert.equal(mid.entries.find((e) => e.name === 'cleanup.policy')?.value, 'compact');
    assert.equal(mid.entries.find((e) => e.name === 'retention.ms')?.source, 'default');

    await admin.alterConfigs({ type: 'topic', name: 'b-three' }, { 'max.message.bytes': '2000000' });
    const [after] = await admin.describeConfigs([{ type: 'topic', name: 'b-three' }]);
    assert.equal(after.entries.find((e) => e.name === 'max.message.bytes')?.source, 'dynamic-topic');
    assert.equal(after.entries.find((e) => e.name === 'cleanup.policy')?.source, 'default', 'a full replace drops other overrides');

    await assert.rejects(admin.incrementalAlterConfigs({ type: 'topic', name: 'b-three' }, [{ name: 'retention.ms', op: 'set', value: 'soon' }]),
      (e) => e instanceof KafkaError && e.code === ErrorCode.INVALID_CONFIG && /retention\.ms/.test(e.message));

    const [broker] = await admin.describeConfigs([{ type: 'broker', name: String(b.broker.settings.nodeId), keys: ['num.partitions'] }]);
    assert.equal(broker.entries[0].value, '2');
  });

  test('deleteRecords moves the log start; listOffsets reads earliest, latest, by time and max timestamp', async () => {
    await admin.createTopics([{ name: 'trim', partitions: 1 }]);
    const p = new Producer(admin.client);
    for (let i = 0; i < 5; i++) await p.send({ topic: 'trim', value: `v${i}`, timestamp: 1_000_000 + i * 10 });
    const [r] = await admin.deleteRecords([{ topic: 'trim', partition: 0, offset: 2 }]);
    assert.equal(r.error, null);
    assert.equal(r.lowWatermark, 2);
    const q = (timestamp: number) => ({ topic: 'trim', partition: 0, timestamp });
    const earliest = await admin.listOffsets([q(EARLIEST)]);
    const latest = await admin.listOffsets([q(LATEST)]);
    const byTime = await admin.listOffsets([q(1_000_035)]);
    const max = await admin.listOffsets([q(MAX_TIMESTAMP)]);
    const k = tpKey('trim', 0);
    assert.equal(earliest.get(k)?.offset, 2);
    assert.equal(latest.get(k)?.offset, 5);
    assert.equal(byTime.get(k)?.offset, 4);
    assert.equal(max.get(k)?.offset, 4);
    const [beyond] = await admin.deleteRecords([{ topic: 'trim', partition: 0, offset: 99 }]);
    assert.equal(beyond.error?.code, ErrorCode.OFFSET_OUT_OF_RANGE);
    const [all] = await admin.deleteRecords([{ topic: 'trim', partition: 0, offset: -1 }]);
    assert.equal(all.lowWatermark, 5, '-1 means the high watermark');
  });

  test('describeLogDirs lists the data directory and its partitions', async () => {
    const dirs = await admin.describeLogDirs();
    assert.equal(dirs.length, 1);
    assert.equal(dirs[0].error, null);
    assert.ok(dirs[0].partitions.some((p) => p.topic === 'trim' && p.partition === 0));
  });

  test('deleteTopics removes topics and names unknown ones', async () => {
    const res = await admin.deleteTopics(['a-default', 'never-was']);
    assert.equal(res[0].error, null);
    assert.equal(res[1].error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal((await admin.listTopics()).some((t) => t.name === 'a-default'), false);
  });
});
