// A broker-only node (`process.roles=broker`) next to a three-voter quorum: it follows the
// metadata log as a Raft observer, registers with the active controller, gets partitions, forwards
// admin requests, and a controlled shutdown (SIGTERM) fences it and takes its leaderships away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnBroker, type SpawnedBroker } from '../helpers/broker.ts';
import { createTopic, metadata, startCluster, type TestCluster } from './cluster-helper.ts';

let cluster: TestCluster;
let observer: SpawnedBroker | null = null;
let dir = '';

before(async () => {
  cluster = await startCluster();
  dir = await mkdtemp(join(tmpdir(), 'brook-observer-'));
  const voters = cluster.members.map((m) => `${m.id}@127.0.0.1:${m.controllerPort}`).join(',');
  observer = await spawnBroker({
    dataDir: dir,
    set: { 'process.roles': 'broker', 'node.id': '4', 'controller.quorum.voters': voters, 'controller.listener.names': 'CONTROLLER' },
  });
});

after(async () => {
  await observer?.kill().catch(() => undefined);
  await cluster?.destroy();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

test('a broker-only node joins as the fourth broker and forwards topic creation', async () => {
  const md = await metadata(observer!.port);
  assert.deepEqual(md.brokers.map((b) => b.nodeId).sort(), [1, 2, 3, 4]);
  assert.ok([1, 2, 3].includes(md.controllerId), 'a voter is the controller');
  const res = await createTopic(observer!.port, 'eight', 8);
  assert.equal(res.topics[0].errorCode, 0, res.topics[0].errorMessage ?? '');
  const leaders = (await metadata(cluster.members[0].port, ['eight'])).topics[0].partitions.map((p) => p.leaderId);
  assert.deepEqual([1, 2, 3, 4].map((id) => leaders.filter((l) => l === id).length), [2, 2, 2, 2]);
});

test('SIGTERM on the broker-only node moves its leaderships away before it exits', async () => {
  assert.equal(await observer!.stop(), 0);
  observer = null;
  const md = await metadata(cluster.members[0].port, ['eight']);
  assert.deepEqual(md.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
  assert.ok(md.topics[0].partitions.every((p) => p.leaderId !== 4));
});
