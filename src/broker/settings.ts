import type { BrokerConfig } from '../config/broker-config.ts';
import { parseConnectionOverrides } from '../config/keys-server.ts';
// The broker's view of its configuration: the handful of typed values the request path reads, taken
// once from the parsed config so hot paths don't look keys up.

export interface BrokerSettings {
  nodeId: number;
  /** Address to bind. */
  host: string;
  port: number;
  /** Name of the client listener (advertised in the broker registration). */
  listenerName: string;
  /** Address clients are told to use (advertised.listeners). */
  advertisedHost: string;
  advertisedPort: number;
  rack: string | null;
  dataDir: string;
  numPartitions: number;
  defaultReplicationFactor: number;
  autoCreateTopics: boolean;
  deleteTopicEnable: boolean;
  maxRequestBytes: number;
  maxInFlightPerConnection: number;
  maxBufferedResponseBytes: number;
  idleTimeoutMs: number;
  maxConnections: number;
  /** max.connections.per.ip and its per-address overrides (normalized IPs). */
  maxConnectionsPerIp: number;
  maxConnectionsPerIpOverrides: ReadonlyMap<string, number>;
  /** Frame limit before authentication (sasl.server.max.receive.size). */
  maxUnauthenticatedRequestBytes: number;
  /** The client listener requires SASL: connections start unauthenticated. */
  requireAuthentication: boolean;
  /** A started frame must be complete within this (slow senders); 0 disables. */
  receiveTimeoutMs: number;
  /** Brook's durability default: acks=all is answered only after fdatasync (group commit). */
  fsyncAcksAll: boolean;
}

export const defaultSettings: BrokerSettings = {
  nodeId: 1,
  host: '127.0.0.1',
  port: 9092,
  listenerName: 'PLAINTEXT',
  advertisedHost: '127.0.0.1',
  advertisedPort: 9092,
  rack: null,
  dataDir: './data',
  numPartitions: 1,
  defaultReplicationFactor: 1,
  autoCreateTopics: true,
  deleteTopicEnable: true,
  maxRequestBytes: 100 * 1024 * 1024,
  maxInFlightPerConnection: 100,
  maxBufferedResponseBytes: 64 * 1024 * 1024,
  idleTimeoutMs: 600_000,
  maxConnections: 2_147_483_647,
  maxConnectionsPerIp: 2_147_483_647,
  maxConnectionsPerIpOverrides: new Map(),
  maxUnauthenticatedRequestBytes: 524_288,
  requireAuthentication: false,
  receiveTimeoutMs: 30_000,
  fsyncAcksAll: true,
};


/** Reads the typed settings the request path needs out of the parsed configuration. */
export function settingsFromConfig(config: BrokerConfig): BrokerSettings {
  const controllerNames = new Set(config.controllerListenerNames);
  const listener = config.listeners.find((l) => !controllerNames.has(l.name));
  if (listener === undefined) throw new Error('no client listener configured');
  const advertised = config.advertisedListeners.find((l) => l.name === listener.name) ?? listener;
  const idle = config.get('connections.max.idle.ms');
  const protocol = config.securityProtocolMap.get(listener.name) ?? listener.name;
  return {
    nodeId: config.nodeId,
    host: listener.host === '' ? '0.0.0.0' : listener.host,
    port: listener.port,
    listenerName: listener.name,
    advertisedHost: advertised.host,
    advertisedPort: advertised.port === 0 ? listener.port : advertised.port,
    rack: config.get('broker.rack'),
    dataDir: config.logDirs[0],
    numPartitions: config.get('num.partitions'),
    defaultReplicationFactor: config.get('default.replication.factor'),
    autoCreateTopics: config.get('auto.create.topics.enable'),
    deleteTopicEnable: config.get('delete.topic.enable'),
    maxRequestBytes: config.get('socket.request.max.bytes'),
    maxInFlightPerConnection: config.get('brook.connection.max.in.flight.requests'),
    maxBufferedResponseBytes: config.get('brook.connection.max.buffered.response.bytes'),
    idleTimeoutMs: idle < 0 ? 0 : idle,
    maxConnections: config.get('max.connections'),
    maxConnectionsPerIp: config.get('max.connections.per.ip'),
    maxConnectionsPerIpOverrides: parseConnectionOverrides(config.get('max.connections.per.ip.overrides')),
    maxUnauthenticatedRequestBytes: config.get('sasl.server.max.receive.size'),
    requireAuthentication: protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL',
    receiveTimeoutMs: config.get('brook.connection.receive.timeout.ms'),
    fsyncAcksAll: config.fsyncAcksAll,
  };
}
