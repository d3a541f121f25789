// Brook's group consumer (classic protocol) and group admin against an in-process broker: range
// (eager) and cooperative-sticky (KIP-429) rebalances, commits and resuming, describe/list/delete.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { Client } from '../../src/client/client.ts';
import { Admin } from '../../src/client/admin.ts';
import { Producer } from '../../src/client/producer.ts';
import { GroupConsumer, type GroupConsumerOptions } from '../../src/client/group/group-consumer.ts';
import type { ConsumerRecord, TopicPartition } from '../../src/client/consumer.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';

const FAST = { heartbeatIntervalMs: 100, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 10_000, autoOffsetReset: 'earliest' as const };

/** Polls every consumer until `done()` or 20 s; returns what each one got. */
async function pollAll(consumers: GroupConsumer[], done: (got: ConsumerRecord[][]) => boolean): Promise<ConsumerRecord[][]> {
  const got: ConsumerRecord[][] = consumers.map(() => []);
  const deadline = Date.now() + 20_000;
  while (!done(got) && Date.now() < deadline) {
    const batches = await Promise.all(consumers.map((c) => c.poll({ timeoutMs: 100 })));
    batches.forEach((b, i) => got[i].push(...b));
  }
  return got;
}

const key = (p: TopicPartition) => `${p.topic}-${p.partition}`;

describe('group consumer against Brook', () => {
  let b: TestBroker;
  let client: Client;
  let admin: Admin;

  before(async () => {
    b = await startTestBroker({ 'num.partitions': '4', 'group.initial.rebalance.delay.ms': '0' }, { quiet: true });
    client = new Client({ brokers: b.bootstrap });
    admin = new Admin(client);
    await admin.createTopics([{ name: 'events', partitions: 4 }, { name: 'coop', partitions: 6 }, { name: 'resume', partitions: 2 }]);
    const p = new Producer(client);
    await Promise.all(Array.from({ length: 400 }, (_, i) => p.send({ topic: 'events', key: `k${i}`, value: `e${i}` })));
  });
  after(async () => {
    client?.close();
    await b?.close();
  });

  const member = (opts: Partial<GroupConsumerOptions> & { groupId: string; topics: string[] }) =>
    new GroupConsumer({ brokers: b.bootstrap }, { ...FAST, ...opts });

  test('range: a second member splits the partitions; together they read every record exactly once', async () => {
    const one = member({ groupId: 'range-group', topics: ['events'] });
    await one.start();
    assert.equal(one.assignment().length, 4);
    assert.equal(one.protocol, 'range');
    const early = await pollAll([one], (g) => g[0].length >= 100);
    const two = member({ groupId: 'range-group', topics: ['events'] });
    const joined = two.start();
    const rest = await pollAll([one, two], (g) => early[0].length + g[0].length + g[1].length >= 400 && two.assignment().length > 0);
    await joined;
    assert.deepEqual([one.assignment().length, two.assignment().length], [2, 2]);
    const seen = [...early[0], ...rest[0], ...rest[1]].map((r) => `${r.partition}/${r.offset}`);
    assert.equal(new Set(seen).size, seen.length, 'no record twice');
    assert.equal(seen.length, 400);
    const described = (await admin.describeGroups(['range-group']))[0];
    assert.equal(described.state, 'Stable');
    assert.equal(described.protocol, 'range');
    assert.deepEqual(described.members.map((m) => m.assignment ? [...m.assignment.values()].flat().length : 0).sort(), [2, 2]);
    const [refused] = await admin.deleteGroups(['range-group']);
    assert.equal(refused.error?.code, ErrorCode.NON_EMPTY_GROUP);
    await Promise.all([one.close(), two.close()]);
    const committed = await admin.fetchOffsets('range-group');
    const ends = new Map<number, number>();
    for (const r of [...early[0], ...rest[0], ...rest[1]]) ends.set(r.partition, Math.max(ends.get(r.partition) ?? 0, r.offset + 1));
    for (const c of committed) assert.equal(c.offset, ends.get(c.partition), `committed offset of partition ${c.partition}`);
    assert.ok((await admin.listGroups()).some((g) => g.groupId === 'range-group' && g.state === 'Empty'));
    const [deleted] = await admin.deleteGroups(['range-group']);
    assert.equal(deleted.error, null);
  });

  test('cooperative-sticky: the first member keeps what it is not asked to give up', async () => {
    const revoked: string[] = [];
    const one = member({ groupId: 'coop-group', topics: ['coop'], assignors: ['cooperative-sticky'], onRevoked: (ps) => revoked.push(...ps.map(key)) });
    await one.start();
    const before = one.assignment().map(key).sort();
    assert.equal(before.length, 6);
    const two = member({ groupId: 'coop-group', topics: ['coop'], assignors: ['cooperative-sticky'] });
    const joined = two.start();
    await pollAll([one, two], () => one.assignment().length === 3 && two.assignment().length === 3);
    await joined;
    assert.equal(one.protocol, 'cooperative-sticky');
    assert.deepEqual([one.assignment().length, two.assignment().length], [3, 3]);
    assert.equal(revoked.length, 3, 'only the partitions that moved were revoked');
    for (const p of one.assignment().map(key)) assert.ok(before.includes(p) && !revoked.includes(p));
    assert.deepEqual([...one.assignment(), ...two.assignment()].map(key).sort(), before);
    await Promise.all([one.close(), two.close()]);
  });

  test('committed offsets survive the member: a new one resumes after them', async () => {
    const p = new Producer(client);
    for (let i = 0; i < 10; i++) await p.send({ topic: 'resume', partition: 0, value: `r${i}` });
    const first = member({ groupId: 'resume-group', topics: ['resume'], autoCommit: false });
    const got = await pollAll([first], (g) => g[0].length >= 10);
    assert.equal(got[0].length, 10);
    await first.commit([{ topic: 'resume', partition: 0, offset: 6 }]);
    await first.close();
    const second = member({ groupId: 'resume-group', topics: ['resume'] });
    const again = await pollAll([second], (g) => g[0].length >= 4);
    assert.deepEqual(again[0].map((r) => r.value!.toString()), ['r6', 'r7', 'r8', 'r9']);
    await second.close();
    const offsets = await admin.fetchOffsets('resume-group', [{ topic: 'resume', partitions: [0, 1] }]);
    assert.equal(offsets.find((o) => o.partition === 0)?.offset, 10);
    assert.equal(offsets.find((o) => o.partition === 1)?.offset, 0, 'an empty partition is committed at its position, as Kafka\'s consumer does');
  });

  test('admin commits for an empty group and deletes offsets', async () => {
    await admin.commitOffsets('admin-group', [{ topic: 'events', partition: 0, offset: 5, metadata: 'set by test' }]);
    const [o] = await admin.fetchOffsets('admin-group', [{ topic: 'events', partitions: [0] }]);
    assert.deepEqual([o.offset, o.metadata], [5, 'set by test']);
    await admin.deleteOffsets('admin-group', [{ topic: 'events', partition: 0 }]);
    const [gone] = await admin.fetchOffsets('admin-group', [{ topic: 'events', partitions: [0] }]);
    assert.equal(gone.offset, -1);
  });
});
