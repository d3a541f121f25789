// The controller (Kafka's QuorumController): owns the metadata log and the
// latest metadata image, and runs every metadata-changing operation as one event at a time:
//
//   validate against the latest image (a control manager returns {records, response})
//   → append the records to the MetadataLog (durable / committed)
//   → replay the committed bytes into a MetadataDelta → publish the next image to listeners
//   → resolve with the response.
//
// Because one operation finishes before the next one validates, two concurrent CreateTopics of the
// same name cannot both succeed. State changes only through replay of what the log returned, so a
// restart that replays the log rebuilds exactly the same image. The MetadataLog is the seam where
// the Raft quorum plugs in. With a replicated log (`quorum` option) every node keeps an image:
// records committed by whichever node leads arrive through replayCommitted (or restoreSnapshot),
// operations run only on the active controller, and other nodes forward them (ControllerForwarder).
//
// Bootstrap: an empty log gets metadata.version (FeatureLevelRecord) first. The local broker, when
// given, is registered on every start (a new incarnation and broker epoch) and unfenced.

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import {
  bootstrapRecords,
  fenceBroker,
  METADATA_VERSION_3_9_IV0,
  registerBroker,
  unfenceBroker,
  type BrokerRegistration,
} from './cluster-control.ts';
import { alterConfigs, type AlterConfigsResource, type AlterConfigsResult } from './config-control.ts';
import { ConfigSchema } from './config-schema.ts';
import type { ControlContext, ControllerResult } from './control-context.ts';
import { randomClusterId, randomUuid, type RandomSource } from './ids.ts';
import { emptyImage, metadataVersion, type MetadataImage } from './image.ts';
import { MetadataDelta, type MetadataChanges } from './metadata-delta.ts';
import type { MetadataLog } from './metadata-log.ts';
import { createPartitions, type CreatePartitionsResult, type CreatePartitionsTopic } from './partition-control.ts';
import { allocateProducerIds, PRODUCER_ID_BLOCK_SIZE, type ProducerIdBlock } from './producer-id-control.ts';
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord } from './record-codec.ts';
import {
  createTopics,
  deleteTopics,
  type CreatableTopic,
  type CreateTopicResult,
  type CreateTopicsOptions,
  type DeleteTopicResult,
} from './topic-control.ts';

export type MetadataListener = (image: MetadataImage, changes: MetadataChanges) => void;

/** How long an operation waits for the quorum to have an active controller before it is routed. */
const SETTLE_TIMEOUT_MS = 15_000;

/** Kafka has no hard limit; this bounds what one request can make the controller allocate. */
export const DEFAULT_MAX_PARTITIONS_PER_TOPIC = 100_000;

export interface ControllerOptions {
  nodeId: number;
  log: MetadataLog;
  /** Static broker configuration: num.partitions, default.replication.factor and topic config synonyms. */
  brokerConfig: BrokerConfig;
  /** From meta.properties; generated (Kafka-style, 22 characters) when absent. */
  clusterId?: string;
  clock?: { now(): number };
  random?: RandomSource;
  /** Written to a new log; defaults to 3.9-IV0. */
  metadataVersion?: number;
  /** Registered (unfenced) on every start when given; `brokerId` is the node id. */
  localBroker?: Omit<BrokerRegistration, 'brokerId' | 'incarnationId' | 'fenced'> & { incarnationId?: string };
  maxPartitionsPerTopic?: number;
  /** Where exceptions thrown by listeners go; console.error by default. */
  onListenerError?: (err: unknown) => void;
  /**
   * Set when the log is replicated (Raft, raft-metadata-log.ts): committed records — this node's
   * and other leaders' — reach the image through replayCommitted / restoreSnapshot, operations
   * run only on the active controller, and other nodes hand them to `quorum.forwarder`.
   * `start` then neither replays, bootstraps nor registers `localBroker` (activate() bootstraps).
   */
  quorum?: ControllerQuorum;
}

/** The controller's view of the metadata quorum (implemented by the Raft binding). */
export interface ControllerQuorum {
  /** This node is the Raft leader and has applied everything up to its epoch's start. */
  isActive(): boolean;
  /** The active controller's node id, -1 when there is none. */
  activeControllerId(): number;
  /**
   * Resolves once this node is active or another node leads — or after `timeoutMs` — so that an
   * operation arriving during an election, or while this node is becoming active, goes the right way.
   */
  whenSettled(timeoutMs: number): Promise<void>;
  /** Where operations go while another node is active; null answers NOT_CONTROLLER. */
  readonly forwarder: ControllerForwarder | null;
}

/** An operation sent to the active controller (by its RPC on the controller listener). */
export interface ControllerForwarder {
  createTopics(topics: CreatableTopic[], opts: CreateTopicsOptions): Promise<CreateTopicResult[]>;
  deleteTopics(byName: string[], byId: string[]): Promise<DeleteTopicResult[]>;
  createPartitions(topics: CreatePartitionsTopic[], validateOnly: boolean): Promise<CreatePartitionsResult[]>;
  alterConfigs(resources: AlterConfigsResource[], validateOnly: boolean, incremental: boolean): Promise<AlterConfigsResult[]>;
  allocateProducerIds(brokerId: number, count: number, brokerEpoch: bigint | null): Promise<ProducerIdBlock>;
}

/** Uniform in [0, 1) from the system CSPRNG: topic ids and cluster ids must not collide across nodes. */
function secureRandom(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32;
}

export class ControllerFailedError extends Error {
  override name = 'ControllerFailedError';
}

export class Controller {
  readonly nodeId: number;
  readonly #log: MetadataLog;
  readonly #schema: ConfigSchema;
  readonly #random: RandomSource;
  readonly #now: () => number;
  readonly #maxPartitions: number;
  readonly #listeners = new Set<MetadataListener>();
  readonly #onListenerError: (err: unknown) => void;
  readonly #quorum: ControllerQuorum | undefined;
  readonly #bootstrapVersion: number;
  #image: MetadataImage;
  #queue: Promise<unknown> = Promise.resolve();
  #failure: Error | null = null;
  #closed = false;

  private constructor(opts: ControllerOptions, clusterId: string) {
    this.nodeId = opts.nodeId;
    this.#log = opts.log;
    this.#schema = new ConfigSchema(opts.brokerConfig);
    this.#random = opts.random ?? secureRandom;
    const clock = opts.clock ?? { now: () => Date.now() };
    this.#now = () => clock.now();
    this.#maxPartitions = opts.maxPartitionsPerTopic ?? DEFAULT_MAX_PARTITIONS_PER_TOPIC;
    this.#onListenerError = opts.onListenerError ?? ((err) => console.error('metadata listener failed:', err));
    this.#quorum = opts.quorum;
    this.#bootstrapVersion = opts.metadataVersion ?? METADATA_VERSION_3_9_IV0;
    this.#image = emptyImage(clusterId);
  }

  /** Replays the log into the image, bootstraps an empty log, registers the local broker. */
  static async start(opts: ControllerOptions): Promise<Controller> {
    const random = opts.random ?? secureRandom;
    const c = new Controller(opts, opts.clusterId ?? randomClusterId(random));
    if (opts.quorum !== undefined) return c;
    const delta = new MetadataDelta(c.#image);
    await opts.log.replay((buf, offset) => delta.replay(decodeMetadataRecord(buf), offset));
    c.#image = delta.apply().image;
    const supported = METADATA_VERSION_3_9_IV0;
    if (metadataVersion(c.#image) > supported) {
      throw new ControllerFailedError(`the metadata log is at metadata.version ${metadataVersion(c.#image)}; Brook supports up to ${supported}`);
    }
    if (c.#image.metadataOffset === -1) {
      await c.#run(() => ({ records: bootstrapRecords(opts.metadataVersion ?? supported), response: undefined }));
    }
    if (opts.localBroker !== undefined) {
      const { incarnationId, ...rest } = opts.localBroker;
      await c.registerBroker({ ...rest, brokerId: opts.nodeId, incarnationId: incarnationId ?? randomUuid(random), fenced: false });
    }
    return c;
  }

  get image(): MetadataImage {
    return this.#image;
  }

  get clusterId(): string {
    return this.#image.clusterId;
  }

  /** Calls `listener` after every committed change; returns the function that unsubscribes. */
  onChange(listener: MetadataListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Whether operations run here: always for a local log, on the active controller for a replicated one. */
  get isActive(): boolean {
    return this.#quorum === undefined || this.#quorum.isActive();
  }

  /** The node that runs operations; this node for a local log, -1 while a quorum has no leader. */
  activeControllerId(): number {
    return this.#quorum === undefined ? this.nodeId : this.#quorum.activeControllerId();
  }

  createTopics(topics: CreatableTopic[], opts: CreateTopicsOptions): Promise<CreateTopicResult[]> {
    return this.#route((ctx) => createTopics(ctx, topics, opts), (f) => f.createTopics(topics, opts));
  }

  deleteTopics(byName: string[], byId: string[]): Promise<DeleteTopicResult[]> {
    return this.#route((ctx) => deleteTopics(ctx, byName, byId), (f) => f.deleteTopics(byName, byId));
  }

  createPartitions(topics: CreatePartitionsTopic[], validateOnly: boolean): Promise<CreatePartitionsResult[]> {
    return this.#route((ctx) => createPartitions(ctx, topics, validateOnly), (f) => f.createPartitions(topics, validateOnly));
  }

  alterConfigs(resources: AlterConfigsResource[], validateOnly: boolean, incremental: boolean): Promise<AlterConfigsResult[]> {
    return this.#route((ctx) => alterConfigs(ctx, resources, validateOnly, incremental), (f) => f.alterConfigs(resources, validateOnly, incremental));
  }

  /** Rejects with KafkaError (see producer-id-control.ts). */
  allocateProducerIds(brokerId: number, count: number = PRODUCER_ID_BLOCK_SIZE, brokerEpoch: bigint | null = null): Promise<ProducerIdBlock> {
    return this.#route((ctx) => allocateProducerIds(ctx, brokerId, brokerEpoch, count), (f) => f.allocateProducerIds(brokerId, count, brokerEpoch));
  }

  registerBroker(reg: BrokerRegistration): Promise<{ brokerEpoch: bigint }> {
    return this.#route((ctx) => registerBroker(ctx, reg), null);
  }

  fenceBroker(brokerId: number): Promise<void> {
    return this.#route((ctx) => fenceBroker(ctx, brokerId), null);
  }

  unfenceBroker(brokerId: number): Promise<void> {
    return this.#route((ctx) => unfenceBroker(ctx, brokerId), null);
  }

  /** Runs a control-manager operation on the active controller (broker lifecycle, elections). */
  runActive<T>(op: (ctx: ControlContext) => ControllerResult<T>): Promise<T> {
    return this.#route(op, null);
  }

  /** Replicated log: this node became the active controller; a new cluster gets its bootstrap records. */
  activate(): Promise<void> {
    return this.#route((ctx) => ({
      records: ctx.image.metadataOffset === -1 ? bootstrapRecords(this.#bootstrapVersion) : [],
      response: undefined,
    }), null);
  }

  /**
   * Replicated log: records committed by the quorum (by any leader), at consecutive offsets from
   * `firstOffset`, become the next image. Throws ControllerFailedError when they cannot be replayed.
   */
  replayCommitted(records: readonly Buffer[], firstOffset: number): void {
    if (this.#failure !== null) throw this.#failure;
    try {
      const delta = new MetadataDelta(this.#image);
      records.forEach((b, i) => delta.replay(decodeMetadataRecord(b), firstOffset + i));
      this.#publish(delta.apply());
    } catch (err) {
      this.#failure = new ControllerFailedError(`replaying committed metadata records failed: ${(err as Error).message}`, { cause: err });
      throw this.#failure;
    }
  }

  /** Replicated log: the state of a snapshot replaces the image (`changes` compare the two). */
  restoreSnapshot(image: MetadataImage, changes: MetadataChanges): void {
    if (this.#failure !== null) throw this.#failure;
    this.#publish({ image, changes });
  }

  /** Waits for queued operations, then closes the log. Later operations reject. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.#log.close();
  }

  #context(): ControlContext {
    return {
      image: this.#image,
      nodeId: this.nodeId,
      random: this.#random,
      now: this.#now,
      schema: this.#schema,
      maxPartitionsPerTopic: this.#maxPartitions,
    };
  }

  /**
   * Runs an operation here when this node is the active controller; otherwise hands it to the
   * forwarder (null: NOT_CONTROLLER). Decided when called, so a request that came from another
   * node's forwarder is never forwarded again.
   */
  #route<T>(op: (ctx: ControlContext) => ControllerResult<T>, remote: ((f: ControllerForwarder) => Promise<T>) | null, settled = false): Promise<T> {
    const q = this.#quorum;
    if (q === undefined || q.isActive()) return this.#run(op);
    const active = q.activeControllerId();
    if (!settled && remote !== null && (active < 0 || active === this.nodeId)) {
      // An election, or this node won one and is catching up with its epoch: decide afterwards.
      return q.whenSettled(SETTLE_TIMEOUT_MS).then(() => this.#route(op, remote, true));
    }
    const f = q.forwarder;
    if (remote === null || f === null || this.#closed) {
      return Promise.reject(new KafkaError(ErrorCode.NOT_CONTROLLER, `This node is not the active controller (the active controller is ${q.activeControllerId()}).`));
    }
    return remote(f);
  }

  /** Runs one operation after every earlier one has finished. */
  #run<T>(op: (ctx: ControlContext) => ControllerResult<T>): Promise<T> {
    const closedAtCall = this.#closed;
    const result = this.#queue.then(async () => {
      if (closedAtCall) throw new KafkaError(ErrorCode.NOT_CONTROLLER, 'The controller is shut down.');
      if (this.#failure !== null) throw this.#failure;
      const { records, response } = op(this.#context());
      if (records.length > 0) await this.#commit(records);
      return response;
    });
    this.#queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  async #commit(records: MetadataRecord[]): Promise<void> {
    const bytes = records.map(encodeMetadataRecord);
    const last = await this.#log.append(bytes);
    // A replicated log has already replayed them (replayCommitted) before append resolved.
    if (this.#quorum !== undefined) return;
    const first = last - bytes.length + 1;
    try {
      const delta = new MetadataDelta(this.#image);
      bytes.forEach((b, i) => delta.replay(decodeMetadataRecord(b), first + i));
      this.#publish(delta.apply());
    } catch (err) {
      // The log holds records the image could not take: serving on would diverge from a restart.
      this.#failure = new ControllerFailedError(`replaying committed metadata records failed: ${(err as Error).message}`, { cause: err });
      throw this.#failure;
    }
  }

  #publish({ image, changes }: { image: MetadataImage; changes: MetadataChanges }): void {
    this.#image = image;
    for (const listener of this.#listeners) {
      try {
        listener(image, changes);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }
}
