// Version negotiation, broker address parsing and retry backoff: the client's pure pieces.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT_API_VERSIONS, negotiateVersions } from '../../src/client/versions.ts';
import { AddressError, formatAddress, parseBrokerAddress, parseBrokerList } from '../../src/client/addresses.ts';
import { backoffFor, withRetries } from '../../src/client/retry.ts';
import { KafkaError, NetworkError, UnknownTopicError } from '../../src/client/errors.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';

describe('ApiVersions negotiation', () => {
  test('picks the highest version inside both ranges', () => {
    const v = negotiateVersions([
      { apiKey: 0, minVersion: 0, maxVersion: 7 },
      { apiKey: 1, minVersion: 0, maxVersion: 17 },
      { apiKey: 3, minVersion: 0, maxVersion: 2 },
    ]);
    assert.equal(v.get(0), 7, 'Produce: the broker stops at 7');
    assert.equal(v.get(1), CLIENT_API_VERSIONS.get(1)![1], 'Fetch: the client stops first');
    assert.equal(v.get(3), 2);
  });

  test('leaves out APIs without overlap and APIs the client does not implement', () => {
    const v = negotiateVersions([
      { apiKey: 0, minVersion: 0, maxVersion: 2 }, // Produce before record batches
      { apiKey: 1, minVersion: 13, maxVersion: 17 }, // Fetch by topic id only
      { apiKey: 57, minVersion: 0, maxVersion: 1 }, // UpdateFeatures: not a client API here
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ]);
    assert.equal(v.has(0), false);
    assert.equal(v.has(1), false);
    assert.equal(v.has(57), false);
    assert.equal(v.get(18), 3);
  });

  test('the client table covers every API the admin, producer and consumers use', () => {
    for (const key of [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 32, 33, 35, 37, 42, 44, 47, 60]) {
      const range = CLIENT_API_VERSIONS.get(key);
      assert.ok(range !== undefined && range[0] <= range[1], `API ${key}`);
    }
  });
});

describe('broker addresses', () => {
  test('host:port, bare host, IPv6 and listener prefixes', () => {
    assert.deepEqual(parseBrokerAddress('localhost:9093'), { host: 'localhost', port: 9093 });
    assert.deepEqual(parseBrokerAddress('kafka1'), { host: 'kafka1', port: 9092 });
    assert.deepEqual(parseBrokerAddress('[::1]:9094'), { host: '::1', port: 9094 });
    assert.deepEqual(parseBrokerAddress('::1'), { host: '::1', port: 9092 });
    assert.deepEqual(parseBrokerAddress('PLAINTEXT://10.0.0.1:19092'), { host: '10.0.0.1', port: 19092 });
    assert.equal(formatAddress({ host: '::1', port: 9092 }), '[::1]:9092');
  });

  test('lists split on commas and drop duplicates', () => {
    assert.deepEqual(parseBrokerList('a:1, b:2,,a:1'), [{ host: 'a', port: 1 }, { host: 'b', port: 2 }]);
    assert.deepEqual(parseBrokerList(['a:1', 'c']), [{ host: 'a', port: 1 }, { host: 'c', port: 9092 }]);
  });

  test('malformed addresses are refused with the reason', () => {
    assert.throws(() => parseBrokerAddress('host:99999'), (e) => e instanceof AddressError && /bad port '99999'/.test(e.message));
    assert.throws(() => parseBrokerAddress('host:x'), AddressError);
    assert.throws(() => parseBrokerAddress(':9092'), /missing host/);
    assert.throws(() => parseBrokerAddress('[::1'), /unclosed/);
    assert.throws(() => parseBrokerList(' , '), /no broker addresses/);
  });
});

describe('retries with backoff (KIP-580)', () => {
  const policy = { retries: 3, backoffMs: 100, backoffMaxMs: 1000 };

  test('doubles from retry.backoff.ms up to the cap, with ±20 % jitter', () => {
    assert.equal(backoffFor(1, policy, () => 0.5), 100);
    assert.equal(backoffFor(2, policy, () => 0.5), 200);
    assert.equal(backoffFor(4, policy, () => 0.5), 800);
    assert.equal(backoffFor(10, policy, () => 0.5), 1000);
    assert.equal(backoffFor(1, policy, () => 0), 80);
    assert.equal(backoffFor(1, policy, () => 0.999999), 120);
    assert.equal(backoffFor(10, policy, () => 0.999999), 1000, 'jitter never passes the cap');
  });

  test('retries retriable failures, running beforeRetry after each backoff', async () => {
    const waits: number[] = [];
    const seen: number[] = [];
    let calls = 0;
    const result = await withRetries(async (attempt) => {
      calls++;
      if (attempt < 2) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      return 'done';
    }, policy, (_e, attempt) => void seen.push(attempt), { sleep: async (ms) => void waits.push(ms), random: () => 0.5 });
    assert.equal(result, 'done');
    assert.equal(calls, 3);
    assert.deepEqual(waits, [100, 200]);
    assert.deepEqual(seen, [1, 2]);
  });

  test('network errors are retried; non-retriable errors and the last failure are thrown', async () => {
    let n = 0;
    await withRetries(async () => {
      if (n++ === 0) throw new NetworkError('h:1', 'reset');
    }, policy, undefined, { sleep: async () => {} });
    assert.equal(n, 2);

    let tries = 0;
    await assert.rejects(withRetries(async () => {
      tries++;
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS);
    }, policy, undefined, { sleep: async () => {} }), (e) => e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS);
    assert.equal(tries, 1);

    tries = 0;
    await assert.rejects(withRetries(async () => {
      tries++;
      throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE);
    }, policy, undefined, { sleep: async () => {} }), (e) => e instanceof KafkaError && e.code === ErrorCode.LEADER_NOT_AVAILABLE);
    assert.equal(tries, 4, 'the first attempt and three retries');
  });

  test('an unknown topic is not retried even though its Kafka code is retriable', async () => {
    let tries = 0;
    await assert.rejects(withRetries(async () => {
      tries++;
      throw new UnknownTopicError('t');
    }, policy, undefined, { sleep: async () => {} }), UnknownTopicError);
    assert.equal(tries, 1);
  });
});
