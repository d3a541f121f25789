// Idempotent and transactional producers on a broker (issue 6), as `broker.txn`: the producer
// state of every local partition, producer ids from the controller, and the transaction
// coordinator. `start` loads every partition's producer state before the broker takes requests.
// Across brokers (Kafka's inter-broker transaction APIs): the coordinator sends WriteTxnMarkers to
// the leaders of the transaction's partitions, and a leader asks the coordinator to verify a
// producer's first transactional batch (KIP-890, AddPartitionsToTxn v4 verifyOnly), both over one
// connection per remote broker.
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { ProducerIdManager, type ProducerIdBlock } from './producer-ids.ts';
import { ProducerStates } from './producer-states.ts';
import { TransactionCoordinator, type CoordinatorNetwork, type TxnCoordinatorHost, type TxnGroups } from './coordinator.ts';
import type { TxnVerifier } from './produce-check.ts';
import type { InitProducerIdAnswer } from './txn-shard.ts';
import type { ApiTypes } from '../protocol/generated/api-index.ts';
import { WRITE_TXN_MARKERS_VERSION, appendMarkerLocally, type LocalMarkerHost, type MarkerFields } from './markers.ts';
import { TxnVerification, VERIFY_VERSION } from './remote-verify.ts';
import { VerifiedAppends, type AppendResult } from './verified-append.ts';

/** Deadline of one inter-broker transaction request (WriteTxnMarkers, verification). */
const INTER_BROKER_TIMEOUT_MS = 10_000;

/** Requests to other brokers (the Broker's BrokerChannels: one connection per remote broker). */
export interface InterBrokerChannels {
  /** Rejects when the broker cannot be reached or does not answer within `timeoutMs`. */
  send<K extends keyof ApiTypes>(brokerId: number, apiKey: K, version: number, request: ApiTypes[K]['request'], timeoutMs: number): Promise<ApiTypes[K]['response']>;
  /** The broker's address as clients see it, or null when it is unknown or fenced. */
  endpoint(brokerId: number): { host: string; port: number } | null;
}

export interface TransactionsHost extends TxnCoordinatorHost {
  readonly interBroker: InterBrokerChannels;
  readonly logs: { all(): PartitionLog[] };
  readonly controller: TxnCoordinatorHost['controller'] & { allocateProducerIds(brokerId: number, count?: number): Promise<ProducerIdBlock> };
  readonly groups: TxnGroups;
  effectiveConfig(): BrokerConfig;
}

export class Transactions {
  readonly producers: ProducerStates;
  readonly ids: ProducerIdManager;
  readonly coordinator: TransactionCoordinator;
  /** KIP-890 verifications this node asked for as a partition leader. */
  readonly verification: TxnVerification;
  readonly #appends: VerifiedAppends;
  readonly #markerHost: LocalMarkerHost;
  readonly #host: TransactionsHost;
  #timer: NodeJS.Timeout | null = null;

  constructor(host: TransactionsHost) {
    this.#host = host;
    const nodeId = host.settings.nodeId;
    this.producers = new ProducerStates({ log: (line) => host.log(line), now: () => Date.now() });
    this.ids = new ProducerIdManager(() => host.controller.allocateProducerIds(nodeId));
    this.verification = new TxnVerification({
      nodeId,
      coordinatorOf: (id) => this.coordinator.coordinatorOf(id),
      verifyLocally: (id, producerId, epoch, topic, partition) => this.coordinator.verifier(id, topic, partition)(producerId, epoch),
      send: (brokerId, request) => host.interBroker.send(brokerId, 24, VERIFY_VERSION, request, INTER_BROKER_TIMEOUT_MS),
      now: () => Date.now(),
    });
    this.#markerHost = {
      leaderLog: (topic, partition) => host.leaderLog(topic, partition),
      fsyncAcksAll: host.settings.fsyncAcksAll,
      completeGroupTransaction: (p, id, epoch, commit, ce) => host.groups.completeTransaction(p, id, epoch, commit, ce),
      onMarker: (topic, partition, producerId) => this.verification.onMarker(topic, partition, producerId),
    };
    const network: CoordinatorNetwork = {
      markers: {
        nodeId,
        leaderOf: (topic, partition) => host.image.topics.get(topic)?.partitions.get(partition)?.leader ?? null,
        appendLocal: (topic, partition, m) => this.appendMarker(topic, partition, m),
        sendMarkers: (brokerId, request) => host.interBroker.send(brokerId, 27, WRITE_TXN_MARKERS_VERSION, request, INTER_BROKER_TIMEOUT_MS),
      },
      verify: (id, producerId, epoch, topic, partition) => this.verification.verify(id, producerId, epoch, topic, partition),
    };
    this.coordinator = new TransactionCoordinator(host, () => host.groups, this.producers, this.ids, network);
    this.#appends = new VerifiedAppends(this.verification, (topic, partition) => {
      const l = host.leaderLog(topic, partition);
      return l.log === null ? null : l.leaderEpoch;
    });
  }

  /**
   * FindCoordinator key type 1: the leader of the id's __transaction_state partition, creating the
   * topic on first use (Kafka's TransactionStateManager answers the same way).
   */
  async findCoordinator(transactionalId: string): Promise<{ errorCode: number; errorMessage: string | null; nodeId: number; host: string; port: number }> {
    const none = (errorCode: number, errorMessage: string | null = null) => ({ errorCode, errorMessage, nodeId: -1, host: '', port: -1 });
    try {
      await this.coordinator.ensureTopic();
    } catch (err) {
      return none(err instanceof KafkaError ? err.code : ErrorCode.COORDINATOR_NOT_AVAILABLE, (err as Error).message);
    }
    const leader = this.coordinator.coordinatorOf(transactionalId);
    const ep = leader === null || leader < 0 ? null : this.#host.interBroker.endpoint(leader);
    if (leader === null || leader < 0 || ep === null) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: leader, host: ep.host, port: ep.port };
  }

  /** Appends a COMMIT/ABORT marker to a partition this node leads (WriteTxnMarkers, and the local coordinator); resolves with an error code. */
  appendMarker(topic: string, partition: number, m: MarkerFields): Promise<number> {
    return appendMarkerLocally(this.#markerHost, this.producers, topic, partition, m);
  }

  /**
   * The append of one partition of a Produce with a transactional id: `run` appends with the
   * verifier it is given. Synchronous unless the id's coordinator is another broker and the
   * producer is not yet verified in this partition (then a promise; see verified-append.ts).
   */
  appendTransactional<R extends AppendResult>(
    transactionalId: string, topic: string, partition: number, records: Buffer | null,
    run: (verify: TxnVerifier) => R, failed: (errorCode: number, message: string) => R,
  ): R | Promise<R> {
    return this.#appends.append(transactionalId, topic, partition, records, run, failed);
  }

  async start(): Promise<void> {
    await this.producers.loadAll(this.#host.logs.all());
    this.coordinator.start();
    const every = this.#host.config.get('producer.id.expiration.check.interval.ms');
    this.#timer = setInterval(() => {
      this.producers.expire(this.#host.logs.all(), this.#host.effectiveConfig().get('producer.id.expiration.ms'));
    }, every);
    this.#timer.unref();
  }

  onMetadata(): void {
    this.coordinator.onMetadata();
    this.verification.retain((topic, partition) => this.#host.leaderLog(topic, partition).log !== null);
  }

  /** Stops the coordinator and snapshots producer state (call after the server stopped taking requests). */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.coordinator.close();
    await this.producers.snapshotAll(this.#host.logs.all());
  }

  /** InitProducerId: a plain idempotent producer (null id) gets a fresh id at epoch 0, as in Kafka. */
  async initProducerId(transactionalId: string | null, timeoutMs: number, expected: { producerId: bigint; epoch: number } | null): Promise<InitProducerIdAnswer> {
    if (transactionalId !== null) return this.coordinator.initProducerId(transactionalId, timeoutMs, expected);
    try {
      return { errorCode: ErrorCode.NONE, producerId: await this.ids.next(), producerEpoch: 0 };
    } catch (err) {
      this.#host.log(`producer id allocation failed: ${(err as Error).message}`);
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, producerId: -1n, producerEpoch: -1 };
    }
  }

  /** The check a transactional Produce makes for one partition, or null for a request without a transactional id. */
  verifier(transactionalId: string | null, topic: string, partition: number): TxnVerifier | null {
    return transactionalId === null ? null : this.verification.verifier(transactionalId, topic, partition);
  }

  lastStableOffset(log: PartitionLog): number {
    return this.producers.lastStableOffset(log);
  }
}
