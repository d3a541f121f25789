// Where a controller with a replicated log runs an operation: here when this node is the active
// controller, at the active controller (the forwarder) when another node is, and — during an
// election or while this node is becoming active — wherever the quorum settles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, type ControllerForwarder, type ControllerQuorum } from '../../src/controller/controller.ts';
import { MemoryMetadataLog } from '../../src/controller/memory-metadata-log.ts';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';
import { brokerConfig, CLUSTER_ID, topic } from '../controller/helpers.ts';

function fakeQuorum(state: { active: boolean; leader: number }) {
  const forwarded: string[][] = [];
  let settle: () => void = () => undefined;
  const forwarder = {
    createTopics: async (topics) => {
      forwarded.push(topics.map((t) => t.name));
      return topics.map((t) => ({ name: t.name, topicId: '', errorCode: 0, errorMessage: null, numPartitions: 1, replicationFactor: 1, configs: [] }));
    },
  } as Partial<ControllerForwarder> as ControllerForwarder;
  const quorum: ControllerQuorum = {
    isActive: () => state.active,
    activeControllerId: () => state.leader,
    forwarder,
    whenSettled: () => new Promise<void>((r) => (settle = r)),
  };
  return { quorum, forwarded, settle: () => settle() };
}

async function controllerWith(quorum: ControllerQuorum): Promise<Controller> {
  return Controller.start({ nodeId: 1, log: new MemoryMetadataLog(), quorum, brokerConfig: brokerConfig(), clusterId: CLUSTER_ID });
}

test('another node is active: the operation is forwarded; broker lifecycle operations are refused', async () => {
  const state = { active: false, leader: 2 };
  const q = fakeQuorum(state);
  const c = await controllerWith(q.quorum);
  assert.equal(c.isActive, false);
  assert.equal(c.activeControllerId(), 2);
  const [r] = await c.createTopics([topic('fwd')], { validateOnly: false });
  assert.equal(r.errorCode, 0);
  assert.deepEqual(q.forwarded, [['fwd']]);
  await assert.rejects(c.fenceBroker(3), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.NOT_CONTROLLER);
});

test('this node leads but is not active yet: the operation waits and then runs here, not forwarded to itself', async () => {
  const state = { active: false, leader: 1 };
  const q = fakeQuorum(state);
  const c = await controllerWith(q.quorum);
  const pending = c.createTopics([topic('local')], { validateOnly: false });
  await new Promise((r) => setImmediate(r));
  state.active = true;
  q.settle();
  const [r] = await pending;
  // Ran in this controller: no broker is registered, so there is nowhere to place the replica.
  assert.equal(r.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  assert.deepEqual(q.forwarded, []);
});

test('no leader yet: the operation goes to whichever node the election makes active', async () => {
  const state = { active: false, leader: -1 };
  const q = fakeQuorum(state);
  const c = await controllerWith(q.quorum);
  const pending = c.createTopics([topic('later')], { validateOnly: false });
  await new Promise((r) => setImmediate(r));
  state.leader = 3;
  q.settle();
  await pending;
  assert.deepEqual(q.forwarded, [['later']]);
});
