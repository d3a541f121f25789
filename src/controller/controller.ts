// The controller (Kafka's QuorumController, single node for now): owns the metadata log and the
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
// the Raft quorum (issue 4) plugs in: nothing here knows whether the log is a local file or a
// replicated one.
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
    this.#image = emptyImage(clusterId);
  }

  /** Replays the log into the image, bootstraps an empty log, registers the local broker. */
  static async start(opts: ControllerOptions): Promise<Controller> {
    const random = opts.random ?? secureRandom;
    const c = new Controller(opts, opts.clusterId ?? randomClusterId(random));
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

  createTopics(topics: CreatableTopic[], opts: CreateTopicsOptions): Promise<CreateTopicResult[]> {
    return this.#run((ctx) => createTopics(ctx, topics, opts));
  }

  deleteTopics(byName: string[], byId: string[]): Promise<DeleteTopicResult[]> {
    return this.#run((ctx) => deleteTopics(ctx, byName, byId));
  }

  createPartitions(topics: CreatePartitionsTopic[], validateOnly: boolean): Promise<CreatePartitionsResult[]> {
    return this.#run((ctx) => createPartitions(ctx, topics, validateOnly));
  }

  alterConfigs(resources: AlterConfigsResource[], validateOnly: boolean, incremental: boolean): Promise<AlterConfigsResult[]> {
    return this.#run((ctx) => alterConfigs(ctx, resources, validateOnly, incremental));
  }

  /** Rejects with KafkaError (see producer-id-control.ts). */
  allocateProducerIds(brokerId: number, count: number = PRODUCER_ID_BLOCK_SIZE, brokerEpoch: bigint | null = null): Promise<ProducerIdBlock> {
    return this.#run((ctx) => allocateProducerIds(ctx, brokerId, brokerEpoch, count));
  }

  registerBroker(reg: BrokerRegistration): Promise<{ brokerEpoch: bigint }> {
    return this.#run((ctx) => registerBroker(ctx, reg));
  }

  fenceBroker(brokerId: number): Promise<void> {
    return this.#run((ctx) => fenceBroker(ctx, brokerId));
  }

  unfenceBroker(brokerId: number): Promise<void> {
    return this.#run((ctx) => unfenceBroker(ctx, brokerId));
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
    const first = last - bytes.length + 1;
    try {
      const delta = new MetadataDelta(this.#image);
      bytes.forEach((b, i) => delta.replay(decodeMetadataRecord(b), first + i));
      const { image, changes } = delta.apply();
      this.#image = image;
      for (const listener of this.#listeners) {
        try {
          listener(image, changes);
        } catch (err) {
          this.#onListenerError(err);
        }
      }
    } catch (err) {
      // The log holds records the image could not take: serving on would diverge from a restart.
      this.#failure = new ControllerFailedError(`replaying committed metadata records failed: ${(err as Error).message}`, { cause: err });
      throw this.#failure;
    }
  }
}
