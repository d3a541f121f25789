// Idempotent and transactional producers on a broker (issue 6), as `broker.txn`: the producer
// state of every local partition, producer ids from the controller, and the transaction
// coordinator. `start` loads every partition's producer state before the broker takes requests.
import { ErrorCode } from '../protocol/errors.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { ProducerIdManager, type ProducerIdBlock } from './producer-ids.ts';
import { ProducerStates } from './producer-states.ts';
import { TransactionCoordinator, type TxnCoordinatorHost, type TxnGroups } from './coordinator.ts';
import type { TxnVerifier } from './produce-check.ts';
import type { InitProducerIdAnswer } from './txn-shard.ts';

export interface TransactionsHost extends TxnCoordinatorHost {
  readonly logs: { all(): PartitionLog[] };
  readonly controller: TxnCoordinatorHost['controller'] & { allocateProducerIds(brokerId: number, count?: number): Promise<ProducerIdBlock> };
  readonly groups: TxnGroups;
  effectiveConfig(): BrokerConfig;
}

export class Transactions {
  readonly producers: ProducerStates;
  readonly ids: ProducerIdManager;
  readonly coordinator: TransactionCoordinator;
  readonly #host: TransactionsHost;
  #timer: NodeJS.Timeout | null = null;

  constructor(host: TransactionsHost) {
    this.#host = host;
    this.producers = new ProducerStates({ log: (line) => host.log(line), now: () => Date.now() });
    this.ids = new ProducerIdManager(() => host.controller.allocateProducerIds(host.settings.nodeId));
    this.coordinator = new TransactionCoordinator(host, () => host.groups, this.producers, this.ids);
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
    return transactionalId === null ? null : this.coordinator.verifier(transactionalId, topic, partition);
  }

  lastStableOffset(log: PartitionLog): number {
    return this.producers.lastStableOffset(log);
  }

  /** Aborted transactions overlapping [fetchOffset, upperBound) for a read_committed Fetch. */
  abortedTransactions(log: PartitionLog, fetchOffset: number, upperBound: number): { producerId: bigint; firstOffset: bigint }[] {
    return this.producers.abortedIn(log, fetchOffset, upperBound).map((a) => ({ producerId: a.producerId, firstOffset: BigInt(a.firstOffset) }));
  }
}
