import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { AlterConfigOp as Op } from '../../src/controller/config-control.ts';
import { startController, topic } from './helpers.ts';

const TOPIC = 2;
const BROKER = 4;

async function withTopic() {
  const f = await startController();
  await f.controller.createTopics([topic('t', 1, 1, { 'retention.ms': '1000', 'segment.ms': '60000' })], { validateOnly: false });
  return f.controller;
}

test('legacy AlterConfigs replaces the whole set of overrides', async () => {
  const controller = await withTopic();
  const [r] = await controller.alterConfigs(
    [{ resourceType: TOPIC, resourceName: 't', ops: [{ name: 'retention.ms', value: '2000', op: 0 }, { name: 'flush.ms', value: null, op: 0 }] }],
    false,
    false,
  );
  assert.deepEqual([r.errorCode, r.errorMessage], [0, null]);
  assert.deepEqual([...controller.image.configs.get('topic:t')!], [['retention.ms', '2000']]);
});

test('incremental SET and DELETE change only the named keys', async () => {
  const controller = await withTopic();
  await controller.alterConfigs(
    [
      {
        resourceType: TOPIC,
        resourceName: 't',
        ops: [
          { name: 'retention.ms', value: null, op: Op.DELETE },
          { name: 'max.message.bytes', value: '2048', op: Op.SET },
        ],
      },
    ],
    false,
    true,
  );
  assert.deepEqual(Object.fromEntries(controller.image.configs.get('topic:t')!), { 'segment.ms': '60000', 'max.message.bytes': '2048' });
});

test('APPEND and SUBTRACT on a list config start from the inherited value; not allowed on other types', async () => {
  const controller = await withTopic();
  const alter = (ops: { name: string; value: string | null; op: number }[]) =>
    controller.alterConfigs([{ resourceType: TOPIC, resourceName: 't', ops }], false, true);
  let [r] = await alter([{ name: 'cleanup.policy', value: 'compact', op: Op.APPEND }]);
  assert.equal(r.errorCode, 0, r.errorMessage ?? '');
  assert.equal(controller.image.configs.get('topic:t')!.get('cleanup.policy'), 'delete,compact');
  [r] = await alter([{ name: 'cleanup.policy', value: 'compact', op: Op.APPEND }]);
  assert.equal(controller.image.configs.get('topic:t')!.get('cleanup.policy'), 'delete,compact', 'no duplicates');
  [r] = await alter([{ name: 'cleanup.policy', value: 'delete', op: Op.SUBTRACT }]);
  assert.equal(controller.image.configs.get('topic:t')!.get('cleanup.policy'), 'compact');
  [r] = await alter([{ name: 'retention.ms', value: '5', op: Op.APPEND }]);
  assert.equal(r.errorCode, ErrorCode.INVALID_CONFIG);
  [r] = await alter([{ name: 'cleanup.policy', value: 'compact', op: 9 }]);
  assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
  [r] = await alter([{ name: 'cleanup.policy', value: null, op: Op.SET }]);
  assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
  // Subtracting the last item leaves an empty list, which cleanup.policy does not accept.
  [r] = await alter([{ name: 'cleanup.policy', value: 'compact', op: Op.SUBTRACT }]);
  assert.equal(r.errorCode, ErrorCode.INVALID_CONFIG);
});

test('AlterConfigs errors per resource', async () => {
  const controller = await withTopic();
  const before = controller.image.configs;
  const results = await controller.alterConfigs(
    [
      { resourceType: TOPIC, resourceName: 'missing', ops: [{ name: 'retention.ms', value: '1', op: 0 }] },
      { resourceType: TOPIC, resourceName: 't', ops: [{ name: 'retention.ms', value: 'x', op: 0 }] },
      { resourceType: TOPIC, resourceName: 't', ops: [] },
      { resourceType: BROKER, resourceName: 'one', ops: [] },
      { resourceType: 8, resourceName: '1', ops: [] },
      { resourceType: BROKER, resourceName: '1', ops: [{ name: 'log.retention.ms', value: '1', op: 0 }, { name: 'log.retention.ms', value: '2', op: 0 }] },
      { resourceType: BROKER, resourceName: '', ops: [{ name: 'node.id', value: '7', op: 0 }] },
      { resourceType: BROKER, resourceName: '', ops: [{ name: 'no.such.key', value: '7', op: 0 }] },
    ],
    false,
    true,
  );
  assert.deepEqual(results.map((r) => [r.resourceType, r.resourceName, r.errorCode]), [
    [TOPIC, 'missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    [TOPIC, 't', ErrorCode.INVALID_REQUEST], // given twice
    [BROKER, 'one', ErrorCode.INVALID_REQUEST],
    [8, '1', ErrorCode.INVALID_REQUEST],
    [BROKER, '1', ErrorCode.INVALID_REQUEST], // duplicate key
    [BROKER, '', ErrorCode.INVALID_REQUEST], // given twice
  ]);
  const [bad] = await controller.alterConfigs(
    [{ resourceType: TOPIC, resourceName: 't', ops: [{ name: 'retention.ms', value: 'x', op: 0 }] }], false, true);
  assert.equal(bad.errorCode, ErrorCode.INVALID_CONFIG);
  const [readOnly] = await controller.alterConfigs(
    [{ resourceType: BROKER, resourceName: '', ops: [{ name: 'node.id', value: '7', op: 0 }] }], false, true);
  assert.equal(readOnly.errorCode, ErrorCode.INVALID_CONFIG);
  const [unknown] = await controller.alterConfigs(
    [{ resourceType: BROKER, resourceName: '1', ops: [{ name: 'no.such.key', value: '7', op: 0 }] }], false, true);
  assert.equal(unknown.errorCode, ErrorCode.INVALID_CONFIG);
  assert.equal(controller.image.configs, before, 'nothing written');
});

test('dynamic broker configs: cluster default and per broker, feeding topic defaults; validateOnly writes nothing', async () => {
  const controller = await withTopic();
  const [v] = await controller.alterConfigs(
    [{ resourceType: BROKER, resourceName: '', ops: [{ name: 'log.retention.ms', value: '777', op: 0 }] }], true, true);
  assert.equal(v.errorCode, 0, v.errorMessage ?? '');
  assert.equal(controller.image.configs.has('broker:'), false);
  await controller.alterConfigs(
    [
      { resourceType: BROKER, resourceName: '', ops: [{ name: 'log.retention.ms', value: '777', op: 0 }] },
      { resourceType: BROKER, resourceName: '1', ops: [{ name: 'log.segment.bytes', value: '1048576', op: 0 }] },
    ],
    false,
    true,
  );
  assert.equal(controller.image.configs.get('broker:')!.get('log.retention.ms'), '777');
  assert.equal(controller.image.configs.get('broker:1')!.get('log.segment.bytes'), '1048576');
  const [r] = await controller.createTopics([topic('u')], { validateOnly: true });
  const byName = new Map(r.configs.map((c) => [c.name, c]));
  assert.deepEqual([byName.get('retention.ms')!.value, byName.get('retention.ms')!.configSource], ['777', 3]);
  assert.deepEqual([byName.get('segment.bytes')!.value, byName.get('segment.bytes')!.configSource], ['1048576', 2]);
});

test('setting a value it already has writes no record', async () => {
  const controller = await withTopic();
  const offset = controller.image.metadataOffset;
  const [r] = await controller.alterConfigs(
    [{ resourceType: TOPIC, resourceName: 't', ops: [{ name: 'retention.ms', value: '1000', op: Op.SET }] }], false, true);
  assert.equal(r.errorCode, 0);
  assert.equal(controller.image.metadataOffset, offset);
});
