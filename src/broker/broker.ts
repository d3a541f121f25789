// A Brook node: the storage engine, the controller's metadata image, the request handlers and the
// network server, bound together. Handlers reach everything through `ctx.broker`.
import { join } from 'node:path';
import { ErrorCode } from '../protocol/errors.ts';
import { LogManager } from '../storage/log-manager.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { Controller } from '../controller/controller.ts';
import { randomClusterId, randomUuid, uuidToKafkaString } from '../controller/ids.ts';
import { ensureMetaProperties } from '../config/meta-properties.ts';
import type { MetadataImage, TopicImage } from '../controller/image.ts';
import type { ApiHandler } from './handler.ts';
import { HANDLERS } from './handlers/index.ts';
import { Server, freePort } from './server.ts';
import { settingsFromConfig, type BrokerSettings } from './settings.ts';
import type { TopicSettings } from './topic-settings.ts';
import { FetchSessionCache } from './fetch-sessions.ts';
import { resolveTopicSettings } from './topic-settings-resolve.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import { schemaFor } from './config-describe.ts';
import { GroupCoordinator } from '../group/coordinator.ts'; // groups (issue 5)
import { Transactions } from '../txn/transactions.ts'; // transactions (issue 6)
import { ClusterNode, clusterIdFromVoters } from './cluster-node.ts'; // cluster (issue 4)
import { BrokerChannels, endpointOf } from './broker-channels.ts'; // inter-broker requests (transactions across brokers)

export class Broker {
  readonly settings: BrokerSettings;
  readonly config: BrokerConfig;
  readonly handlers: ReadonlyMap<number, ApiHandler> = HANDLERS;
  readonly logs: LogManager;
  readonly controller: Controller;
  readonly fetchSessions = new FetchSessionCache(1000);
  /** The group coordinator (issue 5); set by startBrokerWithSettings once the first image is applied. */
  groups!: GroupCoordinator;
  /** Producer state, producer ids and the transaction coordinator (issue 6); set by startBrokerWithSettings. */
  txn!: Transactions;
  /** The metadata quorum, controller listener and broker lifecycle (issue 4); set by startBrokerWithSettings. */
  cluster!: ClusterNode;
  readonly log: (line: string) => void;
  /** Connections to the other brokers' listeners, for inter-broker APIs (WriteTxnMarkers, KIP-890 verification). */
  readonly interBroker: BrokerChannels;
  private topicSettingsCache = new Map<string, TopicSettings>();
  private applying: Promise<void> = Promise.resolve();

  constructor(settings: BrokerSettings, config: BrokerConfig, logs: LogManager, controller: Controller, log: (line: string) => void) {
    this.settings = settings;
    this.config = config;
    this.logs = logs;
    this.controller = controller;
    this.log = log;
    this.interBroker = new BrokerChannels({ nodeId: settings.nodeId, endpoint: (id) => endpointOf(this.image, id, settings.listenerName) });
  }

  get image(): MetadataImage {
    return this.controller.image;
  }

  /**
   * The node clients should send admin requests to: the active controller when it is a live
   * broker, else this node (every broker forwards them to the active controller).
   */
  controllerId(): number {
    const active = this.controller.activeControllerId();
    const b = this.image.brokers.get(active);
    return b !== undefined && !b.fenced ? active : this.settings.nodeId;
  }

  now(): number {
    return Date.now();
  }

  /** The effective broker configuration: static, plus dynamic overrides from the metadata image. */
  effectiveConfig(): BrokerConfig {
    return schemaFor(this.config).brokerConfig(this.image, this.settings.nodeId);
  }

  private readonly appliedListeners: ((image: MetadataImage) => Promise<void> | void)[] = [];

  /** Runs `fn` after each metadata image is applied to the local logs (in the same ordered chain). */
  onApplied(fn: (image: MetadataImage) => Promise<void> | void): void {
    this.appliedListeners.push(fn);
  }

  /** Applies metadata images to the local logs one after another, in order, then tells listeners. */
  scheduleApply(image: MetadataImage): void {
    this.applying = this.applying.then(async () => {
      await this.applyImage(image);
      for (const fn of this.appliedListeners) await fn(image);
    }).catch((e) => this.log(`applying metadata failed: ${e?.stack ?? e}`));
  }

  /** Resolves once every image published so far is reflected in the local logs. */
  whenApplied(): Promise<void> {
    return this.applying;
  }

  topicSettings(topic: TopicImage): TopicSettings {
    const cached = this.topicSettingsCache.get(topic.name);
    if (cached !== undefined) return cached;
    const s = resolveTopicSettings(this.image, topic, this.effectiveConfig());
    this.topicSettingsCache.set(topic.name, s);
    return s;
  }

  /** The local log of a partition this node leads, or an error code. */
  leaderLog(topic: string, partition: number): { errorCode: number; log: PartitionLog | null; topic: TopicImage | null; leaderEpoch: number } {
    const t = this.image.topics.get(topic);
    if (t === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, log: null, topic: null, leaderEpoch: -1 };
    const p = t.partitions.get(partition);
    if (p === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, log: null, topic: t, leaderEpoch: -1 };
    if (p.leader !== this.settings.nodeId) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, log: null, topic: t, leaderEpoch: p.leaderEpoch };
    const log = this.logs.get(topic, partition);
    if (log === undefined) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, log: null, topic: t, leaderEpoch: p.leaderEpoch };
    return { errorCode: 0, log, topic: t, leaderEpoch: p.leaderEpoch };
  }

  /** Topic name → id of every topic in the last image applied to the logs. */
  private appliedTopics = new Map<string, string>();
  private reportedStrays = new Set<string>();

  /**
   * Brings local logs in line with the image: creates logs for our replicas, deletes the logs of
   * topics that an applied image had and this one removed (or replaced by a new topic id). A log
   * whose topic no applied image has ever named is kept and reported, never deleted: an image may
   * lag behind the metadata log (a restarting node replaying it), and deleting data on the say-so of
   * an incomplete image would lose acknowledged records.
   */
  async applyImage(image: MetadataImage): Promise<void> {
    this.topicSettingsCache.clear();
    const wanted = new Set<string>();
    for (const t of image.topics.values()) {
      const settings = this.topicSettings(t);
      for (const p of t.partitions.values()) {
        if (!p.replicas.includes(this.settings.nodeId)) continue;
        wanted.add(`${t.name}\u0000${p.partition}`);
        const existing = this.logs.get(t.name, p.partition);
        if (existing === undefined || existing.topicId !== t.id) await this.logs.create(t.name, p.partition, t.id, settings.logConfig);
        else existing.updateConfig(settings.logConfig);
      }
    }
    for (const log of this.logs.all()) {
      if (wanted.has(`${log.topic}\u0000${log.partition}`)) continue;
      const current = image.topics.get(log.topic);
      const removed = current === undefined && this.appliedTopics.get(log.topic) === log.topicId;
      // Same name, another id: the log's topic was deleted and the name reused.
      const replaced = current !== undefined && current.id !== log.topicId;
      const unassigned = current !== undefined && current.id === log.topicId;
      if (removed || replaced || unassigned) {
        await this.logs.delete(log.topic, log.partition);
      } else if (!this.reportedStrays.has(`${log.topic}-${log.partition}`)) {
        this.reportedStrays.add(`${log.topic}-${log.partition}`);
        this.log(`keeping log ${log.topic}-${log.partition} (topic id ${log.topicId}): no applied metadata image has this topic`);
      }
    }
    this.appliedTopics = new Map([...image.topics.values()].map((t) => [t.name, t.id]));
  }
}

export interface RunningBroker {
  host: string;
  port: number;
  broker: Broker;
  close(): Promise<void>;
}

export async function startBrokerWithSettings(settings: BrokerSettings, config: BrokerConfig, opts: { log?: (line: string) => void } = {}): Promise<RunningBroker> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (settings.port === 0) {
    // Port 0: pick a free port first, so the address registered in the metadata is the real one.
    settings.port = await freePort(settings.host);
    if (settings.advertisedPort === 0) settings.advertisedPort = settings.port;
  }
  const logs = await LogManager.open({ dirs: [join(settings.dataDir)] });
  const random = () => crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32;
  const meta = ensureMetaProperties([settings.dataDir], {
    nodeId: settings.nodeId,
    clusterId: config.clusterId,
    // cluster (issue 4): voters of one cluster derive the same id unless cluster.id is set.
    newClusterId: () => (config.quorumVoters.length > 1 ? clusterIdFromVoters(config.quorumVoters) : randomClusterId(random)),
    newDirectoryId: () => uuidToKafkaString(randomUuid(random)),
  });
  // cluster (issue 4): the metadata log is the Raft quorum's, also for a single node (one voter).
  const cluster = await ClusterNode.open({ settings, config, clusterId: meta.clusterId, log, random });
  const controller = await Controller.start({
    nodeId: settings.nodeId,
    log: cluster.metadataLog,
    quorum: cluster.metadataLog,
    brokerConfig: config,
    clusterId: meta.clusterId,
    random,
    onListenerError: (e) => log(`metadata listener failed: ${(e as Error)?.stack ?? e}`),
  });
  cluster.bind(controller);
  const broker = new Broker(settings, config, logs, controller, log);
  broker.cluster = cluster;
  // Replays the log and registers this broker; resolves once it is unfenced (caught up). Local logs
  // follow the image from then on, not through the images part-way through the replay.
  await cluster.start(broker);
  controller.onChange((image: MetadataImage) => broker.scheduleApply(image));
  broker.scheduleApply(controller.image);
  await broker.whenApplied();
  // groups (issue 5): load/unload __consumer_offsets shards once each image's logs exist.
  broker.groups = new GroupCoordinator(broker);
  broker.groups.onMetadata();
  broker.onApplied(() => broker.groups.onMetadata());
  // transactions (issue 6): every local partition's producer state is loaded before requests are taken.
  broker.txn = new Transactions(broker);
  await broker.txn.start();
  broker.onApplied(() => broker.txn.onMetadata());
  const server = new Server(broker, broker.handlers, {
    maxRequestBytes: settings.maxRequestBytes,
    maxInFlight: settings.maxInFlightPerConnection,
    maxBufferedResponseBytes: settings.maxBufferedResponseBytes,
    idleTimeoutMs: settings.idleTimeoutMs,
  }, settings.maxConnections, log);
  const addr = await server.listen(settings.host, settings.port);
  let closed: Promise<void> | null = null;
  return {
    host: addr.host,
    port: addr.port,
    broker,
    close() {
      closed ??= (async () => {
        await cluster.shutdown(); // cluster (issue 4): controlled shutdown first
        await server.close();
        await broker.groups.close(); // groups (issue 5)
        await broker.txn.close(); // transactions (issue 6)
        broker.interBroker.close();
        await broker.whenApplied();
        await cluster.close();
        await controller.close();
        await logs.close();
      })();
      return closed;
    },
  };
}

/** Starts a node from its parsed configuration (the `brook serve` entry point). */
export function startBroker(config: BrokerConfig, opts: { log?: (line: string) => void } = {}): Promise<RunningBroker> {
  return startBrokerWithSettings(settingsFromConfig(config), config, opts);
}
