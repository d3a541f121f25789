import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBrokerConfig } from '../../src/config/broker-config.ts';
import { LONG_MAX } from '../../src/config/config-def.ts';
import { parseTopicOverrides, resolveTopicConfig, toLogConfig } from '../../src/config/topic-config.ts';
import { TOPIC_KEY_NAMES } from '../../src/config/topic-keys.ts';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';
import { NEVER } from '../../src/storage/log-config.ts';

const broker = parseBrokerConfig({}, { hostname: 'h' });

function invalidConfig(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KafkaError, String(e));
    assert.equal(e.code, ErrorCode.INVALID_CONFIG);
    assert.match(e.message, pattern);
    return true;
  });
}

test('defaults come from the broker defaults with source DEFAULT_CONFIG', () => {
  const t = resolveTopicConfig({}, broker);
  assert.equal(t.get('retention.ms'), 604800000);
  assert.equal(t.get('segment.bytes'), 1073741824);
  assert.equal(t.get('max.message.bytes'), 1048588);
  assert.deepEqual(t.get('cleanup.policy'), ['delete']);
  assert.equal(t.get('message.timestamp.type'), 'CreateTime');
  assert.equal(t.get('flush.ms'), LONG_MAX);
  for (const k of TOPIC_KEY_NAMES) assert.equal(t.source(k), 'DEFAULT_CONFIG', k);
});

test('static broker values flow into topics with source STATIC_BROKER_CONFIG', () => {
  const b = parseBrokerConfig({
    'log.retention.hours': '24', 'message.max.bytes': '2000000', 'log.cleanup.policy': 'compact',
    'log.roll.hours': '1', 'log.flush.interval.ms': '500', 'compression.type': 'zstd',
  }, { hostname: 'h' });
  const t = resolveTopicConfig({}, b);
  assert.equal(t.get('retention.ms'), 86400000);
  assert.equal(t.source('retention.ms'), 'STATIC_BROKER_CONFIG');
  assert.equal(t.get('max.message.bytes'), 2000000);
  assert.equal(t.get('segment.ms'), 3600000);
  assert.equal(t.source('segment.ms'), 'STATIC_BROKER_CONFIG');
  assert.equal(t.get('flush.ms'), 500);
  assert.equal(t.get('compression.type'), 'zstd');
  assert.equal(t.cleanupPolicy, 'compact');
  const e = t.entry('retention.ms');
  assert.equal(e.value, '86400000');
  assert.deepEqual(e.synonyms.map((s) => [s.name, s.source, s.value]), [
    ['log.retention.hours', 'STATIC_BROKER_CONFIG', '24'],
    ['retention.ms', 'DEFAULT_CONFIG', '604800000'],
  ]);
});

test('dynamic broker values are reported with their level', () => {
  const b = broker.withDynamic({ 'log.segment.bytes': '1048576' }, 'DYNAMIC_DEFAULT_BROKER_CONFIG');
  const t = resolveTopicConfig({}, b);
  assert.equal(t.get('segment.bytes'), 1048576);
  assert.equal(t.source('segment.bytes'), 'DYNAMIC_DEFAULT_BROKER_CONFIG');
});

test('topic overrides win, with source DYNAMIC_TOPIC_CONFIG', () => {
  const b = parseBrokerConfig({ 'log.retention.hours': '24' }, { hostname: 'h' });
  const t = resolveTopicConfig({ 'retention.ms': '1000', 'cleanup.policy': 'delete,compact', 'min.insync.replicas': '2' }, b);
  assert.equal(t.get('retention.ms'), 1000);
  assert.equal(t.source('retention.ms'), 'DYNAMIC_TOPIC_CONFIG');
  assert.equal(t.cleanupPolicy, 'compact,delete');
  assert.equal(t.get('min.insync.replicas'), 2);
  assert.deepEqual({ ...t.overrides }, { 'retention.ms': '1000', 'cleanup.policy': 'delete,compact', 'min.insync.replicas': '2' });
  const e = t.entry('retention.ms');
  assert.equal(e.readOnly, false);
  assert.equal(e.type, 'LONG');
  assert.deepEqual(e.synonyms.map((s) => s.source), ['DYNAMIC_TOPIC_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG']);
  assert.deepEqual(t.entries().map((x) => x.name), [...TOPIC_KEY_NAMES]);
});

test('unknown keys, null and bad values are INVALID_CONFIG naming the key', () => {
  invalidConfig(() => resolveTopicConfig({ 'retention.mss': '1' }, broker), /unknown topic config 'retention\.mss' \(did you mean 'retention\.ms'\?\)/);
  invalidConfig(() => resolveTopicConfig({ 'log.retention.ms': '1' }, broker), /unknown topic config 'log\.retention\.ms'/);
  invalidConfig(() => resolveTopicConfig({ 'retention.ms': 'soon' }, broker), /'retention\.ms'.*not a whole number/);
  invalidConfig(() => resolveTopicConfig({ 'retention.ms': '-2' }, broker), /'retention\.ms'.*at least -1/);
  invalidConfig(() => resolveTopicConfig({ 'cleanup.policy': 'forever' }, broker), /'cleanup\.policy'/);
  invalidConfig(() => resolveTopicConfig({ 'compression.type': 'brotli' }, broker), /'compression\.type'/);
  invalidConfig(() => resolveTopicConfig({ 'min.cleanable.dirty.ratio': '2' }, broker), /'min\.cleanable\.dirty\.ratio'/);
  invalidConfig(() => resolveTopicConfig({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' }, broker), /min\.compaction\.lag\.ms/);
  invalidConfig(() => parseTopicOverrides({ 'retention.ms': null }), /'retention\.ms' has no value/);
  assert.deepEqual({ ...parseTopicOverrides({ 'compression.type': 'none', 'segment.bytes': '1048576' }) }, {
    'compression.type': 'none', 'segment.bytes': '1048576',
  });
});

test('timestamp limits fall back to the deprecated difference key (KIP-937)', () => {
  const t = resolveTopicConfig({ 'message.timestamp.difference.max.ms': '5000' }, broker);
  assert.equal(t.timestampBeforeMaxMs, 5000);
  assert.equal(t.timestampAfterMaxMs, 5000);
  const u = resolveTopicConfig({ 'message.timestamp.difference.max.ms': '5000', 'message.timestamp.after.max.ms': '10' }, broker);
  assert.equal(u.timestampAfterMaxMs, 10);
  assert.equal(u.timestampBeforeMaxMs, 5000);
  assert.equal(resolveTopicConfig({}, broker).timestampBeforeMaxMs, LONG_MAX);
});

test('toLogConfig maps onto the storage engine and turns Long.MAX_VALUE into NEVER', () => {
  const t = resolveTopicConfig({ 'segment.bytes': '1048576', 'retention.ms': '-1', 'cleanup.policy': 'compact' }, broker);
  assert.deepEqual(toLogConfig(t), {
    segmentBytes: 1048576,
    segmentMs: 604800000,
    segmentJitterMs: 0,
    indexIntervalBytes: 4096,
    segmentIndexBytes: 10485760,
    retentionMs: -1,
    retentionBytes: -1,
    cleanupPolicy: 'compact',
    deleteRetentionMs: 86400000,
    minCleanableDirtyRatio: 0.5,
    minCompactionLagMs: 0,
    maxCompactionLagMs: NEVER,
    flushMessages: NEVER,
    flushMs: NEVER,
    fileDeleteDelayMs: 60000,
  });
});
