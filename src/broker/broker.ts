// A Brook node: the storage engine, the controller's metadata image, the request handlers and the
// network server, bound together. Handlers reach everything through `ctx.broker`.
import { join } from 'node:path';
import { LogManager } from '../storage/log-manager.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { Controller } from '../controller/controller.ts';
import { FileMetadataLog, METADATA_PARTITION_DIR } from '../controller/file-metadata-log.ts';
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

export class Broker {
  readonly settings: BrokerSettings;
  readonly config: BrokerConfig;
  readonly handlers: ReadonlyMap<number, ApiHandler> = HANDLERS;
  readonly logs: LogManager;
  readonly controller: Controller;
  readonly fetchSessions = new FetchSessionCache(1000);
  /** The group coordinator (issue 5); set by startBrokerWithSettings once the first image is applied. */
  groups!: GroupCoordinator;
  readonly log: (line: string) => void;
  private topicSettingsCache = new Map<string, TopicSettings>();
  private applying: Promise<void> = Promise.resolve();

  constructor(settings: BrokerSettings, config: BrokerConfig, logs: LogManager, controller: Controller, log: (line: string) => void) {
    this.settings = settings;
    this.config = config;
    this.logs = logs;
    this.controller = controller;
    this.log = log;
  }

  get image(): MetadataImage {
    return this.controller.image;
  }

  /** The node clients should treat as the controller (single node: ourselves). */
  controllerId(): number {
    return this.settings.nodeId;
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
    if (t === undefined) return { errorCode: 3, log: null, topic: null, leaderEpoch: -1 };
    const p = t.partitions.get(partition);
    if (p === undefined) return { errorCode: 3, log: null, topic: t, leaderEpoch: -1 };
    if (p.leader !== this.settings.nodeId) return { errorCode: 6, log: null, topic: t, leaderEpoch: p.leaderEpoch };
    const log = this.logs.get(topic, partition);
    if (log === undefined) return { errorCode: 6, log: null, topic: t, leaderEpoch: p.leaderEpoch };
    return { errorCode: 0, log, topic: t, leaderEpoch: p.leaderEpoch };
  }

  /** Brings local logs in line with the image: create logs for our replicas, delete removed topics. */
  async applyImage(image: MetadataImage): Promise<void> {
    this.topicSettingsCache.clear();
    const wanted = new Set<string>();
    for (const t of image.topics.values()) {
      const settings = this.topicSettings(t);
      for (const p of t.partitions.values()) {
        if (!p.replicas.includes(this.settings.nodeId)) continue;
        wanted.add(`${t.name}\u0000${p.partition}`);
        const existing = this.logs.get(t.name, p.partition);
        if (existing === undefined) await this.logs.create(t.name, p.partition, t.id, settings.logConfig);
        else existing.updateConfig(settings.logConfig);
      }
    }
    for (const log of this.logs.all()) {
      if (!wanted.has(`${log.topic}\u0000${log.partition}`)) await this.logs.delete(log.topic, log.partition);
    }
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
    newClusterId: () => randomClusterId(random),
    newDirectoryId: () => uuidToKafkaString(randomUuid(random)),
  });
  const metadataLog = await FileMetadataLog.open(join(config.metadataLogDir, METADATA_PARTITION_DIR));
  const controller = await Controller.start({
    nodeId: settings.nodeId,
    log: metadataLog,
    brokerConfig: config,
    clusterId: meta.clusterId,
    random,
    localBroker: {
      listeners: [{ name: settings.listenerName, host: settings.advertisedHost, port: settings.advertisedPort, securityProtocol: 0 }],
      rack: settings.rack,
    },
    onListenerError: (e) => log(`metadata listener failed: ${(e as Error)?.stack ?? e}`),
  });
  const broker = new Broker(settings, config, logs, controller, log);
  await broker.applyImage(controller.image);
  controller.onChange((image: MetadataImage) => broker.scheduleApply(image));
  // groups (issue 5): load/unload __consumer_offsets shards once each image's logs exist.
  broker.groups = new GroupCoordinator(broker);
  broker.groups.onMetadata();
  broker.onApplied(() => broker.groups.onMetadata());
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
        await server.close();
        await broker.groups.close(); // groups (issue 5)
        await broker.whenApplied();
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
