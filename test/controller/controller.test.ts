import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';
import { Controller } from '../../src/controller/controller.ts';
import { FileMetadataLog, METADATA_LOG_FILE, METADATA_PARTITION_DIR } from '../../src/controller/file-metadata-log.ts';
import { isValidClusterId, randomClusterId } from '../../src/controller/ids.ts';
import { MemoryMetadataLog } from '../../src/controller/memory-metadata-log.ts';
import type { MetadataChanges } from '../../src/controller/metadata-delta.ts';
import type { MetadataImage } from '../../src/controller/image.ts';
import { decodeMetadataRecord } from '../../src/controller/record-codec.ts';
import { brokerConfig, CLUSTER_ID, listener, seeded, startController, topic } from './helpers.ts';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'brook-controller-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a new log is bootstrapped with metadata.version, then the local broker registers unfenced', async () => {
  const { controller, log } = await startController({ racks: ['rack-1'] });
  const records = (log as MemoryMetadataLog).records.map(decodeMetadataRecord);
  assert.deepEqual(records.map((r) => r.type), [12, 0]);
  assert.equal(controller.image.features.get('metadata.version'), 21);
  const b = controller.image.brokers.get(1)!;
  assert.deepEqual([b.fenced, b.rack, b.epoch, b.endpoints[0].port], [false, 'rack-1', 1n, 9092]);
  assert.equal(controller.clusterId, CLUSTER_ID);
});

test('a generated cluster id has Kafka\'s form', async () => {
  for (let seed = 1; seed < 50; seed++) {
    const id = randomClusterId(seeded(seed));
    assert.ok(isValidClusterId(id), id);
    assert.ok(!id.startsWith('-'));
  }
  const c = await Controller.start({ nodeId: 1, log: new MemoryMetadataLog(), brokerConfig: brokerConfig(), random: seeded(3) });
  assert.ok(isValidClusterId(c.clusterId));
});

test('restart from the file log restores topics, configs, brokers and producer id allocation', () =>
  withDir(async (dir) => {
    const opts = (seed: number) => ({
      nodeId: 1,
      brokerConfig: brokerConfig(),
      clusterId: CLUSTER_ID,
      random: seeded(seed),
      localBroker: { listeners: [listener(9092)], rack: null },
    });
    const first = await Controller.start({ ...opts(1), log: await FileMetadataLog.open(dir) });
    await first.createTopics([topic('kept', 3, 1, { 'retention.ms': '123' }), topic('gone', 1)], { validateOnly: false });
    await first.deleteTopics(['gone'], []);
    await first.createPartitions([{ name: 'kept', count: 4, assignments: null }], false);
    await first.alterConfigs([{ resourceType: 4, resourceName: '', ops: [{ name: 'log.retention.ms', value: '99', op: 0 }] }], false, true);
    const blockA = await first.allocateProducerIds(1);
    const blockB = await first.allocateProducerIds(1, 10);
    assert.deepEqual([blockA.firstProducerId, blockA.size, blockB.firstProducerId, blockB.size], [0n, 1000, 1000n, 10]);
    const live = first.image;
    await first.close();

    // Replay alone (no local broker registration) rebuilds exactly the live image.
    const replayed = await Controller.start({ ...opts(2), localBroker: undefined, log: await FileMetadataLog.open(dir) });
    assert.deepEqual(replayed.image, live);
    await replayed.close();

    const second = await Controller.start({ ...opts(3), log: await FileMetadataLog.open(dir) });
    const img = second.image;
    assert.deepEqual([...img.topics.keys()], ['kept']);
    assert.equal(img.topics.get('kept')!.id, live.topics.get('kept')!.id);
    assert.equal(img.topics.get('kept')!.partitions.size, 4);
    assert.equal(img.configs.get('topic:kept')!.get('retention.ms'), '123');
    assert.equal(img.configs.get('broker:')!.get('log.retention.ms'), '99');
    assert.ok(img.brokers.get(1)!.epoch > live.brokers.get(1)!.epoch, 're-registration gets a newer broker epoch');
    const blockC = await second.allocateProducerIds(1);
    assert.equal(blockC.firstProducerId, 1010n, 'producer ids never repeat across restarts');
    await second.close();
  }));

test('a torn tail of the metadata log loses only the unfinished operation', () =>
  withDir(async (dir) => {
    const opts = { nodeId: 1, brokerConfig: brokerConfig(), clusterId: CLUSTER_ID, localBroker: { listeners: [listener(9092)], rack: null } };
    const c = await Controller.start({ ...opts, random: seeded(1), log: await FileMetadataLog.open(dir) });
    assert.equal((await c.createTopics([topic('before', 2)], { validateOnly: false }))[0].errorCode, 0);
    assert.equal((await c.createTopics([topic('torn', 3)], { validateOnly: false }))[0].errorCode, 0);
    await c.close();
    const path = join(dir, METADATA_PARTITION_DIR, METADATA_LOG_FILE);
    await truncate(path, (await stat(path)).size - 10);
    const log = await FileMetadataLog.open(dir);
    assert.ok(log.recovery.truncatedBytes > 0);
    const again = await Controller.start({ ...opts, random: seeded(2), log });
    assert.deepEqual([...again.image.topics.keys()], ['before'], 'no half-created topic');
    const [r] = await again.createTopics([topic('torn', 3)], { validateOnly: false });
    assert.equal(r.errorCode, 0);
    await again.close();
  }));

test('listeners see each committed change once, with the new image', async () => {
  const { controller } = await startController();
  const seen: [MetadataImage, MetadataChanges][] = [];
  const off = controller.onChange((img, changes) => seen.push([img, changes]));
  await controller.createTopics([topic('l', 2)], { validateOnly: false });
  await controller.createTopics([topic('l', 2)], { validateOnly: false }); // fails: no records, no event
  assert.equal(seen.length, 1);
  assert.equal(seen[0][0], controller.image);
  assert.deepEqual(seen[0][1].topicsCreated.map((t) => t.name), ['l']);
  assert.equal(seen[0][1].partitionsCreated.length, 2);
  off();
  await controller.deleteTopics(['l'], []);
  assert.equal(seen.length, 1);
});

test('a throwing listener does not break the controller', async () => {
  const errors: unknown[] = [];
  const { controller } = await startController({ onListenerError: (e) => errors.push(e) });
  controller.onChange(() => {
    throw new Error('listener bug');
  });
  const [r] = await controller.createTopics([topic('ok')], { validateOnly: false });
  assert.equal(r.errorCode, 0);
  assert.equal(errors.length, 1);
  assert.ok(controller.image.topics.has('ok'));
});

test('a failed append changes nothing and the next operation works', async () => {
  const log = new MemoryMetadataLog();
  const { controller } = await startController({ log });
  const before = controller.image;
  log.failNextAppend();
  await assert.rejects(controller.createTopics([topic('x')], { validateOnly: false }), /injected/);
  assert.equal(controller.image, before);
  const [r] = await controller.createTopics([topic('x')], { validateOnly: false });
  assert.equal(r.errorCode, 0);
});

test('producer id allocation checks the broker and its epoch', async () => {
  const { controller } = await startController();
  const epoch = controller.image.brokers.get(1)!.epoch;
  await assert.rejects(controller.allocateProducerIds(9), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.BROKER_ID_NOT_REGISTERED);
  await assert.rejects(controller.allocateProducerIds(1, 1000, epoch + 5n), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.STALE_BROKER_EPOCH);
  await assert.rejects(controller.allocateProducerIds(1, 0), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_REQUEST);
  const block = await controller.allocateProducerIds(1, 1000, epoch);
  assert.equal(block.firstProducerId, 0n);
  assert.equal(controller.image.nextProducerId, 1000n);
});

test('concurrent operations are serialized in call order', async () => {
  const { controller } = await startController();
  const order: string[] = [];
  const a = controller.createTopics([topic('a.b')], { validateOnly: false }).then(([r]) => order.push(`a.b:${r.errorCode}`));
  const b = controller.createTopics([topic('a_b')], { validateOnly: false }).then(([r]) => order.push(`a_b:${r.errorCode}`));
  const c = controller.deleteTopics(['a.b'], []).then(([r]) => order.push(`del:${r.errorCode}`));
  await Promise.all([a, b, c]);
  assert.deepEqual(order, ['a.b:0', `a_b:${ErrorCode.INVALID_TOPIC_EXCEPTION}`, 'del:0']);
});

test('operations after close are refused', async () => {
  const { controller } = await startController();
  await controller.close();
  await assert.rejects(controller.createTopics([topic('late')], { validateOnly: false }), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.NOT_CONTROLLER);
});

test('registration: epochs grow, fenced by default, an unsupported metadata.version is refused', async () => {
  const { controller } = await startController();
  const { brokerEpoch: e1 } = await controller.registerBroker({ brokerId: 2, incarnationId: '00000000-0000-4000-8000-000000000002', listeners: [listener(9094)], rack: null });
  assert.equal(controller.image.brokers.get(2)!.fenced, true);
  const { brokerEpoch: e2 } = await controller.registerBroker({ brokerId: 2, incarnationId: '00000000-0000-4000-8000-000000000003', listeners: [listener(9094)], rack: null });
  assert.ok(e2 > e1);
  assert.equal(controller.image.brokers.get(2)!.epoch, e2);
  await assert.rejects(
    controller.registerBroker({
      brokerId: 3, incarnationId: '00000000-0000-4000-8000-000000000004', listeners: [], rack: null,
      features: [{ name: 'metadata.version', minSupportedVersion: 1, maxSupportedVersion: 7 }],
    }),
    (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.UNSUPPORTED_VERSION,
  );
});
