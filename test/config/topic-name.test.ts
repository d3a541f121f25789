import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collides, findCollision, hasCollisionChars, isInternalTopic, validateNewTopicName, validateTopicName } from '../../src/config/topic-name.ts';

test('legal names', () => {
  for (const name of ['a', 'orders', 'Orders.v2', 'a_b-c.d', '0', 'x'.repeat(249), '...', '_']) {
    assert.equal(validateTopicName(name), null, name);
  }
});

test('illegal names say why', () => {
  assert.match(validateTopicName('')!, /empty/);
  assert.match(validateTopicName('.')!, /cannot be "\."/);
  assert.match(validateTopicName('..')!, /cannot be "\.\."/);
  assert.match(validateTopicName('x'.repeat(250))!, /250 characters.*249/);
  for (const name of ['a b', 'a/b', 'tópico', 'a:b', 'a\u0000b', 'a*']) assert.match(validateTopicName(name)!, /may contain only/, name);
});

test('internal topic names are legal names but reserved for creation', () => {
  for (const name of ['__consumer_offsets', '__transaction_state', '__cluster_metadata']) {
    assert.ok(isInternalTopic(name));
    assert.equal(validateTopicName(name), null);
    assert.match(validateNewTopicName(name)!, /reserved/);
  }
  assert.equal(validateNewTopicName('__my_topic'), null);
  assert.match(validateNewTopicName('a b')!, /may contain only/);
  assert.equal(isInternalTopic('__my_topic'), false);
});

test("'.' and '_' collisions", () => {
  assert.ok(collides('a.b', 'a_b'));
  assert.ok(collides('a.b_c', 'a_b.c'));
  assert.ok(collides('same', 'same'));
  assert.ok(!collides('a.b', 'a-b'));
  assert.ok(!collides('a.b', 'a.bc'));
  assert.ok(hasCollisionChars('a.b') && hasCollisionChars('a_b') && !hasCollisionChars('a-b'));
  assert.equal(findCollision('metrics.cpu', ['other', 'metrics_cpu']), 'metrics_cpu');
  assert.equal(findCollision('metrics.cpu', ['metrics.cpu']), null, 'identical is not a collision');
  assert.equal(findCollision('plain', ['plain']), null);
});
