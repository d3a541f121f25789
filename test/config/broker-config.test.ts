import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBrokerConfig } from '../../src/config/broker-config.ts';
import { BROKER_KEY_NAMES } from '../../src/config/broker-keys.ts';
import { LONG_MAX } from '../../src/config/config-def.ts';
import { BrookError, type UserErrorCode } from '../../src/errors.ts';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';

const parse = (props: Record<string, string>) => parseBrokerConfig(props, { hostname: 'host.example' });

function rejects(props: Record<string, string>, code: UserErrorCode, pattern: RegExp): void {
  assert.throws(() => parse(props), (e: unknown) => {
    assert.ok(e instanceof BrookError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

test('defaults: a single node that is broker and controller on 127.0.0.1:9092 with data in ./data', () => {
  const c = parse({});
  assert.equal(c.nodeId, 1);
  assert.deepEqual(c.processRoles, ['broker', 'controller']);
  assert.ok(c.isBroker && c.isController && c.standaloneQuorum);
  assert.deepEqual(c.listeners, [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }]);
  assert.deepEqual(c.advertisedListeners, [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }]);
  assert.equal(c.interBrokerListenerName, 'PLAINTEXT');
  assert.deepEqual(c.logDirs, ['./data']);
  assert.equal(c.metadataLogDir, './data');
  assert.equal(c.get('num.partitions'), 1);
  assert.equal(c.get('auto.create.topics.enable'), true);
  assert.equal(c.get('message.max.bytes'), 1048588);
  assert.equal(c.get('socket.request.max.bytes'), 104857600);
  assert.equal(c.get('log.flush.interval.messages'), LONG_MAX);
  assert.equal(c.logRetentionMs, 7 * 24 * 3600 * 1000);
  assert.equal(c.logRollMs, 7 * 24 * 3600 * 1000);
  assert.equal(c.logRollJitterMs, 0);
  assert.equal(c.fsyncAcksAll, true);
  assert.equal(c.clusterId, null);
  assert.equal(c.source('num.partitions'), 'DEFAULT_CONFIG');
  assert.ok(Object.isFrozen(c));
});

test('values are parsed to their types and trimmed', () => {
  const c = parse({
    'num.partitions': ' 6 ', 'auto.create.topics.enable': 'FALSE', 'log.cleaner.min.cleanable.ratio': '0.25',
    'log.dirs': '/a, /b', 'broker.rack': ' r1 ', 'log.retention.bytes': '9223372036854775807',
  });
  assert.equal(c.get('num.partitions'), 6);
  assert.equal(c.get('auto.create.topics.enable'), false);
  assert.equal(c.get('log.cleaner.min.cleanable.ratio'), 0.25);
  assert.deepEqual(c.logDirs, ['/a', '/b']);
  assert.equal(c.get('broker.rack'), 'r1');
  assert.equal(c.valueString('log.retention.bytes'), '9223372036854775807');
  assert.equal(c.source('num.partitions'), 'STATIC_BROKER_CONFIG');
  assert.ok(c.isSet('num.partitions'));
  assert.ok(!c.isSet('default.replication.factor'));
});

test('unknown keys are refused with the closest known key', () => {
  rejects({ 'num.partition': '3' }, 'BROOK_CONFIG_UNKNOWN_KEY', /'num\.partition'.*did you mean 'num\.partitions'/);
  rejects({ 'log_retention_hours': '3' }, 'BROOK_CONFIG_UNKNOWN_KEY', /did you mean 'log\.retention\.hours'/);
  rejects({ 'bogus.key': '1' }, 'BROOK_CONFIG_UNKNOWN_KEY', /^unknown config key 'bogus\.key'$/);
  rejects({ 'zookeeper.connect': 'localhost:2181' }, 'BROOK_CONFIG_UNKNOWN_KEY', /no ZooKeeper mode/);
});

test('invalid values name the key and the problem', () => {
  rejects({ 'num.partitions': '0' }, 'BROOK_CONFIG_INVALID_VALUE', /'num\.partitions'.*"0" must be at least 1/);
  rejects({ 'num.partitions': 'six' }, 'BROOK_CONFIG_INVALID_VALUE', /'num\.partitions'.*not a whole number/);
  rejects({ 'num.partitions': '2147483648' }, 'BROOK_CONFIG_INVALID_VALUE', /does not fit in an int/);
  rejects({ 'log.retention.bytes': '9223372036854775808' }, 'BROOK_CONFIG_INVALID_VALUE', /does not fit in a long/);
  rejects({ 'auto.create.topics.enable': 'yes' }, 'BROOK_CONFIG_INVALID_VALUE', /not true or false/);
  rejects({ 'log.cleaner.min.cleanable.ratio': '1.5' }, 'BROOK_CONFIG_INVALID_VALUE', /between 0 and 1/);
  rejects({ 'log.message.timestamp.type': 'createtime' }, 'BROOK_CONFIG_INVALID_VALUE', /not one of CreateTime, LogAppendTime/);
  rejects({ 'process.roles': 'broker,zookeeper' }, 'BROOK_CONFIG_INVALID_VALUE', /"zookeeper" is not one of broker, controller/);
  rejects({ 'process.roles': '' }, 'BROOK_CONFIG_INVALID_VALUE', /at least one/);
  rejects({ 'log.cleanup.policy': 'delete,delete' }, 'BROOK_CONFIG_INVALID_VALUE', /twice/);
  rejects({ 'log.retention.ms': '0' }, 'BROOK_CONFIG_INVALID_VALUE', /-1 \(no limit\) or at least 1/);
  rejects({ 'cluster.id': 'not-an-id' }, 'BROOK_CONFIG_INVALID_VALUE', /'cluster\.id'/);
  rejects({ 'listeners': 'PLAINTEXT://a:1,PLAINTEXT://b:2' }, 'BROOK_CONFIG_INVALID_VALUE', /PLAINTEXT appears twice/);
  rejects({ 'listeners': 'PLAINTEXT://a:99999' }, 'BROOK_CONFIG_INVALID_VALUE', /not a port/);
});

test('the origin of a key is added to the message', () => {
  assert.throws(() => parseBrokerConfig({ 'num.partitions': '0' }, { origin: () => 'in server.properties' }),
    /must be at least 1 \(in server\.properties\)$/);
});

test('retention precedence: ms over minutes over hours; negative means forever', () => {
  assert.equal(parse({ 'log.retention.hours': '1' }).logRetentionMs, 3_600_000);
  assert.equal(parse({ 'log.retention.hours': '1', 'log.retention.minutes': '2' }).logRetentionMs, 120_000);
  assert.equal(parse({ 'log.retention.hours': '1', 'log.retention.minutes': '2', 'log.retention.ms': '5' }).logRetentionMs, 5);
  assert.equal(parse({ 'log.retention.hours': '-1' }).logRetentionMs, -1);
  assert.equal(parse({ 'log.roll.hours': '2', 'log.roll.ms': '1000' }).logRollMs, 1000);
  assert.equal(parse({ 'log.roll.hours': '2' }).logRollMs, 7_200_000);
  assert.equal(parse({ 'log.roll.jitter.hours': '1' }).logRollJitterMs, 3_600_000);
});

test('log.dirs overrides log.dir; metadata.log.dir defaults to the first', () => {
  assert.deepEqual(parse({ 'log.dir': '/x' }).logDirs, ['/x']);
  const c = parse({ 'log.dir': '/x', 'log.dirs': '/a,/b' });
  assert.deepEqual(c.logDirs, ['/a', '/b']);
  assert.equal(c.metadataLogDir, '/a');
  assert.equal(parse({ 'metadata.log.dir': '/m' }).metadataLogDir, '/m');
});

test('broker.id is an alias of node.id and must agree with it', () => {
  assert.equal(parse({ 'broker.id': '7' }).nodeId, 7);
  assert.equal(parse({ 'broker.id': '7', 'node.id': '7' }).nodeId, 7);
  rejects({ 'broker.id': '7', 'node.id': '8' }, 'BROOK_CONFIG_INCONSISTENT', /'broker\.id' \(7\) and 'node\.id' \(8\)/);
});

test('listeners: empty host advertises the host name; 0.0.0.0 needs advertised.listeners', () => {
  const c = parse({ listeners: 'PLAINTEXT://:9092' });
  assert.deepEqual(c.listeners, [{ name: 'PLAINTEXT', host: '', port: 9092 }]);
  assert.deepEqual(c.advertisedListeners, [{ name: 'PLAINTEXT', host: 'host.example', port: 9092 }]);
  rejects({ listeners: 'PLAINTEXT://0.0.0.0:9092' }, 'BROOK_CONFIG_INCONSISTENT', /advertise 0\.0\.0\.0.*advertised\.listeners/);
  const d = parse({ 'listeners': 'PLAINTEXT://0.0.0.0:9092', 'advertised.listeners': 'PLAINTEXT://broker1:9092' });
  assert.deepEqual(d.advertisedListeners, [{ name: 'PLAINTEXT', host: 'broker1', port: 9092 }]);
  assert.deepEqual(parse({ 'advertised.listeners': '' }).advertisedListeners, [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }]);
  rejects({ 'advertised.listeners': 'OTHER://x:1' }, 'BROOK_CONFIG_INCONSISTENT', /OTHER is not in 'listeners'/);
});

test('listener names need a supported security protocol', () => {
  rejects({ listeners: 'CLIENT://:9092' }, 'BROOK_CONFIG_INCONSISTENT', /CLIENT has no security protocol/);
  const c = parse({ 'listeners': 'CLIENT://:9092', 'listener.security.protocol.map': 'CLIENT:PLAINTEXT' });
  assert.equal(c.interBrokerListenerName, 'CLIENT');
  rejects({ listeners: 'SSL://:9093' }, 'BROOK_CONFIG_INCONSISTENT', /uses SSL; Brook supports only PLAINTEXT/);
});

test('KRaft cluster keys: voters, controller listener, roles', () => {
  const voters = '1@127.0.0.1:19091,2@127.0.0.1:19092,3@127.0.0.1:19093';
  const c = parse({
    'node.id': '2', 'controller.quorum.voters': voters,
    'listeners': 'PLAINTEXT://127.0.0.1:9093,CONTROLLER://127.0.0.1:19092',
  });
  assert.equal(c.standaloneQuorum, false);
  assert.deepEqual(c.quorumVoters.map((v) => v.id), [1, 2, 3]);
  assert.deepEqual(c.controllerListenerNames, ['CONTROLLER']);
  assert.deepEqual(c.advertisedListeners, [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9093 }]);

  rejects({ 'node.id': '4', 'controller.quorum.voters': voters, 'listeners': 'PLAINTEXT://:9092,CONTROLLER://:19094' },
    'BROOK_CONFIG_INCONSISTENT', /node 4 .* not in 'controller\.quorum\.voters'/);
  rejects({ 'node.id': '1', 'controller.quorum.voters': voters }, 'BROOK_CONFIG_INCONSISTENT', /controller listener CONTROLLER is not in 'listeners'/);
  rejects({ 'process.roles': 'broker' }, 'BROOK_CONFIG_INCONSISTENT', /broker-only node needs 'controller\.quorum\.voters'/);
  rejects({ 'process.roles': 'broker', 'controller.quorum.voters': voters, 'listeners': 'PLAINTEXT://:9092,CONTROLLER://:19094' },
    'BROOK_CONFIG_INCONSISTENT', /CONTROLLER is a controller listener/);
  const broker = parse({ 'process.roles': 'broker', 'node.id': '4', 'controller.quorum.voters': voters });
  assert.ok(broker.isBroker && !broker.isController);
  const ctl = parse({ 'process.roles': 'controller', 'node.id': '1', 'controller.quorum.voters': voters, 'listeners': 'CONTROLLER://:19091' });
  assert.equal(ctl.interBrokerListenerName, null);
  rejects({ 'controller.quorum.voters': '1@:9093' }, 'BROOK_CONFIG_INVALID_VALUE', /voter 1 has no host/);
  rejects({ 'controller.quorum.voters': 'x@h:1' }, 'BROOK_CONFIG_INVALID_VALUE', /not id@host:port/);
});

test('cross-key checks on groups and compaction lags', () => {
  rejects({ 'group.min.session.timeout.ms': '10', 'group.max.session.timeout.ms': '5' }, 'BROOK_CONFIG_INCONSISTENT', /group\.min\.session/);
  rejects({ 'log.cleaner.min.compaction.lag.ms': '10', 'log.cleaner.max.compaction.lag.ms': '5' }, 'BROOK_CONFIG_INCONSISTENT', /compaction\.lag/);
});

test('entries(): every key, with value string, source, type, read-only flag and docs', () => {
  const c = parse({ 'num.partitions': '3' });
  const entries = c.entries();
  assert.deepEqual(entries.map((e) => e.name), [...BROKER_KEY_NAMES]);
  const np = entries.find((e) => e.name === 'num.partitions')!;
  assert.deepEqual({ ...np, documentation: undefined }, {
    name: 'num.partitions', value: '3', source: 'STATIC_BROKER_CONFIG', isSensitive: false, readOnly: true, type: 'INT',
    documentation: undefined,
    synonyms: [
      { name: 'num.partitions', value: '3', source: 'STATIC_BROKER_CONFIG' },
      { name: 'num.partitions', value: '1', source: 'DEFAULT_CONFIG' },
    ],
  });
  assert.ok(np.documentation.length > 10);
  const rack = c.entry('broker.rack');
  assert.equal(rack.value, null);
  assert.equal(rack.source, 'DEFAULT_CONFIG');
  assert.equal(c.entry('listeners').value, 'PLAINTEXT://127.0.0.1:9092');
  assert.equal(c.entry('log.retention.minutes').value, null);
  assert.equal(c.entry('log.segment.bytes').readOnly, false);
  for (const e of entries) assert.ok(!e.documentation.includes('\n') && e.documentation.length > 0, e.name);
});

test('withDynamic: dynamic keys layer over static ones; read-only keys and bad values are INVALID_CONFIG', () => {
  const c = parse({ 'log.retention.hours': '24', 'message.max.bytes': '2000' });
  const d = c.withDynamic({ 'message.max.bytes': '3000' }, 'DYNAMIC_DEFAULT_BROKER_CONFIG');
  assert.equal(d.get('message.max.bytes'), 3000);
  assert.equal(d.source('message.max.bytes'), 'DYNAMIC_DEFAULT_BROKER_CONFIG');
  const e = d.withDynamic({ 'message.max.bytes': '4000', 'log.retention.ms': '1000' });
  assert.equal(e.get('message.max.bytes'), 4000);
  assert.equal(e.source('message.max.bytes'), 'DYNAMIC_BROKER_CONFIG');
  assert.equal(e.logRetentionMs, 1000);
  assert.deepEqual(e.entry('message.max.bytes').synonyms.map((s) => [s.source, s.value]), [
    ['DYNAMIC_BROKER_CONFIG', '4000'], ['DYNAMIC_DEFAULT_BROKER_CONFIG', '3000'], ['STATIC_BROKER_CONFIG', '2000'], ['DEFAULT_CONFIG', '1048588'],
  ]);
  const f = e.withDynamic({ 'message.max.bytes': null });
  assert.equal(f.get('message.max.bytes'), 3000);
  assert.equal(c.get('message.max.bytes'), 2000, 'the original is unchanged');

  const invalid = (fn: () => unknown, pattern: RegExp): void => {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof KafkaError);
      assert.equal(err.code, ErrorCode.INVALID_CONFIG);
      assert.match(err.message, pattern);
      return true;
    });
  };
  invalid(() => c.withDynamic({ 'num.partitions': '3' }), /'num\.partitions' cannot be changed/);
  invalid(() => c.withDynamic({ 'nope.key': '3' }), /unknown config key 'nope\.key'/);
  invalid(() => c.withDynamic({ 'message.max.bytes': '-5' }), /'message\.max\.bytes'/);
  invalid(() => c.withDynamic({ 'log.cleaner.min.compaction.lag.ms': '10', 'log.cleaner.max.compaction.lag.ms': '5' }), /compaction\.lag/);
});

test('keys accepted for Kafka compatibility parse but are marked ignored', () => {
  const c = parse({ 'num.network.threads': '3', 'num.io.threads': '8', 'socket.send.buffer.bytes': '102400', 'num.recovery.threads.per.data.dir': '1' });
  assert.equal(c.get('num.io.threads'), 8);
  assert.match(c.entry('num.io.threads').documentation, /ignored/);
});
