// Broker keys for identity, roles, listeners, the KRaft quorum (KIP-595, KIP-853), network
// limits and Brook's own extensions. Names, types and defaults are Kafka 3.9's unless the doc
// says "Brook".

import {
  atLeast, bool, int, InvalidValue, list, listOf, long, string,
  type Validator, INT_MAX,
} from './config-def.ts';
import { isIP } from 'node:net';
import { parseBootstrapServers, parseListeners, parseSecurityProtocolMap, parseVoters } from './listeners.ts';

const via = (parse: (items: readonly string[]) => unknown): Validator<readonly string[]> => (v) => {
  try {
    parse(v);
    return null;
  } catch (e) {
    if (e instanceof InvalidValue) return `is not valid: ${e.message}`;
    throw e;
  }
};

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d, how a dual-stack socket reports IPv4 peers) as a.b.c.d. */
export function normalizeIp(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address.toLowerCase();
}

/**
 * max.connections.per.ip.overrides entries, `ip:count` (IPv6 as `[addr]:count`). Kafka also takes
 * host names and resolves them; Brook matches IP addresses only, so a config value never causes a
 * DNS lookup.
 */
export function parseConnectionOverrides(items: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) {
    const at = item.lastIndexOf(':');
    let host = at < 0 ? '' : item.slice(0, at).trim();
    const count = at < 0 ? '' : item.slice(at + 1).trim();
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    if (isIP(host) === 0) throw new InvalidValue(`"${item}" is not ip:count (host names are not resolved; give the IP address)`);
    if (!/^\d+$/.test(count) || Number(count) > INT_MAX) throw new InvalidValue(`"${item}" has no connection count after the last ':'`);
    out.set(normalizeIp(host), Number(count));
  }
  return out;
}

const clusterIdShape: Validator<string> = (v) =>
  /^[A-Za-z0-9_-]{22}$/.test(v) && Buffer.from(v, 'base64url').length === 16
    ? null
    : 'is not a cluster id (22 characters of URL-safe base64 encoding 16 bytes)';

export const SERVER_KEYS = {
  'node.id': int({
    default: 1, validate: atLeast(0),
    doc: 'Id of this node in the cluster, unique across brokers and controllers (Brook defaults to 1; Kafka requires it).',
  }),
  'broker.id': int({
    default: null, validate: atLeast(0),
    doc: 'Older name for node.id; if both are set they must be equal.',
  }),
  'process.roles': list({
    default: ['broker', 'controller'], validate: listOf(['broker', 'controller'], { nonEmpty: true }),
    doc: 'What this node runs: broker, controller, or both (Brook defaults to both: one self-contained node).',
  }),
  'cluster.id': string({
    default: null, validate: clusterIdShape,
    doc: 'Brook: expected cluster id; if unset one is generated on first start and kept in meta.properties of each data directory.',
  }),
  'listeners': list({
    default: ['PLAINTEXT://127.0.0.1:9092'], validate: via(parseListeners),
    doc: 'Addresses to accept connections on, as NAME://host:port; an empty host means every interface, port 0 any free port.',
  }),
  'advertised.listeners': list({
    default: null, validate: via(parseListeners),
    doc: 'Addresses given to clients in Metadata, when they differ from listeners (for NAT, containers, or a 0.0.0.0 bind).',
  }),
  'listener.security.protocol.map': list({
    default: ['PLAINTEXT:PLAINTEXT', 'SSL:SSL', 'SASL_PLAINTEXT:SASL_PLAINTEXT', 'SASL_SSL:SASL_SSL', 'CONTROLLER:PLAINTEXT'],
    validate: via(parseSecurityProtocolMap),
    doc: 'Security protocol of each listener name, as NAME:PROTOCOL pairs.',
  }),
  'controller.listener.names': list({
    default: ['CONTROLLER'],
    doc: 'Listener names used for controller traffic; the first one is used to reach other controllers.',
  }),
  'inter.broker.listener.name': string({
    default: null,
    doc: 'Listener that brokers use to reach each other; defaults to the PLAINTEXT listener.',
  }),
  'controller.quorum.voters': list({
    default: [], validate: via(parseVoters),
    doc: 'The controller quorum as id@host:port entries; Brook: empty with the controller role means a single-node quorum of this node.',
  }),
  'controller.quorum.bootstrap.servers': list({
    default: [], validate: via(parseBootstrapServers),
    doc: 'host:port of controllers to discover the quorum from, instead of a fixed voter list.',
  }),
  'controller.quorum.election.timeout.ms': int({
    default: 1000, validate: atLeast(1),
    doc: 'How long a voter waits without hearing from a leader before it starts an election.',
  }),
  'controller.quorum.fetch.timeout.ms': int({
    default: 2000, validate: atLeast(1),
    doc: 'How long a follower waits for a successful fetch from the leader before it becomes a candidate.',
  }),
  'controller.quorum.election.backoff.max.ms': int({
    default: 1000, validate: atLeast(1),
    doc: 'Upper bound of the random delay before a failed candidate tries again.',
  }),
  'controller.quorum.request.timeout.ms': int({
    default: 2000, validate: atLeast(1),
    doc: 'How long a quorum request waits for an answer before it is retried.',
  }),
  'controller.quorum.retry.backoff.ms': int({
    default: 20, validate: atLeast(0),
    doc: 'Pause before retrying a failed quorum request.',
  }),
  'broker.heartbeat.interval.ms': int({
    default: 2000, validate: atLeast(1),
    doc: 'How often a broker tells the controller it is alive.',
  }),
  'broker.session.timeout.ms': int({
    default: 9000, validate: atLeast(1),
    doc: 'A broker that has not sent a heartbeat for this long is fenced and loses its leaderships.',
  }),
  'broker.rack': string({
    default: null,
    doc: 'Rack (or zone) of this broker; replicas of a partition are spread across racks.',
  }),
  'log.dirs': list({
    default: null,
    doc: 'Directories for partition data, comma separated; overrides log.dir.',
  }),
  'log.dir': string({
    default: './data',
    doc: 'Data directory used when log.dirs is not set (Brook defaults to ./data; Kafka to /tmp/kafka-logs).',
  }),
  'metadata.log.dir': string({
    default: null,
    doc: 'Directory for the cluster metadata log; defaults to the first data directory.',
  }),
  'metadata.log.segment.bytes': int({
    default: 1073741824, validate: atLeast(12),
    doc: 'Segment size of the cluster metadata log.',
  }),
  'metadata.max.retention.bytes': long({
    default: 104857600,
    doc: 'Metadata log bytes to keep behind the latest snapshot (-1: no limit).',
  }),
  'metadata.max.retention.ms': long({
    default: 604800000,
    doc: 'How long metadata log segments older than the latest snapshot are kept (-1: no limit).',
  }),
  'metadata.log.max.record.bytes.between.snapshots': long({
    default: 20971520, validate: atLeast(1),
    doc: 'Bytes of metadata records after which a new snapshot is taken.',
  }),
  'metadata.log.max.snapshot.interval.ms': long({
    default: 3600000, validate: atLeast(0),
    doc: 'Longest time between metadata snapshots while records arrive (0: by size only).',
  }),
  'socket.request.max.bytes': int({
    default: 104857600, validate: atLeast(1),
    doc: 'Largest request frame accepted; a larger size prefix closes the connection before anything is allocated.',
  }),
  'socket.send.buffer.bytes': int({
    default: 102400, ignored: true,
    doc: 'Accepted for Kafka compatibility and ignored: Brook leaves socket buffers to the operating system.',
  }),
  'socket.receive.buffer.bytes': int({
    default: 102400, ignored: true,
    doc: 'Accepted for Kafka compatibility and ignored: Brook leaves socket buffers to the operating system.',
  }),
  'max.connections': int({
    default: INT_MAX, validate: atLeast(0), dynamic: true,
    doc: 'Most client connections open at once; new ones are closed when the limit is reached.',
  }),
  'max.connections.per.ip': int({
    default: INT_MAX, validate: atLeast(0), dynamic: true,
    doc: 'Most connections open at once from one IP address; further ones are closed as soon as they are accepted.',
  }),
  'max.connections.per.ip.overrides': list({
    default: [], validate: via(parseConnectionOverrides), dynamic: true,
    doc: 'Per-address exceptions to max.connections.per.ip, as ip:count pairs (e.g. 127.0.0.1:200,[::1]:200); Brook takes IP addresses only and never resolves host names.',
  }),
  'connections.max.idle.ms': long({
    default: 600000, validate: atLeast(1),
    doc: 'A connection with no bytes read or written for this long is closed.',
  }),
  'sasl.server.max.receive.size': int({
    default: 524288, validate: atLeast(1),
    doc: 'Largest request frame accepted from a connection that has not authenticated yet (only on listeners that require SASL).',
  }),
  'brook.connection.receive.timeout.ms': long({
    default: 30000, validate: atLeast(1),
    doc: 'Brook: once the first byte of a request frame has arrived, the whole frame must arrive within this time, else the connection is closed (slow senders).',
  }),
  'brook.connection.max.in.flight.requests': int({
    default: 100, validate: atLeast(1),
    doc: 'Brook: requests one connection may have read but not yet answered; the broker stops reading that connection at this count.',
  }),
  'brook.connection.max.buffered.response.bytes': int({
    default: 67108864, validate: atLeast(1),
    doc: 'Brook: response bytes waiting for one client to read them; above this the broker stops reading that connection\'s requests.',
  }),
  'queued.max.requests': int({
    default: 500, validate: atLeast(1), ignored: true,
    doc: 'Accepted for Kafka compatibility and ignored: Brook bounds work per connection (brook.connection.max.in.flight.requests) rather than with one shared queue.',
  }),
  'num.network.threads': int({
    default: 3, validate: atLeast(1), ignored: true,
    doc: 'Accepted for Kafka compatibility and ignored: Brook serves connections on one event loop.',
  }),
  'num.io.threads': int({
    default: 8, validate: atLeast(1), ignored: true,
    doc: 'Accepted for Kafka compatibility and ignored: Brook does disk work without a request thread pool.',
  }),
  'num.recovery.threads.per.data.dir': int({
    default: 2, validate: atLeast(1), ignored: true,
    doc: 'Accepted for Kafka compatibility and ignored: Brook recovers logs without a thread pool.',
  }),
  'fetch.max.bytes': int({
    default: 57671680, validate: atLeast(1024),
    doc: 'Upper bound on the bytes of one fetch response, whatever the client asks for.',
  }),
  'replica.lag.time.max.ms': long({
    default: 30000, validate: atLeast(1),
    doc: 'A follower that has not caught up with the leader for this long leaves the in-sync replicas.',
  }),
  'auto.create.topics.enable': bool({
    default: true,
    doc: 'Create a topic when a client asks Metadata (or produces) for one that does not exist.',
  }),
  'delete.topic.enable': bool({
    default: true,
    doc: 'Allow DeleteTopics; when false it answers TOPIC_DELETION_DISABLED.',
  }),
  'num.partitions': int({
    default: 1, validate: atLeast(1),
    doc: 'Partition count of topics created without one (including auto-created topics).',
  }),
  'default.replication.factor': int({
    default: 1, validate: atLeast(1),
    doc: 'Replication factor of topics created without one (including auto-created topics).',
  }),
  'brook.fsync.acks.all': bool({
    default: true,
    doc: 'Brook: answer acks=all produce only after the batch is fsynced on disk; false answers from the page cache, faster, but an OS crash or power loss can lose acknowledged records.',
  }),
} as const;
