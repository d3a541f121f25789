// DescribeConfigs answers for one resource: the effective config entries of a topic or a broker,
// with their sources (KIP-226), synonyms (v1+, when asked), type and documentation (v3+, KIP-569).
// Values come from src/config (the definitions) layered with the dynamic overrides in the metadata
// image, through the same ConfigSchema the controller validates with.
import { ErrorCode } from '../protocol/errors.ts';
import {
  createDescribeConfigsResourceResult, createDescribeConfigsResult,
  type DescribeConfigsResourceResult, type DescribeConfigsResult,
} from '../protocol/generated/describe-configs-response.ts';
import { CONFIG_SOURCE_ID, CONFIG_TYPE_ID, type ConfigEntry } from '../config/config-def.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import { validateTopicName } from '../config/topic-name.ts';
import { ConfigSchema } from '../controller/config-schema.ts';
import { ConfigResourceType, configsOf, type MetadataImage } from '../controller/image.ts';

export interface DescribeOptions {
  apiVersion: number;
  /** Null or empty: every key (Kafka's ConfigHelper reads both alike). Unknown names are left out without error. */
  keys: readonly string[] | null;
  includeSynonyms: boolean;
  includeDocumentation: boolean;
}

const schemas = new WeakMap<BrokerConfig, ConfigSchema>();

/** One ConfigSchema per static config, so its per-image cache of effective broker configs is shared. */
export function schemaFor(config: BrokerConfig): ConfigSchema {
  let s = schemas.get(config);
  if (s === undefined) schemas.set(config, (s = new ConfigSchema(config)));
  return s;
}

/** Maps config entries to the wire form of the request's version. */
export function toWireEntries(entries: readonly ConfigEntry[], opts: DescribeOptions): DescribeConfigsResourceResult[] {
  const wanted = opts.keys === null || opts.keys.length === 0 ? null : new Set(opts.keys);
  const out: DescribeConfigsResourceResult[] = [];
  for (const e of entries) {
    if (wanted !== null && !wanted.has(e.name)) continue;
    out.push(createDescribeConfigsResourceResult({
      name: e.name,
      value: e.isSensitive ? null : e.value,
      readOnly: e.readOnly,
      // v0 has is_default where later versions have config_source.
      isDefault: e.source === 'DEFAULT_CONFIG',
      configSource: CONFIG_SOURCE_ID[e.source],
      isSensitive: e.isSensitive,
      synonyms: opts.apiVersion >= 1 && opts.includeSynonyms
        ? e.synonyms.map((s) => ({ name: s.name, value: e.isSensitive ? null : s.value, source: CONFIG_SOURCE_ID[s.source] }))
        : [],
      configType: CONFIG_TYPE_ID[e.type],
      documentation: opts.apiVersion >= 3 && opts.includeDocumentation ? e.documentation : null,
    }));
  }
  return out;
}

function failed(resourceType: number, resourceName: string, errorCode: number, errorMessage: string): DescribeConfigsResult {
  return createDescribeConfigsResult({ resourceType, resourceName, errorCode, errorMessage, configs: [] });
}

/**
 * The answer for one resource, following Kafka's ConfigHelper: a topic must exist (an illegal
 * name is INVALID_TOPIC_EXCEPTION); a broker is this node's id (every broker key, effective value)
 * or "" (only the cluster-wide dynamic defaults); other names and types are INVALID_REQUEST.
 */
export function describeResource(
  image: MetadataImage,
  config: BrokerConfig,
  nodeId: number,
  resourceType: number,
  resourceName: string,
  opts: DescribeOptions,
): DescribeConfigsResult {
  const schema = schemaFor(config);
  let entries: ConfigEntry[];
  if (resourceType === ConfigResourceType.TOPIC) {
    const problem = validateTopicName(resourceName);
    if (problem !== null) return failed(resourceType, resourceName, ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    if (!image.topics.has(resourceName)) {
      return failed(resourceType, resourceName, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${resourceName}' does not exist.`);
    }
    const overrides = configsOf(image, `topic:${resourceName}`);
    entries = schema.topicConfig(image, nodeId, overrides).entries();
  } else if (resourceType === ConfigResourceType.BROKER) {
    if (resourceName === '') {
      const defaults = configsOf(image, 'broker:');
      const layered = defaults.size > 0 ? config.withDynamic(Object.fromEntries(defaults), 'DYNAMIC_DEFAULT_BROKER_CONFIG') : config;
      entries = layered.entries().filter((e) => defaults.has(e.name));
    } else if (!/^-?\d+$/.test(resourceName)) {
      return failed(resourceType, resourceName, ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${resourceName}`);
    } else if (Number(resourceName) !== nodeId) {
      return failed(resourceType, resourceName, ErrorCode.INVALID_REQUEST,
        `Unexpected broker id, expected ${nodeId} or empty string, but received ${resourceName}`);
    } else {
      entries = schema.brokerConfig(image, nodeId).entries();
    }
  } else {
    return failed(resourceType, resourceName, ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${resourceType}`);
  }
  return createDescribeConfigsResult({ resourceType, resourceName, configs: toWireEntries(entries, opts) });
}
