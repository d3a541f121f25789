// CreateTopics, CreatePartitions and DeleteTopics over TCP against an in-process broker: raw
// requests at several versions for the exact codes and fields, and kafkajs' admin client; and the
// timeout/error mapping of controller calls on its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';
import type { Broker } from '../../src/broker/broker.ts';
import { callController } from '../../src/broker/handlers/19-create-topics.ts';
import { NULL_UUID } from '../../src/protocol/reader.ts';
import { createCreateTopicsRequest } from '../../src/protocol/generated/create-topics-request.ts';
import { createDeleteTopicsRequest } from '../../src/protocol/generated/delete-topics-request.ts';
import { createCreatePartitionsRequest } from '../../src/protocol/generated/create-partitions-request.ts';

const topic = (name: string, numPartitions = 1, replicationFactor = 1, configs: { name: string; value: string | null }[] = []) =>
  ({ name, numPartitions, replicationFactor, assignments: [], configs });

describe('admin: topics', () => {
  let b: TestBroker;
  let conn: KafkaConnection;

  before(async () => {
    b = await startTestBroker({ 'num.partitions': '2' }, { quiet: true });
    conn = await KafkaConnection.connect(b.host, b.port);
  });
  after(async () => {
    conn?.close();
    await b?.close();
  });

  it('creates a topic (v7) and reports its id, partition count, replication factor and configs', async () => {
    const res = await conn.send(19, 7, createCreateTopicsRequest({
      topics: [topic('created-v7', 3, 1, [{ name: 'retention.ms', value: '3600000' }])],
    }));
    assert.equal(res.topics.length, 1);
    const t = res.topics[0];
    assert.equal(t.errorCode, 0, t.errorMessage ?? '');
    assert.equal(t.name, 'created-v7');
    assert.notEqual(t.topicId, NULL_UUID);
    assert.equal(t.numPartitions, 3);
    assert.equal(t.replicationFactor, 1);
    const retention = t.configs!.find((c) => c.name === 'retention.ms');
    assert.deepEqual(retention && { value: retention.value, source: retention.configSource, readOnly: retention.readOnly },
      { value: '3600000', source: 1, readOnly: false });
    const segment = t.configs!.find((c) => c.name === 'segment.bytes');
    assert.equal(segment?.configSource, 5, 'an untouched key comes from the default');
    const image = b.broker.image.topics.get('created-v7');
    assert.equal(image?.id, t.topicId);
    assert.equal(image?.partitions.size, 3);
  });

  it('uses num.partitions and default.replication.factor for -1 (KIP-464)', async () => {
    const res = await conn.send(19, 5, createCreateTopicsRequest({ topics: [topic('defaults-topic', -1, -1)] }));
    assert.equal(res.topics[0].errorCode, 0);
    assert.equal(res.topics[0].numPartitions, 2);
    assert.equal(res.topics[0].replicationFactor, 1);
  });

  it('validate_only checks without creating', async () => {
    const res = await conn.send(19, 4, createCreateTopicsRequest({ topics: [topic('only-validated', 4)], validateOnly: true }));
    assert.equal(res.topics[0].errorCode, 0);
    assert.equal(b.broker.image.topics.has('only-validated'), false);
    const bad = await conn.send(19, 4, createCreateTopicsRequest({
      topics: [topic('only-validated', 1, 1, [{ name: 'cleanup.policy', value: 'shred' }])], validateOnly: true,
    }));
    assert.equal(bad.topics[0].errorCode, ErrorCode.INVALID_CONFIG);
  });

  it('answers each topic with its own error code and message', async () => {
    await conn.send(19, 1, createCreateTopicsRequest({ topics: [topic('exists-already')] }));
    const res = await conn.send(19, 5, createCreateTopicsRequest({
      topics: [
        topic('exists-already'),
        topic('bad/name'),
        topic('too-many-replicas', 1, 3),
        topic('zero-partitions', 0),
        topic('unknown-config', 1, 1, [{ name: 'no.such.config', value: '1' }]),
        topic('bad-value', 1, 1, [{ name: 'retention.ms', value: 'soon' }]),
        topic('twice'),
        topic('twice'),
        topic('fine-one'),
      ],
    }));
    const by = new Map(res.topics.map((t) => [t.name, t]));
    assert.equal(by.get('exists-already')?.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
    assert.equal(by.get('bad/name')?.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.equal(by.get('too-many-replicas')?.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
    assert.equal(by.get('zero-partitions')?.errorCode, ErrorCode.INVALID_PARTITIONS);
    assert.equal(by.get('unknown-config')?.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(by.get('unknown-config')?.errorMessage ?? '', /no\.such\.config/);
    assert.equal(by.get('bad-value')?.errorCode, ErrorCode.INVALID_CONFIG);
    assert.equal(by.get('twice')?.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(by.get('fine-one')?.errorCode, 0);
    assert.equal(by.get('exists-already')?.numPartitions, -1, 'v5+ failed topics report -1');
    for (const t of res.topics) if (t.errorCode !== 0) assert.ok(t.errorMessage, `${t.name} has a message`);
  });

  it('v0 creates topics and answers without messages', async () => {
    const res = await conn.send(19, 0, createCreateTopicsRequest({ topics: [topic('created-v0', 2)] }));
    assert.deepEqual(res.topics.map((t) => [t.name, t.errorCode]), [['created-v0', 0]]);
    assert.equal(b.broker.image.topics.get('created-v0')?.partitions.size, 2);
  });

  it('CreatePartitions grows a topic, validates, and refuses shrinking and unknown topics', async () => {
    await conn.send(19, 4, createCreateTopicsRequest({ topics: [topic('growing', 1)] }));
    const dry = await conn.send(37, 3, createCreatePartitionsRequest({ topics: [{ name: 'growing', count: 4, assignments: null }], validateOnly: true }));
    assert.equal(dry.results[0].errorCode, 0);
    assert.equal(b.broker.image.topics.get('growing')?.partitions.size, 1);
    const res = await conn.send(37, 0, createCreatePartitionsRequest({
      topics: [
        { name: 'growing', count: 3, assignments: null },
        { name: 'no-such-topic', count: 3, assignments: null },
      ],
    }));
    const by = new Map(res.results.map((r) => [r.name, r]));
    assert.equal(by.get('growing')?.errorCode, 0);
    assert.equal(by.get('no-such-topic')?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(b.broker.image.topics.get('growing')?.partitions.size, 3);
    const shrink = await conn.send(37, 2, createCreatePartitionsRequest({ topics: [{ name: 'growing', count: 2, assignments: null }] }));
    assert.equal(shrink.results[0].errorCode, ErrorCode.INVALID_PARTITIONS);
    assert.match(shrink.results[0].errorMessage ?? '', /3 partitions/);
    const manual = await conn.send(37, 1, createCreatePartitionsRequest({
      topics: [{ name: 'growing', count: 4, assignments: [{ brokerIds: [b.broker.settings.nodeId] }] }],
    }));
    assert.equal(manual.results[0].errorCode, 0);
    const wrongCount = await conn.send(37, 1, createCreatePartitionsRequest({
      topics: [{ name: 'growing', count: 6, assignments: [{ brokerIds: [b.broker.settings.nodeId] }] }],
    }));
    assert.equal(wrongCount.results[0].errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  });

  it('DeleteTopics by name (v1) and by id (v6), with unknown names and ids', async () => {
    await conn.send(19, 4, createCreateTopicsRequest({ topics: [topic('doomed-a'), topic('doomed-b')] }));
    const idB = b.broker.image.topics.get('doomed-b')!.id;
    const byName = await conn.send(20, 1, createDeleteTopicsRequest({ topicNames: ['doomed-a', 'never-was'] }));
    const named = new Map(byName.responses.map((r) => [r.name, r.errorCode]));
    assert.equal(named.get('doomed-a'), 0);
    assert.equal(named.get('never-was'), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(b.broker.image.topics.has('doomed-a'), false);

    const unknownId = '0b6f2bcb-6c4c-4f32-9f07-2f6d0c8a7e11';
    const byId = await conn.send(20, 6, createDeleteTopicsRequest({
      topics: [{ name: null, topicId: idB }, { name: null, topicId: unknownId }],
    }));
    const ided = new Map(byId.responses.map((r) => [r.topicId, r]));
    assert.equal(ided.get(idB)?.errorCode, 0);
    assert.equal(ided.get(idB)?.name, 'doomed-b');
    assert.equal(ided.get(unknownId)?.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
    assert.equal(b.broker.image.topics.has('doomed-b'), false);
  });

  it('DeleteTopics v6 refuses entries with neither or both of name and id, and duplicates', async () => {
    await conn.send(19, 4, createCreateTopicsRequest({ topics: [topic('kept-c')] }));
    const id = b.broker.image.topics.get('kept-c')!.id;
    const res = await conn.send(20, 6, createDeleteTopicsRequest({
      topics: [
        { name: null, topicId: NULL_UUID },
        { name: 'kept-c', topicId: id },
        { name: 'dup', topicId: NULL_UUID },
        { name: 'dup', topicId: NULL_UUID },
      ],
    }));
    assert.equal(res.responses.length, 3);
    for (const r of res.responses) assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST, r.errorMessage ?? '');
    assert.ok(b.broker.image.topics.has('kept-c'));
  });
});

describe('admin: topic deletion disabled', () => {
  let b: TestBroker;
  let conn: KafkaConnection;

  before(async () => {
    b = await startTestBroker({ 'delete.topic.enable': 'false' }, { quiet: true });
    conn = await KafkaConnection.connect(b.host, b.port);
    await conn.send(19, 4, createCreateTopicsRequest({ topics: [topic('protected')] }));
  });
  after(async () => {
    conn?.close();
    await b?.close();
  });

  it('answers TOPIC_DELETION_DISABLED from v3 and INVALID_REQUEST before', async () => {
    const v3 = await conn.send(20, 3, createDeleteTopicsRequest({ topicNames: ['protected'] }));
    assert.deepEqual(v3.responses.map((r) => [r.name, r.errorCode]), [['protected', ErrorCode.TOPIC_DELETION_DISABLED]]);
    const v2 = await conn.send(20, 2, createDeleteTopicsRequest({ topicNames: ['protected'] }));
    assert.deepEqual(v2.responses.map((r) => [r.name, r.errorCode]), [['protected', ErrorCode.INVALID_REQUEST]]);
    assert.ok(b.broker.image.topics.has('protected'));
  });
});

describe('admin: topics with kafkajs', () => {
  let b: TestBroker;
  let admin: ReturnType<Kafka['admin']>;

  before(async () => {
    b = await startTestBroker({}, { quiet: true });
    const kafka = new Kafka({ clientId: 'admin-topics-test', brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => {
    await admin?.disconnect();
    await b?.close();
  });

  it('creates, lists, grows and deletes topics', async () => {
    const created = await admin.createTopics({
      topics: [{ topic: 'kjs-topic', numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      waitForLeaders: true,
    });
    assert.equal(created, true);
    assert.equal(await admin.createTopics({ topics: [{ topic: 'kjs-topic' }] }), false, 'an existing topic is not created again');
    assert.ok((await admin.listTopics()).includes('kjs-topic'));
    await admin.createPartitions({ topicPartitions: [{ topic: 'kjs-topic', count: 5 }] });
    const meta = await admin.fetchTopicMetadata({ topics: ['kjs-topic'] });
    assert.equal(meta.topics[0].partitions.length, 5);
    await admin.deleteTopics({ topics: ['kjs-topic'] });
    assert.equal((await admin.listTopics()).includes('kjs-topic'), false);
  });

  it('surfaces per-topic errors', async () => {
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'kjs-bad', configEntries: [{ name: 'retention.ms', value: 'x' }] }] }),
      (e: Error & { errors?: { type: string }[] }) => e.errors?.[0]?.type === 'INVALID_CONFIG',
    );
  });
});

describe('admin: controller calls', () => {
  const logged: string[] = [];
  const broker = { log: (line: string) => logged.push(line), whenApplied: () => Promise.resolve() } as unknown as Broker;

  it('answers REQUEST_TIMED_OUT when the controller does not finish within timeout_ms', async () => {
    const out = await callController(broker, 'creating topics', 5, () => new Promise<never>(() => {}));
    assert.ok(out instanceof KafkaError);
    assert.equal(out.code, ErrorCode.REQUEST_TIMED_OUT);
  });

  it('passes the controller\'s own refusal through, and hides unexpected failures', async () => {
    const refused = await callController(broker, 'deleting topics', 0, () => Promise.reject(new KafkaError(ErrorCode.NOT_CONTROLLER, 'shut down')));
    assert.ok(refused instanceof KafkaError);
    assert.equal(refused.code, ErrorCode.NOT_CONTROLLER);
    const broken = await callController(broker, 'deleting topics', 1000, () => Promise.reject(new Error('disk on fire')));
    assert.ok(broken instanceof KafkaError);
    assert.equal(broken.code, ErrorCode.UNKNOWN_SERVER_ERROR);
    assert.doesNotMatch(broken.message, /disk on fire/);
    assert.ok(logged.some((l) => l.includes('disk on fire')));
    assert.deepEqual(await callController(broker, 'creating topics', 1000, () => Promise.resolve([1, 2])), [1, 2]);
  });
});
