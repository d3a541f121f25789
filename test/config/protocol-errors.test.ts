import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_ERROR_CODES, ErrorCode, errorName, isKnownErrorCode, isRetriable, KafkaError } from '../../src/protocol/errors.ts';

test('ErrorCode maps Kafka names to their codes', () => {
  assert.equal(ErrorCode.NONE, 0);
  assert.equal(ErrorCode.UNKNOWN_SERVER_ERROR, -1);
  assert.equal(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 3);
  assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
  assert.equal(ErrorCode.MESSAGE_TOO_LARGE, 10);
  assert.equal(ErrorCode.NOT_ENOUGH_REPLICAS, 19);
  assert.equal(ErrorCode.UNSUPPORTED_VERSION, 35);
  assert.equal(ErrorCode.INVALID_CONFIG, 40);
  assert.equal(ErrorCode.INVALID_PRODUCER_ID_MAPPING, 49);
  assert.equal(ErrorCode.KAFKA_STORAGE_ERROR, 56);
  assert.equal(ErrorCode.INVALID_RECORD, 87);
  assert.equal(ErrorCode.UNKNOWN_TOPIC_ID, 100);
  assert.equal(ErrorCode.VOTER_NOT_FOUND, 127);
  assert.ok(Object.isFrozen(ErrorCode));
});

test('the table covers -1..127 (Kafka 3.9) without gaps or duplicates', () => {
  assert.deepEqual(ALL_ERROR_CODES, Array.from({ length: 129 }, (_, i) => i - 1));
  const names = Object.keys(ErrorCode);
  assert.equal(new Set(names).size, names.length);
  for (const name of names) {
    assert.match(name, /^[A-Z][A-Z0-9_]*$/);
    assert.equal(errorName(ErrorCode[name as keyof typeof ErrorCode]), name);
  }
});

test('errorName names unknown codes without throwing', () => {
  assert.equal(errorName(3), 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(errorName(999), 'UNKNOWN_ERROR_CODE(999)');
  assert.equal(isKnownErrorCode(999), false);
  assert.equal(isKnownErrorCode(0), true);
});

test('isRetriable follows Kafka', () => {
  for (const code of [2, 3, 5, 6, 7, 13, 14, 15, 16, 19, 20, 41, 51, 56, 74, 75, 89]) assert.equal(isRetriable(code), true, errorName(code));
  for (const code of [-1, 0, 1, 10, 17, 35, 36, 40, 42, 47, 87, 90]) assert.equal(isRetriable(code), false, errorName(code));
  assert.equal(isRetriable(12345), false);
});

test('KafkaError carries the code and defaults its message to the name', () => {
  const e = new KafkaError(ErrorCode.INVALID_CONFIG, "unknown topic config 'x'");
  assert.ok(e instanceof Error);
  assert.equal(e.code, 40);
  assert.equal(e.message, "unknown topic config 'x'");
  assert.equal(e.errorName, 'INVALID_CONFIG');
  assert.equal(e.retriable, false);
  assert.equal(new KafkaError(ErrorCode.NOT_CONTROLLER).message, 'NOT_CONTROLLER');
  assert.equal(new KafkaError(ErrorCode.NOT_CONTROLLER).retriable, true);
});
