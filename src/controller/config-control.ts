// AlterConfigs and IncrementalAlterConfigs (Kafka's ConfigurationControlManager).
//
// - Legacy AlterConfigs replaces the resource's whole set of dynamic overrides: keys not in the
//   request are deleted, a null value means "no override".
// - IncrementalAlterConfigs (KIP-339) applies ops to the current overrides: SET (0), DELETE (1),
//   APPEND (2) and SUBTRACT (3); the last two only for LIST-typed keys, starting from the inherited
//   value when the resource has no override (see ConfigSchema.inheritedValue).
// The resulting set is validated as a whole; only keys whose value changes produce ConfigRecords
// (value null = delete).
//
// Resources: topic (2) — must exist; broker (4) — name "" for the cluster-wide default or a broker
// id. Errors per resource: INVALID_REQUEST (42) for a duplicate resource, duplicate keys, an
// unknown op or resource type, a bad broker name or a null value where one is needed;
// UNKNOWN_TOPIC_OR_PARTITION (3); INVALID_CONFIG (40) for unknown keys, bad values, read-only broker
// keys and APPEND/SUBTRACT on a non-list key.

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import type { ApiErrorFields, ControlContext, ControllerResult } from './control-context.ts';
import { ConfigResourceType, configKey, configsOf } from './image.ts';
import { metadataRecord, type MetadataRecord } from './record-codec.ts';

export const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface AlterConfigsResource {
  resourceType: number;
  resourceName: string;
  /** `op` is ignored by legacy AlterConfigs. */
  ops: { name: string; value: string | null; op: number }[];
}

export interface AlterConfigsResult extends ApiErrorFields {
  resourceType: number;
  resourceName: string;
}

function invalidRequest(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_REQUEST, message);
}

/** Comma-separated list items as Kafka's ConfigDef reads them (trimmed, empties dropped). */
function listItems(value: string | null): string[] {
  if (value === null) return [];
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function checkResource(ctx: ControlContext, r: AlterConfigsResource): void {
  if (r.resourceType === ConfigResourceType.TOPIC) {
    if (!ctx.image.topics.has(r.resourceName)) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${r.resourceName}' does not exist.`);
    }
  } else if (r.resourceType === ConfigResourceType.BROKER) {
    if (r.resourceName !== '' && !/^(0|[1-9][0-9]{0,9})$/.test(r.resourceName)) {
      throw invalidRequest(`Invalid broker name '${r.resourceName}': an id or "" for the cluster default.`);
    }
  } else {
    throw invalidRequest(`Unsupported resource type ${r.resourceType}.`);
  }
  const seen = new Set<string>();
  for (const op of r.ops) {
    if (seen.has(op.name)) throw invalidRequest('Error due to duplicate config keys.');
    seen.add(op.name);
  }
}

/** The resource's overrides after the request. */
function nextOverrides(ctx: ControlContext, r: AlterConfigsResource, incremental: boolean): Map<string, string> {
  const key = configKey(r.resourceType, r.resourceName)!;
  if (!incremental) {
    const next = new Map<string, string>();
    for (const op of r.ops) if (op.value !== null) next.set(op.name, op.value);
    return next;
  }
  const next = new Map(configsOf(ctx.image, key));
  for (const op of r.ops) {
    switch (op.op) {
      case AlterConfigOp.SET:
        if (op.value === null) throw invalidRequest(`Null value not supported for SET of '${op.name}'.`);
        next.set(op.name, op.value);
        break;
      case AlterConfigOp.DELETE:
        next.delete(op.name);
        break;
      case AlterConfigOp.APPEND:
      case AlterConfigOp.SUBTRACT: {
        const verb = op.op === AlterConfigOp.APPEND ? 'APPEND' : 'SUBTRACT';
        if (!ctx.schema.isKnown(r.resourceType, op.name)) {
          throw new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown config '${op.name}'.`);
        }
        if (!ctx.schema.isList(r.resourceType, op.name)) {
          throw new KafkaError(ErrorCode.INVALID_CONFIG, `Can't ${verb} to key ${op.name} because its type is not LIST.`);
        }
        if (op.value === null) throw invalidRequest(`Null value not supported for ${verb} of '${op.name}'.`);
        const base = next.get(op.name) ?? ctx.schema.inheritedValue(ctx.image, ctx.nodeId, r.resourceType, r.resourceName, op.name);
        const items = listItems(base);
        const given = listItems(op.value);
        const result = op.op === AlterConfigOp.APPEND
          ? [...items, ...given.filter((v, i) => !items.includes(v) && given.indexOf(v) === i)]
          : items.filter((v) => !given.includes(v));
        next.set(op.name, result.join(','));
        break;
      }
      default:
        throw invalidRequest(`Unknown alter config operation ${op.op} for '${op.name}'.`);
    }
  }
  return next;
}

function alterOne(ctx: ControlContext, r: AlterConfigsResource, incremental: boolean): MetadataRecord[] {
  checkResource(ctx, r);
  const next = nextOverrides(ctx, r, incremental);
  if (r.resourceType === ConfigResourceType.TOPIC) ctx.schema.topicConfig(ctx.image, ctx.nodeId, next);
  else ctx.schema.validateBrokerConfigs(r.resourceName, next);
  const current = configsOf(ctx.image, configKey(r.resourceType, r.resourceName)!);
  const records: MetadataRecord[] = [];
  const emit = (name: string, value: string | null) =>
    records.push(metadataRecord(T.ConfigRecord, { resourceType: r.resourceType, resourceName: r.resourceName, name, value }));
  for (const [name, value] of next) if (current.get(name) !== value) emit(name, value);
  for (const name of current.keys()) if (!next.has(name)) emit(name, null);
  return records;
}

export function alterConfigs(
  ctx: ControlContext,
  resources: readonly AlterConfigsResource[],
  validateOnly: boolean,
  incremental: boolean,
): ControllerResult<AlterConfigsResult[]> {
  const id = (r: AlterConfigsResource) => `${r.resourceType}:${r.resourceName}`;
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(id(r), (counts.get(id(r)) ?? 0) + 1);
  const records: MetadataRecord[] = [];
  const results: AlterConfigsResult[] = [];
  const answered = new Set<string>();
  for (const r of resources) {
    if (answered.has(id(r))) continue;
    answered.add(id(r));
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    if (counts.get(id(r))! > 1) {
      results.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate resource in the request.' });
      continue;
    }
    try {
      const changes = alterOne(ctx, r, incremental);
      if (!validateOnly) records.push(...changes);
      results.push({ ...base, errorCode: ErrorCode.NONE, errorMessage: null });
    } catch (e) {
      if (!(e instanceof KafkaError)) throw e;
      results.push({ ...base, errorCode: e.code, errorMessage: e.message });
    }
  }
  return { records, response: results };
}
