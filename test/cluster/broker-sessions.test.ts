// Broker sessions on the active controller (src/controller/broker-heartbeats.ts) with an injected
// clock, over a controller with an in-memory log: registration, unfencing once caught up, fencing
// on session expiry (leaders move to another in-sync replica, never an unclean election unless
// the topic allows it), controlled shutdown. Also metadata snapshots of such an image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerHeartbeats } from '../../src/controller/broker-heartbeats.ts';
import { decodeImageSnapshot, diffImages, encodeImageSnapshot } from '../../src/controller/image-snapshot.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { CLUSTER_ID, listener, startController, topic } from '../controller/helpers.ts';

async function setup(localBrokerId: number | null = null) {
  const { controller } = await startController({ brokers: 1 });
  let now = 0;
  const lines: string[] = [];
  const hb = new BrokerHeartbeats(controller, { sessionTimeoutMs: 1000, clock: () => now, log: (l) => lines.push(l), localBrokerId });
  hb.setActive(true);
  const register = async (id: number) => {
    const r = await hb.register({
      brokerId: id, clusterId: CLUSTER_ID, incarnationId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
      listeners: [listener(9092 + id)], rack: null,
    }, false);
    assert.equal(r.errorCode, 0);
    return r.brokerEpoch;
  };
  const beat = (id: number, epoch: bigint, extra: { wantShutDown?: boolean } = {}) => hb.heartbeat({
    brokerId: id, brokerEpoch: epoch, currentMetadataOffset: controller.image.metadataOffset, wantFence: false, wantShutDown: extra.wantShutDown ?? false,
  });
  return { controller, hb, register, beat, advance: (ms: number) => (now += ms), lines };
}

test('a registered broker starts fenced and is unfenced by a heartbeat showing it caught up', async () => {
  const { controller, hb, register, beat } = await setup();
  const epoch = await register(2);
  assert.equal(controller.image.brokers.get(2)?.fenced, true);
  const behind = await hb.heartbeat({ brokerId: 2, brokerEpoch: epoch, currentMetadataOffset: Number(epoch) - 1, wantFence: false, wantShutDown: false });
  assert.deepEqual(behind, { errorCode: 0, isCaughtUp: false, isFenced: true, shouldShutDown: false });
  const r = await beat(2, epoch);
  assert.deepEqual(r, { errorCode: 0, isCaughtUp: true, isFenced: false, shouldShutDown: false });
  assert.equal(controller.image.brokers.get(2)?.fenced, false);
  assert.equal((await beat(2, epoch - 1n)).errorCode, ErrorCode.STALE_BROKER_EPOCH);
  assert.equal((await beat(9, 1n)).errorCode, ErrorCode.BROKER_ID_NOT_REGISTERED);
  const wrongCluster = await hb.register({ brokerId: 3, clusterId: 'AAAAAAAAAAAAAAAAAAAAAA', incarnationId: '00000000-0000-4000-8000-000000000003', listeners: [], rack: null }, false);
  assert.equal(wrongCluster.errorCode, ErrorCode.INCONSISTENT_CLUSTER_ID);
});

test('a broker without heartbeats for the session timeout is fenced; its leaderships move to in-sync replicas only', async () => {
  const { controller, hb, register, beat, advance } = await setup();
  const e2 = await register(2);
  const e3 = await register(3);
  await beat(2, e2);
  await beat(3, e3);
  await controller.createTopics([topic('rf3', 6, 3), topic('rf1', 6, 1)], { validateOnly: false });
  const led = (name: string) => [...controller.image.topics.get(name)!.partitions.values()].filter((p) => p.leader === 3);
  const rf3Before = led('rf3');
  const rf1Before = led('rf1');
  assert.ok(rf3Before.length > 0 && rf1Before.length > 0);

  advance(600);
  await beat(1, controller.image.brokers.get(1)!.epoch);
  await beat(2, e2);
  await hb.expireSessions();
  assert.equal(controller.image.brokers.get(3)?.fenced, false, 'within the session');
  advance(600);
  await beat(1, controller.image.brokers.get(1)!.epoch);
  await beat(2, e2);
  await hb.expireSessions();
  assert.equal(controller.image.brokers.get(3)?.fenced, true, 'session expired');

  const rf3 = controller.image.topics.get('rf3')!;
  for (const before of rf3Before) {
    const p = rf3.partitions.get(before.partition)!;
    assert.notEqual(p.leader, 3);
    assert.ok(before.isr.includes(p.leader), 'the new leader was in sync');
    assert.ok(!p.isr.includes(3));
    assert.equal(p.leaderEpoch, before.leaderEpoch + 1);
  }
  // RF 1, unclean election not allowed: no leader, the ISR keeps the only replica.
  for (const before of rf1Before) {
    const p = controller.image.topics.get('rf1')!.partitions.get(before.partition)!;
    assert.equal(p.leader, -1);
    assert.deepEqual(p.isr, [3]);
  }
  // Back: the broker registers again and is unfenced; it leads its RF 1 partitions again.
  const again = await register(3);
  await beat(3, again);
  for (const before of rf1Before) assert.equal(controller.image.topics.get('rf1')!.partitions.get(before.partition)!.leader, 3);
});

test('the broker in the active controller\'s own process keeps its session without heartbeats', async () => {
  const { controller, hb, register, beat, advance } = await setup(1);
  const e2 = await register(2);
  await beat(2, e2);
  advance(5000);
  await hb.expireSessions();
  assert.equal(controller.image.brokers.get(1)?.fenced, false);
  assert.equal(controller.image.brokers.get(2)?.fenced, true);
});

test('unclean.leader.election.enable lets a replica outside the ISR lead', async () => {
  const { controller, hb, register, beat, advance } = await setup();
  const e2 = await register(2);
  await beat(2, e2);
  await controller.createTopics([{
    name: 'dirty', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2, 1] }],
    configs: [{ name: 'unclean.leader.election.enable', value: 'true' }],
  }, {
    name: 'clean', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2, 1] }], configs: [],
  }], { validateOnly: false });
  // Broker 1 leaves the ISR first (it is fenced and comes back), then broker 2, the last in-sync replica, goes.
  await controller.fenceBroker(1);
  const e1 = await register(1);
  await beat(1, e1);
  for (const name of ['dirty', 'clean']) assert.deepEqual(controller.image.topics.get(name)!.partitions.get(0)!.isr, [2]);
  advance(1500);
  await beat(1, e1);
  await hb.expireSessions();
  const dirty = controller.image.topics.get('dirty')!.partitions.get(0)!;
  assert.equal(dirty.leader, 1);
  assert.deepEqual(dirty.isr, [1]);
  assert.equal(dirty.leaderRecoveryState, 1);
  const clean = controller.image.topics.get('clean')!.partitions.get(0)!;
  assert.equal(clean.leader, -1);
  assert.deepEqual(clean.isr, [2]);
});

test('controlled shutdown: the broker is fenced and its leaderships moved before it is told to go', async () => {
  const { controller, register, beat } = await setup();
  const e2 = await register(2);
  await beat(2, e2);
  await controller.createTopics([topic('t', 4, 2)], { validateOnly: false });
  assert.ok([...controller.image.topics.get('t')!.partitions.values()].some((p) => p.leader === 2));
  const r = await beat(2, e2, { wantShutDown: true });
  assert.deepEqual(r, { errorCode: 0, isCaughtUp: true, isFenced: true, shouldShutDown: true });
  for (const p of controller.image.topics.get('t')!.partitions.values()) {
    assert.equal(p.leader, 1);
    assert.deepEqual(p.isr, [1]);
  }
});

test('a metadata snapshot rebuilds an equal image, and its record offsets continue the log', async () => {
  const { controller, register, beat } = await setup();
  const e2 = await register(2);
  await beat(2, e2);
  await controller.createTopics([topic('a', 3, 2, { 'retention.ms': '1000' }), topic('b', 1, 1)], { validateOnly: false });
  await controller.alterConfigs([{ resourceType: 4, resourceName: '', ops: [{ name: 'log.retention.ms', value: '5000', op: 0 }] }], false, true);
  await controller.allocateProducerIds(1);
  await controller.deleteTopics(['b'], []);
  const image = controller.image;
  const back = decodeImageSnapshot(encodeImageSnapshot(image, 1234), CLUSTER_ID);
  assert.deepEqual(back, image);
  const changes = diffImages(image, back);
  assert.deepEqual([changes.topicsCreated.length, changes.topicsDeleted.length, changes.partitionsChanged.length, changes.brokersChanged.length], [0, 0, 0, 0]);
  const fromEmpty = diffImages(decodeImageSnapshot(encodeImageSnapshot({ ...image, topics: new Map(), topicsById: new Map(), metadataOffset: image.metadataOffset }, 0), CLUSTER_ID), back);
  assert.deepEqual(fromEmpty.topicsCreated.map((t) => t.name), ['a']);
  assert.equal(fromEmpty.partitionsCreated.length, 3);
});
