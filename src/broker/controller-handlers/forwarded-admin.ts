// Admin operations forwarded by other nodes to the active controller (controller-forwarder.ts):
// CreateTopics v7, DeleteTopics v6, CreatePartitions v3, AlterConfigs v2, IncrementalAlterConfigs
// v1 and AllocateProducerIds v0 (KIP-730). The forwarding broker has done its own checks (request
// shape, delete.topic.enable, broker-config prechecks); here the operation runs in the controller
// and is answered once committed. A node that is not the active controller answers every item
// NOT_CONTROLLER without doing anything, so the forwarder may retry elsewhere. Internal topics
// may be created only by a forwarder that says so with its client id.
import { defineHandler } from '../handler.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { PRODUCER_ID_BLOCK_SIZE } from '../../controller/producer-id-control.ts';
import type { Broker } from '../broker.ts';
import { INTERNAL_FORWARD_CLIENT_ID } from '../controller-forwarder.ts';

/** Runs `op` if this node is the active controller; a refusal becomes the error of every item. */
async function onActive<T>(broker: Broker, op: () => Promise<T>): Promise<T | KafkaError> {
  if (!broker.controller.isActive) return new KafkaError(ErrorCode.NOT_CONTROLLER, 'This node is not the active controller.');
  try {
    return await op();
  } catch (e) {
    if (e instanceof KafkaError) return e;
    broker.log(`forwarded controller operation failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'The operation failed in the controller.');
  }
}

export const FORWARDED_HANDLERS = [
  defineHandler(19, 7, 7, async (req, ctx) => {
    const internal = ctx.clientId === INTERNAL_FORWARD_CLIENT_ID;
    const out = await onActive(ctx.broker, () => ctx.broker.controller.createTopics(
      req.topics.map((t) => ({
        name: t.name, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor,
        assignments: t.assignments.map((a) => ({ partitionIndex: a.partitionIndex, brokerIds: a.brokerIds })),
        configs: t.configs.map((c) => ({ name: c.name, value: c.value })),
      })),
      { validateOnly: req.validateOnly, internal },
    ));
    if (out instanceof KafkaError) {
      return { throttleTimeMs: 0, topics: req.topics.map((t) => ({
        name: t.name, topicId: '00000000-0000-0000-0000-000000000000', errorCode: out.code, errorMessage: out.message,
        topicConfigErrorCode: 0, numPartitions: -1, replicationFactor: -1, configs: null,
      })) };
    }
    return { throttleTimeMs: 0, topics: out.map((r) => ({
      name: r.name, topicId: r.topicId, errorCode: r.errorCode, errorMessage: r.errorMessage, topicConfigErrorCode: 0,
      numPartitions: r.numPartitions, replicationFactor: r.replicationFactor, configs: r.configs.map((c) => ({ ...c })),
    })) };
  }),
  defineHandler(20, 6, 6, async (req, ctx) => {
    const names = req.topics.filter((t) => t.name !== null).map((t) => t.name!);
    const ids = req.topics.filter((t) => t.name === null).map((t) => t.topicId);
    const out = await onActive(ctx.broker, () => ctx.broker.controller.deleteTopics(names, ids));
    if (out instanceof KafkaError) {
      return { throttleTimeMs: 0, responses: req.topics.map((t) => ({ name: t.name, topicId: t.topicId, errorCode: out.code, errorMessage: out.message })) };
    }
    return { throttleTimeMs: 0, responses: out.map((r) => ({ ...r })) };
  }),
  defineHandler(37, 3, 3, async (req, ctx) => {
    const out = await onActive(ctx.broker, () => ctx.broker.controller.createPartitions(
      req.topics.map((t) => ({ name: t.name, count: t.count, assignments: t.assignments === null ? null : t.assignments.map((a) => a.brokerIds) })),
      req.validateOnly,
    ));
    if (out instanceof KafkaError) {
      return { throttleTimeMs: 0, results: req.topics.map((t) => ({ name: t.name, errorCode: out.code, errorMessage: out.message })) };
    }
    return { throttleTimeMs: 0, results: out.map((r) => ({ ...r })) };
  }),
  ...([33, 44] as const).map((apiKey) => defineHandler(apiKey, apiKey === 33 ? 2 : 1, apiKey === 33 ? 2 : 1, async (req: any, ctx) => {
    const resources = (req.resources as any[]).map((r) => ({
      resourceType: r.resourceType as number, resourceName: r.resourceName as string,
      ops: (r.configs as any[]).map((c) => ({ name: c.name as string, value: c.value as string | null, op: (c.configOperation ?? 0) as number })),
    }));
    const out = await onActive(ctx.broker, () => ctx.broker.controller.alterConfigs(resources, req.validateOnly, apiKey === 44));
    const responses = out instanceof KafkaError
      ? resources.map((r) => ({ errorCode: out.code, errorMessage: out.message, resourceType: r.resourceType, resourceName: r.resourceName }))
      : out.map((r) => ({ errorCode: r.errorCode, errorMessage: r.errorMessage, resourceType: r.resourceType, resourceName: r.resourceName }));
    return { throttleTimeMs: 0, responses };
  })),
  defineHandler(67, 0, 0, async (req, ctx) => {
    const out = await onActive(ctx.broker, () => ctx.broker.controller.allocateProducerIds(
      req.brokerId, PRODUCER_ID_BLOCK_SIZE, req.brokerEpoch < 0n ? null : req.brokerEpoch,
    ));
    if (out instanceof KafkaError) return { throttleTimeMs: 0, errorCode: out.code, producerIdStart: -1n, producerIdLen: 0 };
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerIdStart: out.firstProducerId, producerIdLen: out.size };
  }),
];
