// One node's membership of the cluster: the metadata quorum (Raft core + driver + durable storage
// + the RaftMetadataLog feeding the Controller's image), the CONTROLLER listener, broker sessions
// on the active controller, and this broker's registration and heartbeats.
//
// Every mode takes the same path. `process.roles=broker,controller` without voters is a quorum of
// one voter (this node): it elects itself at once at startup, without waiting for the clock.
// With `controller.quorum.voters`, the voters elect a leader over TCP; a node not among them
// (`process.roles=broker`) follows the log as an observer. The broker serves clients only once
// the active controller has registered and unfenced it.
//
// Settings in ms map onto the core's ticks of TICK_MS: controller.quorum.election.timeout.ms,
// .fetch.timeout.ms, .request.timeout.ms, .retry.backoff.ms; snapshots every
// metadata.log.max.record.bytes.between.snapshots bytes of committed records.

import { createHash } from 'node:crypto';
import type { BrokerConfig } from '../config/broker-config.ts';
import { BrokerHeartbeats, type BrokerRegistrationInput } from '../controller/broker-heartbeats.ts';
import type { Controller } from '../controller/controller.ts';
import { FileMetadataLog, METADATA_PARTITION_DIR } from '../controller/file-metadata-log.ts';
import { encodeImageSnapshot } from '../controller/image-snapshot.ts';
import { emptyImage } from '../controller/image.ts';
import { MetadataDelta } from '../controller/metadata-delta.ts';
import { RaftMetadataLog } from '../controller/raft-metadata-log.ts';
import { decodeMetadataRecord } from '../controller/record-codec.ts';
import { randomUuid } from '../controller/ids.ts';
import { RaftNode } from '../raft/raft-node.ts';
import type { RequestBody } from '../raft/messages.ts';
import type { PersistedState } from '../raft/types.ts';
import { PeerChannels, type Endpoint } from '../raft/driver/peer-channels.ts';
import { RaftDriver, type RaftTransport } from '../raft/driver/raft-driver.ts';
import { RaftDiskStorage } from '../raft/driver/raft-storage.ts';
import { PRE_VOTE_CLIENT_ID, requestToRpc, responseFromRpc } from '../raft/driver/wire.ts';
import { realFs } from '../storage/real-fs.ts';
import { join } from '../storage/file-names.ts';
import type { FileSystem } from '../storage/fs.ts';
import { BrokerLifecycle, type ControllerChannel } from './broker-lifecycle.ts';
import type { Broker } from './broker.ts';
import { FORWARD_INTERNAL_CHANNEL, INTERNAL_FORWARD_CLIENT_ID, RpcControllerForwarder } from './controller-forwarder.ts';
import { startControllerListener, type ControllerListener } from './controller-listener.ts';
import type { BrokerSettings } from './settings.ts';

/** Length of one tick of the Raft core. */
export const TICK_MS = 50;
/** Longest a follower's fetch is held by the leader when there is nothing new. */
const FETCH_MAX_WAIT_MS = 500;
/** How long a forwarded admin operation may take, retries included. */
const FORWARD_TIMEOUT_MS = 30_000;
/** How long a controlled shutdown waits for the controller. */
const SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * The cluster id nodes agree on without configuration: derived from controller.quorum.voters,
 * which every node of a cluster has in common (set cluster.id to choose one).
 */
export function clusterIdFromVoters(voters: readonly { id: number; host: string; port: number }[]): string {
  const text = [...voters].sort((a, b) => a.id - b.id).map((v) => `${v.id}@${v.host}:${v.port}`).join(',');
  const bytes = createHash('sha256').update(`brook-cluster:${text}`).digest().subarray(0, 16);
  bytes[0] &= 0x7f; // a base64url id must not start with '-'
  return bytes.toString('base64url');
}

export interface ClusterNodeOptions {
  settings: BrokerSettings;
  config: BrokerConfig;
  clusterId: string;
  log: (line: string) => void;
  random: () => number;
  fs?: FileSystem;
}

export class ClusterNode {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly metadataLog: RaftMetadataLog;
  readonly driver: RaftDriver;
  readonly peers: PeerChannels;
  readonly requestTimeoutMs: number;
  /** A quorum of one voter: this node. */
  readonly singleVoter: boolean;
  heartbeats: BrokerHeartbeats | null = null;
  lifecycle: BrokerLifecycle | null = null;
  #listener: ControllerListener | null = null;
  #controller: Controller | null = null;
  readonly #storage: RaftDiskStorage;
  readonly #opts: ClusterNodeOptions;
  readonly #electionTicks: number;

  private constructor(opts: ClusterNodeOptions, storage: RaftDiskStorage, persisted: PersistedState) {
    const { config, settings } = opts;
    this.#opts = opts;
    this.#storage = storage;
    this.nodeId = settings.nodeId;
    this.clusterId = opts.clusterId;
    const voters = config.standaloneQuorum ? [settings.nodeId] : config.quorumVoters.map((v) => v.id);
    this.singleVoter = voters.length === 1 && voters[0] === settings.nodeId;
    this.requestTimeoutMs = config.get('controller.quorum.request.timeout.ms');
    const ticks = (ms: number) => Math.max(1, Math.round(ms / TICK_MS));
    this.#electionTicks = ticks(config.get('controller.quorum.election.timeout.ms'));
    const endpoints = new Map<number, Endpoint>(config.quorumVoters.map((v) => [v.id, { host: v.host, port: v.port }]));
    this.peers = new PeerChannels({
      endpoints,
      defaultClientId: `brook-node-${settings.nodeId}`,
      clientIds: { prevote: PRE_VOTE_CLIENT_ID, [FORWARD_INTERNAL_CHANNEL]: INTERNAL_FORWARD_CLIENT_ID },
      connectTimeoutMs: this.requestTimeoutMs,
    });
    this.metadataLog = new RaftMetadataLog({
      nodeId: settings.nodeId,
      clusterId: opts.clusterId,
      snapshotBytes: config.get('metadata.log.max.record.bytes.between.snapshots'),
      log: opts.log,
    });
    const fetchWaitMs = Math.min(FETCH_MAX_WAIT_MS, Math.floor(this.requestTimeoutMs / 2));
    const node = new RaftNode({
      id: settings.nodeId,
      voters,
      random: opts.random,
      persisted,
      config: {
        electionTimeoutTicks: this.#electionTicks,
        fetchTimeoutTicks: ticks(config.get('controller.quorum.fetch.timeout.ms')),
        fetchMaxWaitTicks: ticks(fetchWaitMs),
        requestTimeoutTicks: ticks(this.requestTimeoutMs),
        retryBackoffTicks: ticks(config.get('controller.quorum.retry.backoff.ms')),
        snapshotChunkBytes: 1024 * 1024,
        snapshotMinEntries: 0,
      },
    });
    const transport: RaftTransport = {
      request: async (msg) => {
        const rpc = requestToRpc(msg.to, msg.body as RequestBody, opts.clusterId, TICK_MS);
        const fetch = rpc.apiKey === 1 || rpc.apiKey === 59;
        const channel = rpc.apiKey === 52 ? (rpc.preVote ? 'prevote' : 'vote') : fetch ? 'fetch' : 'control';
        try {
          const res = await this.peers.send(msg.to, channel, rpc.apiKey, rpc.version, rpc.body as never, this.requestTimeoutMs + (fetch ? fetchWaitMs : 0));
          return responseFromRpc(rpc.apiKey, res);
        } catch {
          return null; // the core resends after its request timeout
        }
      },
    };
    this.driver = new RaftDriver({
      node, storage, transport, app: this.metadataLog, tickMs: TICK_MS,
      answerTimeoutMs: this.requestTimeoutMs, log: opts.log,
      onFatal: () => opts.log('the metadata quorum member stopped: restart the node'),
    });
  }

  /** Opens the quorum state on disk (nothing runs until `start`). */
  static async open(opts: ClusterNodeOptions): Promise<ClusterNode> {
    const fs = opts.fs ?? realFs;
    const dir = join(opts.config.metadataLogDir, METADATA_PARTITION_DIR);
    const storage = await RaftDiskStorage.open(dir, fs);
    let persisted = storage.loaded;
    if (storage.fresh) persisted = (await importSingleNodeLog(dir, storage, opts)) ?? persisted;
    return new ClusterNode(opts, storage, persisted);
  }

  /** Connects the controller whose image the quorum feeds. */
  bind(controller: Controller): void {
    this.#controller = controller;
    this.metadataLog.bind(this.driver, controller);
    if (this.#opts.config.isController) {
      this.heartbeats = new BrokerHeartbeats(controller, {
        sessionTimeoutMs: this.#opts.config.get('broker.session.timeout.ms'),
        localBrokerId: this.#opts.config.isBroker ? this.nodeId : null,
        log: this.#opts.log,
      });
    }
    this.metadataLog.forwarder = new RpcControllerForwarder({
      peers: this.peers,
      selfId: this.nodeId,
      activeControllerId: () => this.metadataLog.activeControllerId(),
      waitApplied: (end, ms) => this.metadataLog.waitApplied(end, ms),
      timeoutMs: FORWARD_TIMEOUT_MS,
      requestTimeoutMs: this.requestTimeoutMs,
    });
    this.metadataLog.onActiveChange((active) => {
      this.heartbeats?.setActive(active);
      if (active) controller.activate().catch((e: unknown) => this.#opts.log(`controller activation failed: ${(e as Error)?.message ?? e}`));
    });
  }

  activeControllerId(): number {
    return this.metadataLog.activeControllerId();
  }

  /**
   * Starts the controller listener and the quorum member, then registers this broker; resolves
   * once the broker is unfenced (for a single voter: at once; otherwise once a quorum formed).
   */
  async start(broker: Broker): Promise<void> {
    const { config, settings, log } = this.#opts;
    const controller = this.#controller!;
    const listenerName = config.controllerListenerNames[0];
    const l = config.isController ? config.listeners.find((x) => x.name === listenerName) : undefined;
    if (l !== undefined) {
      this.#listener = await startControllerListener(broker, l.host === '' ? '0.0.0.0' : l.host, l.port, log);
      log(`controller listener ${listenerName} on ${this.#listener.host}:${this.#listener.port}`);
    }
    await this.driver.start();
    if (this.singleVoter) {
      // Nobody else votes: elect this node now instead of after an election timeout.
      await this.driver.fastForward(() => this.metadataLog.isActive(), 4 * this.#electionTicks + 10);
    } else {
      log(`node ${this.nodeId}: joining the metadata quorum (voters ${config.quorumVoters.map((v) => v.id).join(', ')})`);
    }
    this.heartbeats?.start();
    const registration: BrokerRegistrationInput = {
      brokerId: settings.nodeId,
      clusterId: this.clusterId,
      incarnationId: randomUuid(this.#opts.random),
      listeners: [{ name: settings.listenerName, host: settings.advertisedHost, port: settings.advertisedPort, securityProtocol: 0 }],
      rack: settings.rack,
    };
    this.lifecycle = new BrokerLifecycle({
      registration,
      channel: this.#controllerChannel(),
      intervalMs: config.get('broker.heartbeat.interval.ms'),
      metadataOffset: () => controller.image.metadataOffset,
      log,
    });
    await this.lifecycle.start();
    // The controller's answer can come before this node has applied the unfencing record: serve
    // once this node's own image shows it, so its Metadata lists itself.
    await this.#untilImage(() => controller.image.brokers.get(settings.nodeId)?.fenced === false, 10 * this.requestTimeoutMs);
  }

  #untilImage(done: () => boolean, timeoutMs: number): Promise<void> {
    const controller = this.#controller!;
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      const unsubscribe = controller.onChange(() => {
        if (done()) finish();
      });
    });
  }

  /** Before closing: controlled shutdown (leaderships move away), then give up the quorum leadership. */
  async shutdown(): Promise<void> {
    const lifecycle = this.lifecycle;
    if (lifecycle !== null) {
      if (this.singleVoter) lifecycle.stop();
      else await lifecycle.shutdown(SHUTDOWN_TIMEOUT_MS);
    }
    if (!this.singleVoter && this.driver.node.role === 'leader' && !this.driver.stopped) {
      await this.driver.resign().catch(() => undefined);
      // Let EndQuorumEpoch reach the voters before the connections close.
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    this.lifecycle?.stop();
    this.heartbeats?.stop();
    await this.metadataLog.close();
    await this.driver.stop();
    await this.#listener?.close();
    this.peers.close();
    await this.#storage.close();
  }

  /** The active controller, in process when this node is it, over the controller listener otherwise. */
  #controllerChannel(): ControllerChannel {
    const target = (): number | 'local' => {
      const active = this.metadataLog.activeControllerId();
      if (active === this.nodeId && this.heartbeats !== null && this.metadataLog.isActive()) return 'local';
      if (active < 0 || active === this.nodeId) throw new Error('no active controller yet');
      return active;
    };
    return {
      register: async (reg) => {
        const t = target();
        if (t === 'local') return this.heartbeats!.register(reg, true);
        const r = await this.peers.send(t, 'broker', 62, 2, {
          brokerId: reg.brokerId, clusterId: reg.clusterId, incarnationId: reg.incarnationId,
          listeners: reg.listeners.map((x) => ({ ...x })), features: [], rack: reg.rack, isMigratingZkBroker: false,
          logDirs: [], previousBrokerEpoch: -1n,
        }, this.requestTimeoutMs);
        return { errorCode: r.errorCode, brokerEpoch: r.brokerEpoch };
      },
      heartbeat: async (hb) => {
        const t = target();
        if (t === 'local') return this.heartbeats!.heartbeat(hb);
        const r = await this.peers.send(t, 'broker', 63, 0, {
          brokerId: hb.brokerId, brokerEpoch: hb.brokerEpoch, currentMetadataOffset: BigInt(hb.currentMetadataOffset),
          wantFence: hb.wantFence, wantShutDown: hb.wantShutDown, offlineLogDirs: [],
        }, this.requestTimeoutMs);
        return { errorCode: r.errorCode, isCaughtUp: r.isCaughtUp, isFenced: r.isFenced, shouldShutDown: r.shouldShutDown };
      },
    };
  }
}

/**
 * A data directory written before the quorum existed holds the single-node metadata log
 * (`__cluster_metadata-0/__cluster_metadata-0/00000000000000000000.log`). Its image becomes the
 * first snapshot, so the node keeps its topics; the old file is left in place, unused.
 */
async function importSingleNodeLog(dir: string, storage: RaftDiskStorage, opts: ClusterNodeOptions): Promise<PersistedState | null> {
  const fs = opts.fs ?? realFs;
  if ((await fs.stat(join(dir, METADATA_PARTITION_DIR))) === null) return null;
  const legacy = await FileMetadataLog.open(dir, { fs });
  const delta = new MetadataDelta(emptyImage(opts.clusterId));
  let count = 0;
  try {
    await legacy.replay((buf, offset) => {
      delta.replay(decodeMetadataRecord(buf), offset);
      count++;
    });
  } finally {
    await legacy.close();
  }
  if (count === 0) return null;
  const image = delta.apply().image;
  const snapshot = { id: { endOffset: 1, epoch: 0 }, data: new Uint8Array(encodeImageSnapshot(image, Date.now())) };
  await storage.apply([{ op: 'snapshot', snapshot }]);
  opts.log(`metadata: imported ${count} records of the single-node metadata log as snapshot 1-0`);
  return { hardState: storage.loaded.hardState, snapshot, entries: [] };
}
