// A single node runs the same Raft path as a cluster: a quorum of one voter. Its metadata survives
// restarts (from the log, and from a snapshot plus the log after it), and a data directory written
// by the single-node metadata log of earlier versions is imported.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBroker } from '../helpers/broker.ts';
import { Controller } from '../../src/controller/controller.ts';
import { FileMetadataLog, METADATA_PARTITION_DIR } from '../../src/controller/file-metadata-log.ts';
import { parseBrokerConfig } from '../../src/config/broker-config.ts';
import { writeMetaProperties } from '../../src/config/meta-properties.ts';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'brook-single-'));
  dirs.push(d);
  return d;
}

const topic = (name: string, numPartitions: number) => ({ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] });

test('a single node is its own active controller and its metadata survives restarts', async () => {
  const dir = await dataDir();
  let b = await startTestBroker({}, { dataDir: dir });
  assert.equal(b.broker.controller.isActive, true);
  assert.equal(b.broker.controllerId(), 1);
  assert.equal(b.broker.image.brokers.get(1)?.fenced, false);
  const [created] = await b.broker.controller.createTopics([topic('kept', 3)], { validateOnly: false });
  assert.equal(created.errorCode, 0);
  await b.broker.controller.alterConfigs([{ resourceType: 2, resourceName: 'kept', ops: [{ name: 'retention.ms', value: '12345', op: 0 }] }], false, true);
  const before = b.broker.image;
  await b.stop();

  b = await startTestBroker({}, { dataDir: dir });
  const image = b.broker.image;
  assert.equal(image.topics.get('kept')?.id, created.topicId);
  assert.equal(image.topics.get('kept')?.partitions.size, 3);
  assert.equal(image.configs.get('topic:kept')?.get('retention.ms'), '12345');
  assert.equal(image.brokers.get(1)?.fenced, false);
  assert.ok(image.metadataOffset > before.metadataOffset, 'the restart registered the broker again');
  assert.ok(image.brokers.get(1)!.epoch > before.brokers.get(1)!.epoch);
  await b.stop();
});

test('with frequent snapshots, a restart loads the snapshot and replays only the log after it', async () => {
  const dir = await dataDir();
  const props = { 'metadata.log.max.record.bytes.between.snapshots': '512' };
  let b = await startTestBroker(props, { dataDir: dir });
  for (let i = 0; i < 10; i++) {
    const [r] = await b.broker.controller.createTopics([topic(`t${i}`, 2)], { validateOnly: false });
    assert.equal(r.errorCode, 0);
  }
  const names = [...b.broker.image.topics.keys()].sort();
  await b.stop();
  const files = await readdir(join(dir, METADATA_PARTITION_DIR));
  const checkpoints = files.filter((f) => f.endsWith('.checkpoint'));
  assert.equal(checkpoints.length, 1, `one snapshot kept: ${files}`);
  const log = files.find((f) => f.endsWith('.log'))!;
  assert.equal(log.slice(0, 20), checkpoints[0].slice(0, 20), 'the log starts where the snapshot ends');

  b = await startTestBroker(props, { dataDir: dir });
  assert.deepEqual([...b.broker.image.topics.keys()].sort(), names);
  const [r] = await b.broker.controller.createTopics([topic('after', 1)], { validateOnly: false });
  assert.equal(r.errorCode, 0);
  await b.close();
});

test('a data directory of the earlier single-node metadata log is imported as the first snapshot', async () => {
  const dir = await dataDir();
  const config = parseBrokerConfig({ 'log.dirs': dir });
  const clusterId = 'MkU3OEVBNTcwNTJENDM2Qg';
  writeMetaProperties(dir, { nodeId: 1, clusterId, directoryId: 'AAAAAAAAAAAAAAAAAAAAAQ' });
  // What earlier versions wrote: <metadata.log.dir>/__cluster_metadata-0/__cluster_metadata-0/00000000000000000000.log.
  const legacy = await FileMetadataLog.open(join(dir, METADATA_PARTITION_DIR));
  const old = await Controller.start({
    nodeId: 1, log: legacy, brokerConfig: config, clusterId,
    localBroker: { listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 0 }], rack: null },
  });
  const [r] = await old.createTopics([topic('legacy', 2)], { validateOnly: false });
  await old.close();

  const b = await startTestBroker({}, { dataDir: dir });
  assert.equal(b.broker.image.topics.get('legacy')?.id, r.topicId);
  assert.equal(b.broker.image.clusterId, clusterId);
  const [again] = await b.broker.controller.createTopics([topic('legacy', 1)], { validateOnly: false });
  assert.equal(again.errorCode, 36, 'TOPIC_ALREADY_EXISTS: the imported topic is known to the controller');
  await b.close();
});
