// DescribeConfigs, AlterConfigs and IncrementalAlterConfigs over TCP against an in-process broker
// whose static config sets log.retention.ms, so sources and synonyms of every level show up; and
// the mapping of config entries to each DescribeConfigs version.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
const { ConfigResourceTypes, Kafka, logLevel } = kafkajs;
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { createCreateTopicsRequest } from '../../src/protocol/generated/create-topics-request.ts';
import { createDescribeConfigsRequest } from '../../src/protocol/generated/describe-configs-request.ts';
import type { DescribeConfigsResult } from '../../src/protocol/generated/describe-configs-response.ts';
import { createAlterConfigsRequest } from '../../src/protocol/generated/alter-configs-request.ts';
import { createIncrementalAlterConfigsRequest } from '../../src/protocol/generated/incremental-alter-configs-request.ts';
import type { ConfigEntry } from '../../src/config/config-def.ts';
import { toWireEntries } from '../../src/broker/config-describe.ts';

const TOPIC = 2;
const BROKER = 4;
const SOURCE = { DYNAMIC_TOPIC: 1, DYNAMIC_BROKER: 2, DYNAMIC_DEFAULT_BROKER: 3, STATIC_BROKER: 4, DEFAULT: 5 };
const OP = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 };

describe('admin: configs', () => {
  let b: TestBroker;
  let conn: KafkaConnection;
  let nodeId: string;

  const describeOne = async (version: number, resourceType: number, resourceName: string, keys: string[] | null = null,
    flags: { includeSynonyms?: boolean; includeDocumentation?: boolean } = {}): Promise<DescribeConfigsResult> => {
    const res = await conn.send(32, version, createDescribeConfigsRequest({
      resources: [{ resourceType, resourceName, configurationKeys: keys }], ...flags,
    }));
    assert.equal(res.results.length, 1);
    return res.results[0];
  };
  const entry = (r: DescribeConfigsResult, name: string) => {
    const e = r.configs.find((c) => c.name === name);
    assert.ok(e, `entry ${name} present`);
    return e;
  };
  const incremental = (resourceType: number, resourceName: string, configs: { name: string; configOperation: number; value: string | null }[], validateOnly = false) =>
    conn.send(44, 1, createIncrementalAlterConfigsRequest({ resources: [{ resourceType, resourceName, configs }], validateOnly }));

  before(async () => {
    b = await startTestBroker({ 'log.retention.ms': '86400000' }, { quiet: true });
    nodeId = String(b.broker.settings.nodeId);
    conn = await KafkaConnection.connect(b.host, b.port);
    const res = await conn.send(19, 5, createCreateTopicsRequest({
      topics: [
        { name: 'configured', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'max.message.bytes', value: '2000000' }] },
        { name: 'altered', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.bytes', value: '1000000' }] },
      ],
    }));
    assert.deepEqual(res.topics.map((t) => t.errorCode), [0, 0]);
  });
  after(async () => {
    conn?.close();
    await b?.close();
  });

  it('describes a topic with the source of each value', async () => {
    const r = await describeOne(4, TOPIC, 'configured');
    assert.equal(r.errorCode, 0);
    assert.ok(r.configs.length >= 20, 'every topic key is listed');
    const own = entry(r, 'max.message.bytes');
    assert.equal(own.value, '2000000');
    assert.equal(own.configSource, SOURCE.DYNAMIC_TOPIC);
    assert.equal(own.readOnly, false);
    const fromStatic = entry(r, 'retention.ms');
    assert.equal(fromStatic.value, '86400000');
    assert.equal(fromStatic.configSource, SOURCE.STATIC_BROKER);
    const fromDefault = entry(r, 'cleanup.policy');
    assert.equal(fromDefault.value, 'delete');
    assert.equal(fromDefault.configSource, SOURCE.DEFAULT);
    assert.deepEqual(fromStatic.synonyms, [], 'no synonyms unless asked');
    assert.equal(fromStatic.documentation, null, 'no documentation unless asked');
    assert.equal(fromStatic.configType, 5, 'LONG');
  });

  it('gives synonyms (v1+) and documentation (v3+) when asked, and filters by key', async () => {
    const r = await describeOne(3, TOPIC, 'configured', ['retention.ms', 'no.such.key'], { includeSynonyms: true, includeDocumentation: true });
    assert.deepEqual(r.configs.map((c) => c.name), ['retention.ms']);
    const e = r.configs[0];
    assert.deepEqual(e.synonyms.map((s) => [s.name, s.value, s.source]), [
      ['log.retention.ms', '86400000', SOURCE.STATIC_BROKER],
      ['retention.ms', '604800000', SOURCE.DEFAULT],
    ]);
    assert.ok((e.documentation ?? '').length > 0);
  });

  it('reports is_default at v0', async () => {
    const r = await describeOne(0, TOPIC, 'configured', ['max.message.bytes', 'cleanup.policy', 'retention.ms']);
    const byName = new Map(r.configs.map((c) => [c.name, c.isDefault]));
    assert.deepEqual(Object.fromEntries(byName), { 'cleanup.policy': true, 'max.message.bytes': false, 'retention.ms': false });
  });

  it('answers unknown and illegal topics, other brokers and unknown resource types with errors', async () => {
    assert.equal((await describeOne(4, TOPIC, 'no-such-topic')).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal((await describeOne(4, TOPIC, 'bad name!')).errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    const other = await describeOne(4, BROKER, String(Number(nodeId) + 1));
    assert.equal(other.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(other.errorMessage ?? '', /Unexpected broker id/);
    assert.equal((await describeOne(4, BROKER, 'one')).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await describeOne(4, 99, 'x')).errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('describes this broker: every key, read-only unless dynamic, static values with their source', async () => {
    const r = await describeOne(4, BROKER, nodeId, null, { includeSynonyms: true });
    assert.equal(r.errorCode, 0);
    const retention = entry(r, 'log.retention.ms');
    assert.equal(retention.value, '86400000');
    assert.equal(retention.configSource, SOURCE.STATIC_BROKER);
    assert.equal(retention.readOnly, false);
    assert.equal(entry(r, 'node.id').readOnly, true);
    assert.equal(entry(r, 'num.partitions').configSource, SOURCE.DEFAULT);
    assert.ok(retention.synonyms.some((s) => s.source === SOURCE.STATIC_BROKER && s.value === '86400000'));
  });

  it('AlterConfigs replaces a topic\'s overrides; validate_only changes nothing', async () => {
    const dry = await conn.send(33, 1, createAlterConfigsRequest({
      resources: [{ resourceType: TOPIC, resourceName: 'altered', configs: [{ name: 'retention.ms', value: '1000' }] }], validateOnly: true,
    }));
    assert.equal(dry.responses[0].errorCode, 0);
    assert.equal(entry(await describeOne(4, TOPIC, 'altered', ['retention.ms']), 'retention.ms').value, '86400000');

    const res = await conn.send(33, 2, createAlterConfigsRequest({
      resources: [{ resourceType: TOPIC, resourceName: 'altered', configs: [{ name: 'retention.ms', value: '1000' }] }],
    }));
    assert.deepEqual(res.responses.map((r) => [r.resourceType, r.resourceName, r.errorCode]), [[TOPIC, 'altered', 0]]);
    const after = await describeOne(4, TOPIC, 'altered', ['retention.ms', 'retention.bytes']);
    assert.equal(entry(after, 'retention.ms').value, '1000');
    assert.equal(entry(after, 'retention.ms').configSource, SOURCE.DYNAMIC_TOPIC);
    assert.equal(entry(after, 'retention.bytes').configSource, SOURCE.DEFAULT, 'the override left out was removed');
  });

  it('AlterConfigs answers bad values, unknown topics, null values and duplicate resources per resource', async () => {
    const res = await conn.send(33, 0, createAlterConfigsRequest({
      resources: [
        { resourceType: TOPIC, resourceName: 'altered', configs: [{ name: 'retention.ms', value: 'later' }] },
        { resourceType: TOPIC, resourceName: 'missing-topic', configs: [] },
        { resourceType: TOPIC, resourceName: 'configured', configs: [{ name: 'retention.ms', value: null }] },
        { resourceType: BROKER, resourceName: '', configs: [] },
        { resourceType: BROKER, resourceName: '', configs: [] },
      ],
    }));
    assert.deepEqual(res.responses.map((r) => r.errorCode), [
      ErrorCode.INVALID_CONFIG, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST,
    ]);
    assert.equal(entry(await describeOne(4, TOPIC, 'altered', ['retention.ms']), 'retention.ms').value, '1000');
  });

  it('IncrementalAlterConfigs SET, APPEND, SUBTRACT and DELETE on a topic', async () => {
    const set = await incremental(TOPIC, 'altered', [{ name: 'segment.ms', configOperation: OP.SET, value: '3600000' }]);
    assert.equal(set.responses[0].errorCode, 0);
    const append = await incremental(TOPIC, 'altered', [{ name: 'cleanup.policy', configOperation: OP.APPEND, value: 'compact' }]);
    assert.equal(append.responses[0].errorCode, 0, append.responses[0].errorMessage ?? '');
    let r = await describeOne(4, TOPIC, 'altered', ['segment.ms', 'cleanup.policy', 'retention.ms']);
    assert.equal(entry(r, 'segment.ms').value, '3600000');
    assert.equal(entry(r, 'cleanup.policy').value, 'delete,compact');
    assert.equal(entry(r, 'retention.ms').value, '1000', 'other overrides stay');

    const subtract = await incremental(TOPIC, 'altered', [
      { name: 'cleanup.policy', configOperation: OP.SUBTRACT, value: 'delete' },
      { name: 'segment.ms', configOperation: OP.DELETE, value: null },
    ]);
    assert.equal(subtract.responses[0].errorCode, 0);
    r = await describeOne(4, TOPIC, 'altered', ['segment.ms', 'cleanup.policy']);
    assert.equal(entry(r, 'cleanup.policy').value, 'compact');
    assert.equal(entry(r, 'segment.ms').configSource, SOURCE.DEFAULT);
  });

  it('IncrementalAlterConfigs refuses APPEND to a non-list key, unknown ops and duplicate keys', async () => {
    const nonList = await incremental(TOPIC, 'altered', [{ name: 'retention.ms', configOperation: OP.APPEND, value: '5' }]);
    assert.equal(nonList.responses[0].errorCode, ErrorCode.INVALID_CONFIG);
    const badOp = await incremental(TOPIC, 'altered', [{ name: 'retention.ms', configOperation: 9, value: '5' }]);
    assert.equal(badOp.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
    const dup = await incremental(TOPIC, 'altered', [
      { name: 'retention.ms', configOperation: OP.SET, value: '5' },
      { name: 'retention.ms', configOperation: OP.SET, value: '6' },
    ]);
    assert.equal(dup.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
    const nullSet = await incremental(TOPIC, 'altered', [{ name: 'retention.ms', configOperation: OP.SET, value: null }]);
    assert.equal(nullSet.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('alters dynamic broker configs per broker and cluster-wide; read-only keys are refused', async () => {
    const own = await incremental(BROKER, nodeId, [{ name: 'log.retention.ms', configOperation: OP.SET, value: '7200000' }]);
    assert.equal(own.responses[0].errorCode, 0, own.responses[0].errorMessage ?? '');
    const cluster = await incremental(BROKER, '', [{ name: 'message.max.bytes', configOperation: OP.SET, value: '2097152' }]);
    assert.equal(cluster.responses[0].errorCode, 0, cluster.responses[0].errorMessage ?? '');

    const r = await describeOne(4, BROKER, nodeId, ['log.retention.ms', 'message.max.bytes']);
    assert.equal(entry(r, 'log.retention.ms').value, '7200000');
    assert.equal(entry(r, 'log.retention.ms').configSource, SOURCE.DYNAMIC_BROKER);
    assert.equal(entry(r, 'message.max.bytes').value, '2097152');
    assert.equal(entry(r, 'message.max.bytes').configSource, SOURCE.DYNAMIC_DEFAULT_BROKER);
    const defaults = await describeOne(4, BROKER, '');
    assert.deepEqual(defaults.configs.map((c) => [c.name, c.value, c.configSource]), [['message.max.bytes', '2097152', SOURCE.DYNAMIC_DEFAULT_BROKER]]);
    const topic = await describeOne(4, TOPIC, 'configured', ['retention.ms']);
    assert.equal(entry(topic, 'retention.ms').value, '7200000', 'topics without an override follow the broker');
    assert.equal(entry(topic, 'retention.ms').configSource, SOURCE.DYNAMIC_BROKER);

    const readOnly = await incremental(BROKER, nodeId, [{ name: 'node.id', configOperation: OP.SET, value: '7' }]);
    assert.equal(readOnly.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
    const badValue = await incremental(BROKER, nodeId, [{ name: 'log.retention.ms', configOperation: OP.SET, value: 'x' }]);
    assert.equal(badValue.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
    const otherNode = await incremental(BROKER, String(Number(nodeId) + 1), [{ name: 'log.retention.ms', configOperation: OP.SET, value: '1' }]);
    assert.equal(otherNode.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
    const appendNonList = await incremental(BROKER, nodeId, [{ name: 'log.retention.ms', configOperation: OP.APPEND, value: '1' }]);
    assert.equal(appendNonList.responses[0].errorCode, ErrorCode.INVALID_CONFIG);

    const removed = await incremental(BROKER, nodeId, [{ name: 'log.retention.ms', configOperation: OP.DELETE, value: null }]);
    assert.equal(removed.responses[0].errorCode, 0);
    assert.equal(entry(await describeOne(4, BROKER, nodeId, ['log.retention.ms']), 'log.retention.ms').configSource, SOURCE.STATIC_BROKER);
  });
});

describe('admin: configs with kafkajs', () => {
  let b: TestBroker;
  let admin: kafkajs.Admin;

  before(async () => {
    b = await startTestBroker({}, { quiet: true });
    admin = new Kafka({ clientId: 'admin-configs-test', brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kjs-configs' }] });
  });
  after(async () => {
    await admin?.disconnect();
    await b?.close();
  });

  it('describes and alters topic configs', async () => {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-configs', configEntries: [{ name: 'retention.ms', value: '123456' }] }],
    });
    const res = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-configs', configNames: ['retention.ms'] }],
    });
    const e = res.resources[0].configEntries.find((c) => c.configName === 'retention.ms');
    assert.equal(e?.configValue, '123456');
    assert.equal(e?.isDefault, false);
  });

  it('describes the broker', async () => {
    const res = await admin.describeConfigs({
      includeSynonyms: true,
      resources: [{ type: ConfigResourceTypes.BROKER, name: String(b.broker.settings.nodeId) }],
    });
    assert.equal(res.resources[0].errorCode, 0);
    assert.ok(res.resources[0].configEntries.some((c) => c.configName === 'num.partitions' && c.configValue === '1'));
  });
});

describe('config-describe: wire entries', () => {
  const secret: ConfigEntry = {
    name: 'sasl.secret', value: 'hunter2', source: 'STATIC_BROKER_CONFIG', isSensitive: true, readOnly: true, type: 'PASSWORD',
    documentation: 'a password', synonyms: [{ name: 'sasl.secret', value: 'hunter2', source: 'STATIC_BROKER_CONFIG' }],
  };
  const plain: ConfigEntry = {
    name: 'plain.key', value: '5', source: 'DEFAULT_CONFIG', isSensitive: false, readOnly: false, type: 'INT',
    documentation: 'a number', synonyms: [{ name: 'plain.key', value: '5', source: 'DEFAULT_CONFIG' }],
  };

  it('never reveals sensitive values, not even in synonyms', () => {
    const [e] = toWireEntries([secret], { apiVersion: 4, keys: null, includeSynonyms: true, includeDocumentation: true });
    assert.equal(e.value, null);
    assert.equal(e.isSensitive, true);
    assert.deepEqual(e.synonyms, [{ name: 'sasl.secret', value: null, source: SOURCE.STATIC_BROKER }]);
    assert.equal(e.configType, 9, 'PASSWORD');
  });

  it('leaves out synonyms before v1 and documentation before v3 even when asked', () => {
    const [v0] = toWireEntries([plain], { apiVersion: 0, keys: null, includeSynonyms: true, includeDocumentation: true });
    assert.deepEqual([v0.synonyms, v0.documentation, v0.isDefault], [[], null, true]);
    const [v2] = toWireEntries([plain], { apiVersion: 2, keys: null, includeSynonyms: true, includeDocumentation: true });
    assert.equal(v2.synonyms.length, 1);
    assert.equal(v2.documentation, null);
    const all = toWireEntries([plain, secret], { apiVersion: 4, keys: [], includeSynonyms: false, includeDocumentation: false });
    assert.deepEqual(all.map((e) => e.name), ['plain.key', 'sasl.secret'], 'an empty key list means every key, as in Kafka');
  });
});
