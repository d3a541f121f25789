import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidValue } from '../../src/config/config-def.ts';
import {
  formatHostPort, formatListener, parseBootstrapServers, parseHostPort, parseListener, parseListeners,
  parseSecurityProtocolMap, parseVoters,
} from '../../src/config/listeners.ts';

test('host:port forms', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:9092'), { host: '127.0.0.1', port: 9092 });
  assert.deepEqual(parseHostPort(':9092'), { host: '', port: 9092 });
  assert.deepEqual(parseHostPort('[::1]:9092'), { host: '::1', port: 9092 });
  assert.deepEqual(parseHostPort('broker-1.example.com:0'), { host: 'broker-1.example.com', port: 0 });
  for (const bad of ['localhost', '::1:9092', 'h:70000', 'h:-1', 'h:x', '[::1]9092', 'a b:1']) {
    assert.throws(() => parseHostPort(bad), InvalidValue, bad);
  }
  assert.equal(formatHostPort('::1', 9092), '[::1]:9092');
  assert.equal(formatHostPort('h', 1), 'h:1');
});

test('listeners: names upper-cased, round trip, duplicates refused', () => {
  assert.deepEqual(parseListener('plaintext://[::]:9092'), { name: 'PLAINTEXT', host: '::', port: 9092 });
  assert.equal(formatListener(parseListener('CONTROLLER://[::1]:9093')), 'CONTROLLER://[::1]:9093');
  assert.throws(() => parseListener('127.0.0.1:9092'), /NAME:\/\/host:port/);
  assert.throws(() => parseListener('BAD-NAME://h:1'), /letters, digits and _/);
  assert.throws(() => parseListeners(['A://h:1', 'B://h:1']), /port 1 is used by two listeners/);
  assert.equal(parseListeners(['A://h:0', 'B://h:0']).length, 2, 'port 0 may repeat');
});

test('security protocol map', () => {
  const m = parseSecurityProtocolMap(['internal:plaintext', 'EXTERNAL:SASL_SSL']);
  assert.equal(m.get('INTERNAL'), 'PLAINTEXT');
  assert.equal(m.get('EXTERNAL'), 'SASL_SSL');
  assert.throws(() => parseSecurityProtocolMap(['A:TLS']), /not a security protocol/);
  assert.throws(() => parseSecurityProtocolMap(['A']), /NAME:PROTOCOL/);
  assert.throws(() => parseSecurityProtocolMap(['A:SSL', 'a:PLAINTEXT']), /mapped twice/);
});

test('quorum voters and bootstrap servers', () => {
  assert.deepEqual(parseVoters(['1@h1:9093', '2@[::1]:9094']), [{ id: 1, host: 'h1', port: 9093 }, { id: 2, host: '::1', port: 9094 }]);
  assert.throws(() => parseVoters(['1@h:1', '1@h:2']), /voter 1 appears twice/);
  assert.throws(() => parseVoters(['h:1']), /id@host:port/);
  assert.deepEqual(parseBootstrapServers(['a:1', 'b:2']), [{ host: 'a', port: 1 }, { host: 'b', port: 2 }]);
  assert.throws(() => parseBootstrapServers([':1']), /no host/);
});
