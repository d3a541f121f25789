// A topic's effective configuration: its own overrides (DYNAMIC_TOPIC_CONFIG) over the broker's
// effective values for the synonym keys (STATIC_BROKER_CONFIG / DYNAMIC_*), over defaults.
// CreateTopics, AlterConfigs and IncrementalAlterConfigs validate with resolveTopicConfig() and
// answer INVALID_CONFIG with the KafkaError's message, which names the key.

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { NEVER, type CleanupPolicy, type LogConfig } from '../storage/log-config.ts';
import type { BrokerConfig } from './broker-config.ts';
import type { BrokerKey } from './broker-keys.ts';
import {
  closestName, formatValue, InvalidValue, LONG_MAX, parseValue, type ConfigEntry, type ConfigSource, type KeyDef,
} from './config-def.ts';
import { isTopicKey, TOPIC_KEY_NAMES, TOPIC_KEYS, type TopicKey, type TopicValue } from './topic-keys.ts';

function invalid(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_CONFIG, message);
}

function topicDef(key: TopicKey): KeyDef<unknown> {
  return TOPIC_KEYS[key].def as KeyDef<unknown>;
}

/**
 * Validates topic config overrides as a client sends them (CreateTopics configs, AlterConfigs
 * entries). Returns them in a fresh record; throws KafkaError INVALID_CONFIG naming the key.
 */
export function parseTopicOverrides(configs: Readonly<Record<string, string | null>>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const name of Object.keys(configs)) {
    if (!isTopicKey(name)) {
      const near = closestName(name, TOPIC_KEY_NAMES);
      throw invalid(`unknown topic config '${name}'${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    const raw = configs[name];
    if (raw === null) throw invalid(`topic config '${name}' has no value`);
    try {
      parseValue(topicDef(name), raw);
    } catch (e) {
      if (!(e instanceof InvalidValue)) throw e;
      throw invalid(`invalid value for topic config '${name}': ${e.message}`);
    }
    out[name] = raw;
  }
  return out;
}

interface Resolved {
  value: unknown;
  source: ConfigSource;
  /** The broker key the value came from, when it did. */
  from: BrokerKey | null;
}

function fromBroker(key: TopicKey, broker: BrokerConfig): Resolved {
  const synonyms = TOPIC_KEYS[key].synonyms;
  const setKey = synonyms.find((k) => broker.isSet(k)) ?? null;
  const source = setKey === null ? 'DEFAULT_CONFIG' : broker.source(setKey);
  let value: unknown;
  switch (key) {
    case 'retention.ms': value = broker.logRetentionMs; break;
    case 'segment.ms': value = broker.logRollMs; break;
    case 'segment.jitter.ms': value = broker.logRollJitterMs; break;
    case 'flush.ms': value = broker.get('log.flush.interval.ms') ?? broker.get('log.flush.scheduler.interval.ms'); break;
    default: value = broker.get(synonyms[0]);
  }
  return { value, source, from: setKey };
}

export class TopicConfig {
  readonly #resolved = new Map<TopicKey, Resolved>();
  readonly #broker: BrokerConfig;
  /** The topic's own overrides, as given. */
  readonly overrides: Readonly<Record<string, string>>;

  /** Use resolveTopicConfig(). */
  constructor(overrides: Readonly<Record<string, string>>, broker: BrokerConfig) {
    this.#broker = broker;
    this.overrides = Object.freeze(parseTopicOverrides(overrides));
    for (const key of TOPIC_KEY_NAMES) {
      const raw = this.overrides[key];
      this.#resolved.set(key, raw !== undefined
        ? { value: parseValue(topicDef(key), raw), source: 'DYNAMIC_TOPIC_CONFIG', from: null }
        : fromBroker(key, broker));
    }
    if (this.get('min.compaction.lag.ms') > this.get('max.compaction.lag.ms')) {
      throw invalid(`topic config 'min.compaction.lag.ms' (${this.get('min.compaction.lag.ms')}) exceeds 'max.compaction.lag.ms' (${formatValue(topicDef('max.compaction.lag.ms'), this.get('max.compaction.lag.ms'))})`);
    }
    Object.freeze(this);
  }

  get<K extends TopicKey>(key: K): TopicValue<K> {
    return this.#resolved.get(key)!.value as TopicValue<K>;
  }

  source(key: TopicKey): ConfigSource {
    return this.#resolved.get(key)!.source;
  }

  valueString(key: TopicKey): string | null {
    return formatValue(topicDef(key), this.get(key));
  }

  /** CreateTime before-limit in force: message.timestamp.before.max.ms, else the deprecated difference (KIP-937). */
  get timestampBeforeMaxMs(): number {
    const v = this.get('message.timestamp.before.max.ms');
    return v < LONG_MAX ? v : this.get('message.timestamp.difference.max.ms');
  }

  /** CreateTime after-limit in force: message.timestamp.after.max.ms, else the deprecated difference (KIP-937). */
  get timestampAfterMaxMs(): number {
    const v = this.get('message.timestamp.after.max.ms');
    return v < LONG_MAX ? v : this.get('message.timestamp.difference.max.ms');
  }

  get cleanupPolicy(): CleanupPolicy {
    const set = new Set(this.get('cleanup.policy'));
    return set.has('compact') ? (set.has('delete') ? 'compact,delete' : 'compact') : 'delete';
  }

  entry(key: TopicKey): ConfigEntry {
    const def = topicDef(key);
    const r = this.#resolved.get(key)!;
    const synonyms: ConfigEntry['synonyms'] = [];
    if (r.source === 'DYNAMIC_TOPIC_CONFIG') synonyms.push({ name: key, value: this.overrides[key], source: r.source });
    for (const b of TOPIC_KEYS[key].synonyms) {
      if (this.#broker.isSet(b)) synonyms.push({ name: b, value: this.#broker.valueString(b), source: this.#broker.source(b) });
    }
    synonyms.push({ name: key, value: formatValue(def, def.default), source: 'DEFAULT_CONFIG' });
    return {
      name: key,
      value: formatValue(def, r.value),
      source: r.source,
      isSensitive: false,
      readOnly: false,
      type: def.type,
      documentation: def.doc,
      synonyms,
    };
  }

  /** Every topic config with its effective value, sorted by name (DescribeConfigs of a topic). */
  entries(): ConfigEntry[] {
    return TOPIC_KEY_NAMES.map((k) => this.entry(k));
  }
}

/**
 * The effective config of a topic with `overrides` on `broker`. Throws KafkaError INVALID_CONFIG
 * naming the key for an unknown key, a bad value or contradictory values.
 */
export function resolveTopicConfig(overrides: Readonly<Record<string, string>>, broker: BrokerConfig): TopicConfig {
  return new TopicConfig(overrides, broker);
}

const clamp = (n: number): number => Math.min(n, NEVER);

/** The storage engine's view. Kafka's Long.MAX_VALUE ("never") becomes storage's NEVER. */
export function toLogConfig(c: TopicConfig): LogConfig {
  return {
    segmentBytes: c.get('segment.bytes'),
    segmentMs: clamp(c.get('segment.ms')),
    segmentJitterMs: clamp(c.get('segment.jitter.ms')),
    indexIntervalBytes: c.get('index.interval.bytes'),
    segmentIndexBytes: c.get('segment.index.bytes'),
    retentionMs: clamp(c.get('retention.ms')),
    retentionBytes: clamp(c.get('retention.bytes')),
    cleanupPolicy: c.cleanupPolicy,
    deleteRetentionMs: clamp(c.get('delete.retention.ms')),
    minCleanableDirtyRatio: c.get('min.cleanable.dirty.ratio'),
    minCompactionLagMs: clamp(c.get('min.compaction.lag.ms')),
    maxCompactionLagMs: clamp(c.get('max.compaction.lag.ms')),
    flushMessages: clamp(c.get('flush.messages')),
    flushMs: clamp(c.get('flush.ms')),
    fileDeleteDelayMs: clamp(c.get('file.delete.delay.ms')),
  };
}
