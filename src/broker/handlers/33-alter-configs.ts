// AlterConfigs (key 33), versions 0–2: replaces a resource's whole set of dynamic overrides (keys
// left out are removed). Resources: topics (2) and brokers (4; name "" for the cluster-wide
// default, or this node's id). As in Kafka's ConfigAdminManager, before the controller sees it a
// resource is refused with INVALID_REQUEST when it appears twice (every copy is answered), repeats
// a key, carries a null value (only IncrementalAlterConfigs' DELETE may), names another broker, or
// has an unknown type. A broker change the config layer refuses (unknown or read-only key, bad
// value) is INVALID_REQUEST too (Kafka keeps 42 there, KAFKA-13609); topic values are
// INVALID_CONFIG. Not implemented: authorization, AlterConfigPolicy; unlike Kafka, unknown broker
// keys are refused rather than stored.
import { defineHandler, type RequestContext } from '../handler.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { createAlterConfigsResponse } from '../../protocol/generated/alter-configs-response.ts';
import { brokerKeyDef, isBrokerKey } from '../../config/broker-keys.ts';
import { ConfigResourceType } from '../../controller/image.ts';
import { AlterConfigOp, type AlterConfigsResource } from '../../controller/config-control.ts';

export interface AlterOutcome {
  resourceType: number;
  resourceName: string;
  errorCode: number;
  errorMessage: string | null;
}

/** Kafka's broker-side checks of one resource; a KafkaError answers it without the controller. */
function precheck(r: AlterConfigsResource, nodeId: number, incremental: boolean): void {
  const seen = new Set<string>();
  for (const op of r.ops) {
    if (seen.has(op.name)) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
    seen.add(op.name);
  }
  const nulls = r.ops.filter((op) => op.value === null && !(incremental && op.op === AlterConfigOp.DELETE)).map((op) => op.name);
  if (nulls.length > 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
  if (r.resourceType === ConfigResourceType.TOPIC) return;
  if (r.resourceType !== ConfigResourceType.BROKER) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown resource type ${r.resourceType}`);
  }
  if (r.resourceName !== '') {
    if (!/^-?\d+$/.test(r.resourceName)) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${r.resourceName}`);
    }
    if (Number(r.resourceName) !== nodeId) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${nodeId}, but received ${r.resourceName}`);
    }
  }
  for (const op of r.ops) {
    // KIP-339: APPEND and SUBTRACT only apply to LIST keys (INVALID_CONFIG, as Kafka answers).
    if ((op.op === AlterConfigOp.APPEND || op.op === AlterConfigOp.SUBTRACT) && isBrokerKey(op.name) && brokerKeyDef(op.name).type !== 'LIST') {
      const verb = op.op === AlterConfigOp.APPEND ? 'append' : 'subtract';
      throw new KafkaError(ErrorCode.INVALID_CONFIG, `Config value ${verb} is not allowed for config key: ${op.name}`);
    }
  }
}

/**
 * Shared by AlterConfigs and IncrementalAlterConfigs: one outcome per request resource, in request
 * order. Resources that pass the broker-side checks go to the controller in one operation.
 */
export async function alterConfigResources(ctx: RequestContext, resources: AlterConfigsResource[], validateOnly: boolean, incremental: boolean): Promise<AlterOutcome[]> {
  const broker = ctx.broker;
  const id = (r: { resourceType: number; resourceName: string }) => `${r.resourceType}\u0000${r.resourceName}`;
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(id(r), (counts.get(id(r)) ?? 0) + 1);
  const early = new Map<AlterConfigsResource, KafkaError>();
  const forward: AlterConfigsResource[] = [];
  for (const r of resources) {
    if (counts.get(id(r))! > 1) {
      early.set(r, new KafkaError(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'));
      continue;
    }
    try {
      precheck(r, broker.settings.nodeId, incremental);
      forward.push(r);
    } catch (e) {
      if (!(e instanceof KafkaError)) throw e;
      early.set(r, e);
    }
  }
  const answers = new Map<string, { errorCode: number; errorMessage: string | null }>();
  if (forward.length > 0) {
    try {
      for (const a of await broker.controller.alterConfigs(forward, validateOnly, incremental)) {
        const brokerRefusal = a.resourceType === ConfigResourceType.BROKER && a.errorCode === ErrorCode.INVALID_CONFIG;
        answers.set(id(a), { errorCode: brokerRefusal ? ErrorCode.INVALID_REQUEST : a.errorCode, errorMessage: a.errorMessage });
      }
    } catch (e) {
      const err = e instanceof KafkaError ? e : new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'altering configs failed in the controller.');
      if (!(e instanceof KafkaError)) broker.log(`altering configs failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      for (const r of forward) answers.set(id(r), { errorCode: err.code, errorMessage: err.message });
    }
  }
  return resources.map((r) => {
    const e = early.get(r);
    const a = e !== undefined ? { errorCode: e.code, errorMessage: e.message } : answers.get(id(r))
      ?? { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'The controller returned no result for this resource.' };
    return { resourceType: r.resourceType, resourceName: r.resourceName, ...a };
  });
}

export default defineHandler(33, 0, 2, async (req, ctx) => {
  const resources = req.resources.map((r) => ({
    resourceType: r.resourceType,
    resourceName: r.resourceName,
    ops: r.configs.map((c) => ({ name: c.name, value: c.value, op: AlterConfigOp.SET })),
  }));
  return createAlterConfigsResponse({ responses: await alterConfigResources(ctx, resources, req.validateOnly, false) });
});
