import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hoistGlobalBrokers } from '../../src/cli/main.ts';

test('a leading -b/--brokers moves behind the command and its arguments', () => {
  assert.deepEqual(hoistGlobalBrokers(['-b', 'h:1', 'topic', 'list']), ['topic', 'list', '-b', 'h:1']);
  assert.deepEqual(hoistGlobalBrokers(['--brokers=h:1', 'group', 'describe', 'g']), ['group', 'describe', 'g', '--brokers=h:1']);
  assert.deepEqual(hoistGlobalBrokers(['--brokers', 'h:1', '-b', 'h:2', 'consume', 't']), ['consume', 't', '--brokers', 'h:1', '-b', 'h:2']);
});

test('arguments without a leading broker flag are left alone', () => {
  assert.deepEqual(hoistGlobalBrokers(['topic', 'list', '-b', 'h:1']), ['topic', 'list', '-b', 'h:1']);
  assert.deepEqual(hoistGlobalBrokers(['-b']), ['-b']);
  assert.deepEqual(hoistGlobalBrokers(['-b', 'h:1']), ['-b', 'h:1']);
});
