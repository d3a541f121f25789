// Committed offsets and settled groups survive a broker restart: the coordinator rebuilds them
// from __consumer_offsets. Checked with kafkajs and confluent-kafka-python members.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemberProcess, eventually } from './member-process.ts';
import { GroupTestCluster } from './cluster.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { createOffsetCommitRequest } from '../../src/protocol/generated/offset-commit-request.ts';

const PY_MEMBER = fileURLToPath(new URL('./py/member.py', import.meta.url));
let dataDir = '';
const clusters: GroupTestCluster[] = [];
const procs: MemberProcess[] = [];

after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  for (const c of clusters) await c.stop(true);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function start(): Promise<GroupTestCluster> {
  const c = new GroupTestCluster();
  clusters.push(c);
  await c.start(dataDir);
  return c;
}

function pyMember(c: GroupTestCluster, group: string, topic: string): MemberProcess {
  const m = new MemberProcess('/usr/bin/python3', [PY_MEMBER, JSON.stringify({ bootstrap: c.broker.bootstrap, group, topics: [topic] })]);
  procs.push(m);
  return m;
}

test('committed offsets (with metadata) survive a broker restart, and consumers resume from them', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'brook-groups-restart-'));
  let c = await start();
  const topic = 'restart-topic';
  await c.createTopic(topic, 3);
  await c.produce(topic, 3, 4, 'before');

  // confluent-kafka: consume and commit everything, then leave.
  const py = pyMember(c, 'py-group', topic);
  await py.waitFor(() => py.records().length >= 12, 30_000, 'confluent member consumed');
  await eventually(async () => [...(await c.committed('py-group', topic)).values()].every((o) => o === 4), 15_000, 'confluent commits');
  await py.close();

  // kafkajs admin commits (generation -1), and a raw OffsetCommit v8 carrying metadata.
  await c.admin.setOffsets({ groupId: 'admin-group', topic, partitions: [{ partition: 0, offset: '2' }, { partition: 2, offset: '3' }] });
  const conn = await KafkaConnection.connect(c.broker.host, c.broker.port);
  const res = await conn.send(8, 8, createOffsetCommitRequest({ groupId: 'kjs-group', topics: [{ name: topic, partitions: [
    { partitionIndex: 1, committedOffset: 3n, committedLeaderEpoch: 0, commitTimestamp: -1n, committedMetadata: 'kept-across-restarts' },
  ] }] }));
  conn.close();
  assert.equal(res.topics[0].partitions[0].errorCode, 0);
  const before = {
    py: await c.committed('py-group', topic),
    admin: await c.committed('admin-group', topic),
    kjs: await c.admin.fetchOffsets({ groupId: 'kjs-group', topics: [topic] }),
  };

  await c.stop(true);
  c = await start();
  assert.deepEqual(await c.committed('py-group', topic), before.py);
  assert.deepEqual(await c.committed('admin-group', topic), before.admin);
  const kjs = await c.admin.fetchOffsets({ groupId: 'kjs-group', topics: [topic] });
  assert.deepEqual(kjs, before.kjs);
  assert.equal(kjs[0].partitions.find((p) => p.partition === 1)!.metadata, 'kept-across-restarts');
  const groups = (await c.admin.listGroups()).groups.map((g) => g.groupId).sort();
  assert.deepEqual(groups, ['admin-group', 'kjs-group', 'py-group']);
  assert.equal((await c.describe('py-group')).state, 'Empty');

  // The confluent group resumes after its commits: only the new records.
  const fresh = await c.produce(topic, 3, 2, 'after');
  const py2 = pyMember(c, 'py-group', topic);
  await py2.waitFor(() => py2.records().length >= fresh.length, 30_000, 'resumed consumption');
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(py2.records().map((r) => r.value).sort(), [...fresh].sort());
  await py2.close();
});
