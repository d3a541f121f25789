// The broker's configuration: Kafka's key names, typed values, and where each value came from.
// Values are layered as in Kafka (KIP-226): a per-broker dynamic value beats a cluster-wide
// dynamic default, which beats the static value (config file / --set), which beats the default.
// A BrokerConfig is immutable; AlterConfigs produces a new one with withDynamic().

import { hostname as osHostname } from 'node:os';
import { BrookError } from '../errors.ts';
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { BROKER_KEY_NAMES, BROKER_KEYS, brokerKeyDef, isBrokerKey, type BrokerKey, type BrokerValue } from './broker-keys.ts';
import {
  closestName, ConfigProblem, formatValue, InvalidValue, parseValue, type ConfigEntry, type ConfigSource,
} from './config-def.ts';
import {
  parseBootstrapServers, parseListeners, parseSecurityProtocolMap, parseVoters,
  type HostPort, type Listener, type SecurityProtocol, type Voter,
} from './listeners.ts';
import { checkBrokerConsistency } from './broker-consistency.ts';

export type ProcessRole = 'broker' | 'controller';
export type DynamicLevel = 'DYNAMIC_BROKER_CONFIG' | 'DYNAMIC_DEFAULT_BROKER_CONFIG';

interface Layer {
  source: ConfigSource;
  raw: Readonly<Record<string, string>>;
  values: ReadonlyMap<BrokerKey, unknown>;
}

function parseLayer(props: Readonly<Record<string, string>>): Map<BrokerKey, unknown> {
  const values = new Map<BrokerKey, unknown>();
  for (const name of Object.keys(props)) {
    if (!isBrokerKey(name)) {
      const near = closestName(name, BROKER_KEY_NAMES);
      const hint = near ? ` (did you mean '${near}'?)`
        : name.startsWith('zookeeper.') ? ' (Brook has no ZooKeeper mode; use the KRaft keys process.roles and controller.quorum.voters)'
        : '';
      throw new ConfigProblem('unknown', name, `unknown config key '${name}'${hint}`);
    }
    try {
      values.set(name, parseValue(brokerKeyDef(name), props[name]));
    } catch (e) {
      if (!(e instanceof InvalidValue)) throw e;
      throw new ConfigProblem('invalid', name, `invalid value for '${name}': ${e.message}`);
    }
  }
  return values;
}

function nullRecord(src: Readonly<Record<string, string>>): Record<string, string> {
  const r: Record<string, string> = Object.create(null);
  for (const k of Object.keys(src)) r[k] = src[k];
  return Object.freeze(r);
}

export interface BrokerConfigOptions {
  /** Host name advertised for listeners bound to every interface (empty host); os.hostname() by default. */
  hostname?: string;
}

export class BrokerConfig {
  readonly #layers: readonly Layer[];
  readonly #values = new Map<BrokerKey, unknown>();
  readonly #sources = new Map<BrokerKey, ConfigSource>();
  readonly #hostname: string;

  readonly nodeId: number;
  readonly processRoles: readonly ProcessRole[];
  readonly isBroker: boolean;
  readonly isController: boolean;
  /** All listeners this node binds, controller listeners included. */
  readonly listeners: readonly Listener[];
  /** Listeners given to clients in Metadata (controller listeners excluded); never an empty or wildcard host. */
  readonly advertisedListeners: readonly Listener[];
  readonly securityProtocolMap: ReadonlyMap<string, SecurityProtocol>;
  readonly controllerListenerNames: readonly string[];
  /** Null on a controller-only node. */
  readonly interBrokerListenerName: string | null;
  readonly quorumVoters: readonly Voter[];
  readonly quorumBootstrapServers: readonly HostPort[];
  /** True when this node is the whole quorum on its own (controller role, no voters, no bootstrap servers). */
  readonly standaloneQuorum: boolean;
  readonly logDirs: readonly string[];
  readonly metadataLogDir: string;
  /** log.retention.ms, else minutes, else hours; -1 means no time limit. */
  readonly logRetentionMs: number;
  /** log.roll.ms, else log.roll.hours. */
  readonly logRollMs: number;
  /** log.roll.jitter.ms, else log.roll.jitter.hours. */
  readonly logRollJitterMs: number;
  readonly clusterId: string | null;
  readonly fsyncAcksAll: boolean;

  /** Use parseBrokerConfig(); throws ConfigProblem. */
  constructor(layers: readonly Layer[], options: BrokerConfigOptions = {}) {
    this.#layers = layers;
    this.#hostname = options.hostname ?? osHostname();
    for (const name of BROKER_KEY_NAMES) {
      const layer = layers.find((l) => l.values.has(name));
      this.#values.set(name, layer ? layer.values.get(name) : BROKER_KEYS[name].default);
      this.#sources.set(name, layer ? layer.source : 'DEFAULT_CONFIG');
    }
    const get = <K extends BrokerKey>(k: K): BrokerValue<K> => this.#values.get(k) as BrokerValue<K>;
    const set = (k: BrokerKey): boolean => this.#sources.get(k) !== 'DEFAULT_CONFIG';

    const brokerId = get('broker.id');
    if (brokerId !== null && set('node.id') && brokerId !== get('node.id')) {
      throw new ConfigProblem('inconsistent', 'broker.id',
        `'broker.id' (${brokerId}) and 'node.id' (${get('node.id')}) must be equal; set only node.id`);
    }
    this.nodeId = brokerId !== null && !set('node.id') ? brokerId : get('node.id');
    this.processRoles = get('process.roles') as readonly ProcessRole[];
    this.isBroker = this.processRoles.includes('broker');
    this.isController = this.processRoles.includes('controller');

    // The list validators already ran, so these parses cannot fail.
    this.listeners = Object.freeze(parseListeners(get('listeners')));
    this.securityProtocolMap = parseSecurityProtocolMap(get('listener.security.protocol.map'));
    this.controllerListenerNames = Object.freeze(get('controller.listener.names').map((n) => n.toUpperCase()));
    this.quorumVoters = Object.freeze(parseVoters(get('controller.quorum.voters')));
    this.quorumBootstrapServers = Object.freeze(parseBootstrapServers(get('controller.quorum.bootstrap.servers')));
    this.standaloneQuorum = this.isController && this.quorumVoters.length === 0 && this.quorumBootstrapServers.length === 0;

    const controllerNames = new Set(this.controllerListenerNames);
    const brokerListeners = this.listeners.filter((l) => !controllerNames.has(l.name));
    const ibl = get('inter.broker.listener.name');
    this.interBrokerListenerName = !this.isBroker ? null
      : ibl !== null ? ibl.toUpperCase()
      : (brokerListeners.find((l) => l.name === 'PLAINTEXT') ?? brokerListeners[0])?.name ?? null;

    const advertised = get('advertised.listeners');
    // An empty advertised.listeners means "not set", as an absent one does.
    const adv = advertised === null || advertised.length === 0 ? brokerListeners
      : parseListeners(advertised).filter((l) => !controllerNames.has(l.name));
    this.advertisedListeners = Object.freeze(adv.map((l) => (l.host === '' ? { ...l, host: this.#hostname } : l)));

    const logDirs = get('log.dirs');
    this.logDirs = Object.freeze(logDirs !== null && logDirs.length > 0 ? [...logDirs] : [get('log.dir')]);
    this.metadataLogDir = get('metadata.log.dir') ?? this.logDirs[0];

    const ms = get('log.retention.ms');
    const minutes = get('log.retention.minutes');
    const retention = ms ?? (minutes !== null ? minutes * 60_000 : get('log.retention.hours') * 3_600_000);
    this.logRetentionMs = retention < 0 ? -1 : retention;
    this.logRollMs = get('log.roll.ms') ?? get('log.roll.hours') * 3_600_000;
    this.logRollJitterMs = get('log.roll.jitter.ms') ?? get('log.roll.jitter.hours') * 3_600_000;
    this.clusterId = get('cluster.id');
    this.fsyncAcksAll = get('brook.fsync.acks.all');

    checkBrokerConsistency(this, advertised !== null && advertised.length > 0);
    Object.freeze(this);
  }

  get<K extends BrokerKey>(key: K): BrokerValue<K> {
    return this.#values.get(key) as BrokerValue<K>;
  }

  source(key: BrokerKey): ConfigSource {
    return this.#sources.get(key) ?? 'DEFAULT_CONFIG';
  }

  /** Whether the key was given at any level (not left at its default). */
  isSet(key: BrokerKey): boolean {
    return this.source(key) !== 'DEFAULT_CONFIG';
  }

  /** The effective value rendered as DescribeConfigs shows it. */
  valueString(key: BrokerKey): string | null {
    return formatValue(brokerKeyDef(key), this.#values.get(key));
  }

  /** The values given at one level, as given (the static level is the config file plus --set). */
  layer(source: ConfigSource): Readonly<Record<string, string>> {
    return this.#layers.find((l) => l.source === source)?.raw ?? Object.freeze(Object.create(null));
  }

  entry(key: BrokerKey): ConfigEntry {
    const def = brokerKeyDef(key);
    const synonyms: ConfigEntry['synonyms'] = [];
    for (const l of this.#layers) {
      if (l.values.has(key)) synonyms.push({ name: key, value: def.sensitive ? null : formatValue(def, l.values.get(key)), source: l.source });
    }
    synonyms.push({ name: key, value: def.sensitive ? null : formatValue(def, def.default), source: 'DEFAULT_CONFIG' });
    return {
      name: key,
      value: def.sensitive ? null : this.valueString(key),
      source: this.source(key),
      isSensitive: def.sensitive,
      readOnly: !def.dynamic,
      type: def.type,
      documentation: def.doc,
      synonyms,
    };
  }

  /** Every broker key with its effective value, sorted by name (DescribeConfigs of a broker). */
  entries(): ConfigEntry[] {
    return BROKER_KEY_NAMES.map((k) => this.entry(k));
  }

  /** The host name substituted for an empty listener host. */
  get hostname(): string {
    return this.#hostname;
  }

  /**
   * A new config with dynamic values set (a string) or removed (null) at one level, as
   * AlterConfigs / IncrementalAlterConfigs on a broker resource do. Throws KafkaError
   * INVALID_CONFIG naming the key for an unknown key, a read-only key or a bad value.
   */
  withDynamic(updates: Readonly<Record<string, string | null>>, level: DynamicLevel = 'DYNAMIC_BROKER_CONFIG'): BrokerConfig {
    const current = this.layer(level);
    const next: Record<string, string> = Object.create(null);
    for (const k of Object.keys(current)) next[k] = current[k];
    for (const name of Object.keys(updates)) {
      if (isBrokerKey(name) && !BROKER_KEYS[name].dynamic) {
        throw new KafkaError(ErrorCode.INVALID_CONFIG, `broker config '${name}' cannot be changed while the broker runs`);
      }
      const v = updates[name];
      if (v === null) delete next[name];
      else next[name] = v;
    }
    try {
      const values = parseLayer(next);
      const layers = this.#layers.filter((l) => l.source !== level);
      layers.push({ source: level, raw: nullRecord(next), values });
      layers.sort((a, b) => LAYER_RANK[a.source] - LAYER_RANK[b.source]);
      return new BrokerConfig(layers, { hostname: this.#hostname });
    } catch (e) {
      if (e instanceof ConfigProblem) throw new KafkaError(ErrorCode.INVALID_CONFIG, e.message);
      throw e;
    }
  }
}

const LAYER_RANK: Record<ConfigSource, number> = {
  DYNAMIC_TOPIC_CONFIG: 0,
  DYNAMIC_BROKER_CONFIG: 1,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 2,
  STATIC_BROKER_CONFIG: 3,
  DEFAULT_CONFIG: 4,
};

export interface ParseBrokerConfigOptions extends BrokerConfigOptions {
  /** Says where a key was given (e.g. "server.properties" or "--set"); added to error messages. */
  origin?: (key: string) => string | undefined;
}

/**
 * Parses static broker properties (Kafka key names, string values). Throws BrookError
 * BROOK_CONFIG_UNKNOWN_KEY (with the closest known key), BROOK_CONFIG_INVALID_VALUE or
 * BROOK_CONFIG_INCONSISTENT, each naming the key.
 */
export function parseBrokerConfig(props: Readonly<Record<string, string>>, options: ParseBrokerConfigOptions = {}): BrokerConfig {
  try {
    const layers: Layer[] = [];
    const values = parseLayer(props);
    if (Object.keys(props).length > 0) layers.push({ source: 'STATIC_BROKER_CONFIG', raw: nullRecord(props), values });
    return new BrokerConfig(layers, options);
  } catch (e) {
    if (!(e instanceof ConfigProblem)) throw e;
    const where = options.origin?.(e.key);
    const message = where ? `${e.message} (${where})` : e.message;
    const code = e.kind === 'unknown' ? 'BROOK_CONFIG_UNKNOWN_KEY'
      : e.kind === 'invalid' ? 'BROOK_CONFIG_INVALID_VALUE' : 'BROOK_CONFIG_INCONSISTENT';
    throw new BrookError(code, message, { cause: e });
  }
}
