// The controller's view of config definitions (src/config): which keys exist, their types, how a
// complete set of overrides is validated, and the effective values a topic ends up with.
//
// Dynamic broker configs live in the metadata image (ConfigRecord, resourceType 4): resource name ""
// is the cluster-wide default (DYNAMIC_DEFAULT_BROKER_CONFIG), "<id>" one broker
// (DYNAMIC_BROKER_CONFIG), layered over the static config file as in KIP-226. Topic overrides
// (DYNAMIC_TOPIC_CONFIG) sit on top of the broker's effective values for their synonym keys.

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import { brokerKeyDef, isBrokerKey } from '../config/broker-keys.ts';
import { CONFIG_SOURCE_ID } from '../config/config-def.ts';
import { resolveTopicConfig, type TopicConfig } from '../config/topic-config.ts';
import { isTopicKey, TOPIC_KEYS } from '../config/topic-keys.ts';
import { ConfigResourceType, configsOf, type MetadataImage } from './image.ts';

/** A config as CreateTopics v5+ reports it for a created topic. */
export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  /** DescribeConfigs config_source id (KIP-226): 1 topic, 2 broker, 3 broker default, 4 static, 5 default. */
  configSource: number;
  isSensitive: boolean;
}

function record(m: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of m) out[k] = v;
  return out;
}

/** Wraps a config-layer failure as INVALID_CONFIG, keeping a KafkaError's own message. */
function asInvalidConfig(e: unknown): KafkaError {
  if (e instanceof KafkaError) return e.code === ErrorCode.INVALID_CONFIG ? e : new KafkaError(ErrorCode.INVALID_CONFIG, e.message);
  return new KafkaError(ErrorCode.INVALID_CONFIG, e instanceof Error ? e.message : String(e));
}

export class ConfigSchema {
  readonly staticConfig: BrokerConfig;
  /** Effective broker config per image.configs map (a new map whenever any config changes). */
  readonly #cache = new WeakMap<object, Map<number, BrokerConfig>>();

  constructor(staticConfig: BrokerConfig) {
    this.staticConfig = staticConfig;
  }

  /** The broker's effective config: static, then the cluster default, then its own dynamic values. */
  brokerConfig(image: MetadataImage, brokerId: number): BrokerConfig {
    let perBroker = this.#cache.get(image.configs);
    if (perBroker === undefined) this.#cache.set(image.configs, (perBroker = new Map()));
    let c = perBroker.get(brokerId);
    if (c === undefined) {
      c = this.staticConfig;
      const defaults = configsOf(image, 'broker:');
      if (defaults.size > 0) c = c.withDynamic(record(defaults), 'DYNAMIC_DEFAULT_BROKER_CONFIG');
      const own = configsOf(image, `broker:${brokerId}`);
      if (own.size > 0) c = c.withDynamic(record(own), 'DYNAMIC_BROKER_CONFIG');
      perBroker.set(brokerId, c);
    }
    return c;
  }

  /** Resolves a topic's config; throws KafkaError(INVALID_CONFIG) naming the key. */
  topicConfig(image: MetadataImage, brokerId: number, overrides: ReadonlyMap<string, string>): TopicConfig {
    const broker = this.brokerConfig(image, brokerId);
    try {
      return resolveTopicConfig(record(overrides), broker);
    } catch (e) {
      throw asInvalidConfig(e);
    }
  }

  /** Checks one level of dynamic broker configs as a whole; throws KafkaError(INVALID_CONFIG). */
  validateBrokerConfigs(resourceName: string, overrides: ReadonlyMap<string, string>): void {
    const level = resourceName === '' ? 'DYNAMIC_DEFAULT_BROKER_CONFIG' : 'DYNAMIC_BROKER_CONFIG';
    try {
      this.staticConfig.withDynamic(record(overrides), level);
    } catch (e) {
      throw asInvalidConfig(e);
    }
  }

  isKnown(resourceType: number, name: string): boolean {
    return resourceType === ConfigResourceType.TOPIC ? isTopicKey(name) : isBrokerKey(name);
  }

  /** LIST-typed keys are the ones IncrementalAlterConfigs may APPEND to or SUBTRACT from (KIP-339). */
  isList(resourceType: number, name: string): boolean {
    if (resourceType === ConfigResourceType.TOPIC) return isTopicKey(name) && TOPIC_KEYS[name].def.type === 'LIST';
    return isBrokerKey(name) && brokerKeyDef(name).type === 'LIST';
  }

  /**
   * The value a key has at a resource when it has no override of its own; APPEND and SUBTRACT start
   * from it. For a topic that is the broker's effective value for the key (Kafka starts from the
   * topic default, ignoring broker-level values; starting from what is in force is what an operator
   * appending to it means).
   */
  inheritedValue(image: MetadataImage, brokerId: number, resourceType: number, resourceName: string, name: string): string | null {
    if (resourceType === ConfigResourceType.TOPIC) {
      if (!isTopicKey(name)) return null;
      return this.topicConfig(image, brokerId, new Map()).valueString(name);
    }
    if (!isBrokerKey(name)) return null;
    if (resourceName === '') return this.staticConfig.valueString(name);
    const defaults = configsOf(image, 'broker:');
    const base = defaults.size > 0 ? this.staticConfig.withDynamic(record(defaults), 'DYNAMIC_DEFAULT_BROKER_CONFIG') : this.staticConfig;
    return base.valueString(name);
  }

  describeTopic(config: TopicConfig): DescribedConfig[] {
    return config.entries().map((e) => ({
      name: e.name,
      value: e.isSensitive ? null : e.value,
      readOnly: e.readOnly,
      configSource: CONFIG_SOURCE_ID[e.source],
      isSensitive: e.isSensitive,
    }));
  }

  /** num.partitions and default.replication.factor in force on the controller node. */
  topicDefaults(image: MetadataImage, brokerId: number): { numPartitions: number; replicationFactor: number } {
    const c = this.brokerConfig(image, brokerId);
    return { numPartitions: c.get('num.partitions'), replicationFactor: c.get('default.replication.factor') };
  }
}
