// The transaction coordinator service: routes each transactional id to the shard of its
// __transaction_state partition (Kafka: abs(javaHash(id)) % transaction.state.log.num.partitions),
// creates the topic on first use, drives Prepare* → markers → Complete*, aborts transactions past
// their timeout (bumping the epoch, which fences the zombie producer), expires idle ids, and answers
// the produce path's "may this producer write here?" from the local state.
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { MetadataImage } from '../controller/image.ts';
import type { CreatableTopic, CreateTopicResult, CreateTopicsOptions } from '../controller/topic-control.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { javaStringHash } from '../group/group-partition.ts';
import { LedPartitions } from '../group/led-partitions.ts';
import type { TxnOffsetGuard } from '../group/txn-offsets.ts';
import type { TxnOffsetCommitRequest } from '../protocol/generated/txn-offset-commit-request.ts';
import type { TxnOffsetCommitResponse } from '../protocol/generated/txn-offset-commit-response.ts';
import { CONSUMER_OFFSETS, writeMarkers, type MarkerRouting } from './markers.ts';
import type { ProducerIdManager } from './producer-ids.ts';
import type { ProducerStates } from './producer-states.ts';
import type { TxnVerifier } from './produce-check.ts';
import { TRANSACTION_STATE_TOPIC, TxnState, tpKey } from './txn-metadata.ts';
import { TxnRuntime } from './txn-runtime.ts';
import type { InitProducerIdAnswer, TxnDescription, TxnOp } from './txn-shard.ts';

/** What the coordinator needs of the broker (Broker provides it). */
export interface TxnCoordinatorHost {
  readonly settings: { nodeId: number; fsyncAcksAll: boolean };
  readonly config: BrokerConfig;
  readonly image: MetadataImage;
  readonly controller: { createTopics(topics: CreatableTopic[], opts: CreateTopicsOptions): Promise<CreateTopicResult[]> };
  leaderLog(topic: string, partition: number): { errorCode: number; log: PartitionLog | null; leaderEpoch: number };
  log(line: string): void;
}

/** What transactions need of the group coordinator (issue 5's GroupCoordinator provides it). */
export interface TxnGroups {
  partitionFor(groupId: string): number;
  ensureTopic(): Promise<void>;
  completeTransaction(offsetsPartition: number, producerId: bigint, producerEpoch: number, commit: boolean, coordinatorEpoch: number): Promise<void>;
  /** KIP-890: the producer's verification guard in the group's shard (rejects with a KafkaError when not served here). */
  startTxnVerification(groupId: string, producerId: bigint): Promise<TxnOffsetGuard>;
  /** Appends the commit only if no marker of the producer reached the shard since `guard` was taken (else INVALID_TXN_STATE). */
  txnCommitOffsets(req: TxnOffsetCommitRequest, version: number, guard: TxnOffsetGuard | null): Promise<TxnOffsetCommitResponse>;
}

/** How the coordinator reaches partitions and coordinators on other brokers (Transactions binds it to the inter-broker connections). */
export interface CoordinatorNetwork {
  readonly markers: MarkerRouting;
  /** KIP-890 verification of a partition in a transaction whose coordinator may be elsewhere (produce-path codes). */
  verify(transactionalId: string, producerId: bigint, epoch: number, topic: string, partition: number): Promise<number>;
}

export interface TxnCoordinatorConfig {
  maxTimeoutMs: number;
  numPartitions: number;
  replicationFactor: number;
  minIsr: number;
  segmentBytes: number;
  idExpirationMs: number;
  abortIntervalMs: number;
  expireIntervalMs: number;
}

export function txnConfigFrom(c: BrokerConfig): TxnCoordinatorConfig {
  return {
    maxTimeoutMs: c.get('transaction.max.timeout.ms'),
    numPartitions: c.get('transaction.state.log.num.partitions'),
    replicationFactor: c.get('transaction.state.log.replication.factor'),
    minIsr: c.get('transaction.state.log.min.isr'),
    segmentBytes: c.get('transaction.state.log.segment.bytes'),
    idExpirationMs: c.get('transactional.id.expiration.ms'),
    abortIntervalMs: c.get('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
    expireIntervalMs: c.get('transaction.remove.expired.transaction.cleanup.interval.ms'),
  };
}

const MARKER_RETRY_MS = 500;

function codeOf(err: unknown): number {
  return err instanceof KafkaError ? err.code : ErrorCode.COORDINATOR_NOT_AVAILABLE;
}

export class TransactionCoordinator {
  readonly config: TxnCoordinatorConfig;
  readonly #host: TxnCoordinatorHost;
  readonly #groups: () => TxnGroups;
  readonly #producers: ProducerStates;
  readonly #ids: ProducerIdManager;
  readonly #runtimes: LedPartitions<TxnRuntime>;
  readonly #completing = new Map<string, Promise<void>>();
  readonly #timers: NodeJS.Timeout[] = [];
  #creating: Promise<void> | null = null;
  readonly #network: CoordinatorNetwork;

  constructor(
    host: TxnCoordinatorHost, groups: () => TxnGroups, producers: ProducerStates, ids: ProducerIdManager,
    network: CoordinatorNetwork, config: TxnCoordinatorConfig = txnConfigFrom(host.config),
  ) {
    this.#host = host;
    this.#groups = groups;
    this.#producers = producers;
    this.#ids = ids;
    this.config = config;
    this.#network = network;
    this.#runtimes = new LedPartitions(TRANSACTION_STATE_TOPIC, host, (p) => this.#newRuntime(p));
  }

  /** The node leading the id's __transaction_state partition: null when the topic does not exist, -1 without a leader. */
  coordinatorOf(transactionalId: string): number | null {
    const part = this.#host.image.topics.get(TRANSACTION_STATE_TOPIC)?.partitions.get(this.partitionFor(transactionalId));
    return part === undefined ? null : part.leader;
  }

  partitionFor(transactionalId: string): number {
    const n = this.#host.image.topics.get(TRANSACTION_STATE_TOPIC)?.partitions.size ?? this.config.numPartitions;
    const h = javaStringHash(transactionalId);
    return (h === -2147483648 ? 0 : Math.abs(h)) % n;
  }

  // --- lifecycle ----------------------------------------------------------------------------------

  start(): void {
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.config.abortIntervalMs, () => this.#abortTimedOut());
    every(this.config.expireIntervalMs, () => this.#expireIds());
    this.onMetadata();
  }

  /** Loads the partitions this node leads, drops the others. Call after each metadata change. */
  onMetadata(): void {
    this.#runtimes.onMetadata();
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#runtimes.close();
    await Promise.allSettled([...this.#completing.values()]);
  }

  #newRuntime(partition: number): TxnRuntime | null {
    const { log, leaderEpoch } = this.#host.leaderLog(TRANSACTION_STATE_TOPIC, partition);
    if (log === null) return null;
    const rt = new TxnRuntime({
      partition, leaderEpoch, log, sync: this.#host.settings.fsyncAcksAll,
      report: (line) => this.#host.log(line),
      onFailure: (failed) => this.#runtimes.drop(partition, failed),
    });
    // Decisions already durable before a restart are carried out now.
    rt.loaded.then(() => {
      for (const id of rt.shard.preparing()) void this.#complete(rt, id);
    }, () => {});
    return rt;
  }

  /** Creates __transaction_state (compacted) once; concurrent callers share the attempt. */
  ensureTopic(): Promise<void> {
    if (this.#host.image.topics.has(TRANSACTION_STATE_TOPIC)) return Promise.resolve();
    this.#creating ??= (async () => {
      try {
        const c = this.config;
        const [res] = await this.#host.controller.createTopics([{
          name: TRANSACTION_STATE_TOPIC,
          numPartitions: c.numPartitions,
          replicationFactor: c.replicationFactor,
          assignments: [],
          configs: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'compression.type', value: 'uncompressed' },
            { name: 'min.insync.replicas', value: String(c.minIsr) },
            { name: 'segment.bytes', value: String(c.segmentBytes) },
            { name: 'unclean.leader.election.enable', value: 'false' },
          ],
        }], { validateOnly: false, internal: true });
        if (res.errorCode !== ErrorCode.NONE && res.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
          this.#host.log(`transaction coordinator: creating ${TRANSACTION_STATE_TOPIC} failed: ${res.errorMessage ?? res.errorCode}`);
          throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, res.errorMessage ?? undefined);
        }
      } finally {
        this.#creating = null;
      }
    })();
    return this.#creating;
  }

  /** The loaded shard of an id, creating the topic and waiting for a load; throws a KafkaError otherwise. */
  async #runtimeFor(transactionalId: string): Promise<TxnRuntime> {
    if (this.#runtimes.closed) throw new KafkaError(ErrorCode.NOT_COORDINATOR);
    await this.ensureTopic();
    return this.#runtimes.runtimeFor(this.partitionFor(transactionalId));
  }

  /** Writes an operation's record (if any), then starts its completion when it asks for one. */
  async #apply<T>(rt: TxnRuntime, transactionalId: string, op: TxnOp<T>): Promise<{ response: T; completion: Promise<void> | null }> {
    if (op.record === null) return { response: op.response, completion: null };
    await rt.write([op.record]);
    return { response: op.response, completion: op.complete ? this.#complete(rt, transactionalId) : null };
  }

  // --- completion: markers, then Complete* ------------------------------------------------------------

  #complete(rt: TxnRuntime, transactionalId: string): Promise<void> {
    const running = this.#completing.get(transactionalId);
    if (running !== undefined) return running;
    const p = this.#completeOnce(rt, transactionalId).finally(() => this.#completing.delete(transactionalId));
    this.#completing.set(transactionalId, p);
    return p;
  }

  async #completeOnce(rt: TxnRuntime, transactionalId: string): Promise<void> {
    const m = rt.shard.txns.get(transactionalId);
    if (m === undefined || (m.state !== TxnState.PrepareCommit && m.state !== TxnState.PrepareAbort)) return;
    try {
      await writeMarkers(this.#network.markers, {
        producerId: m.producerId, producerEpoch: m.producerEpoch, commit: m.state === TxnState.PrepareCommit,
        coordinatorEpoch: rt.leaderEpoch, partitions: m.partitions,
      });
    } catch (err) {
      if (rt.state !== 'active') return;
      this.#host.log(`transaction coordinator: markers of ${transactionalId} not written yet, retrying: ${(err as Error).message}`);
      const t = setTimeout(() => {
        if (rt.state === 'active') void this.#complete(rt, transactionalId);
      }, MARKER_RETRY_MS);
      t.unref();
      return;
    }
    const rec = rt.shard.complete(transactionalId, Date.now());
    if (rec !== null) await rt.write([rec]).catch((err) => this.#host.log(`transaction coordinator: completing ${transactionalId} failed: ${(err as Error).message}`));
  }

  #abortTimedOut(): void {
    this.#runtimes.reconcile();
    const now = Date.now();
    for (const rt of this.#runtimes.values()) {
      if (rt.state !== 'active') continue;
      for (const rec of rt.shard.timeOut(now)) {
        this.#host.log(`transaction coordinator: aborting ${rec.transactionalId}: past its transaction timeout`);
        rt.write([rec]).then(() => this.#complete(rt, rec.transactionalId), () => {});
      }
      for (const id of rt.shard.preparing()) if (!this.#completing.has(id)) void this.#complete(rt, id);
    }
  }

  #expireIds(): void {
    const now = Date.now();
    for (const rt of this.#runtimes.values()) {
      if (rt.state !== 'active') continue;
      const recs = rt.shard.expire(now, this.config.idExpirationMs);
      if (recs.length > 0) rt.write(recs).catch(() => {});
    }
  }

  // --- APIs ----------------------------------------------------------------------------------------

  /** InitProducerId for a transactional id (a null id is served by the caller from the id manager). */
  async initProducerId(transactionalId: string, timeoutMs: number, expected: { producerId: bigint; epoch: number } | null): Promise<InitProducerIdAnswer> {
    const fail = (errorCode: number): InitProducerIdAnswer => ({ errorCode, producerId: -1n, producerEpoch: -1 });
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST);
    if (timeoutMs <= 0 || timeoutMs > this.config.maxTimeoutMs) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    try {
      const rt = await this.#runtimeFor(transactionalId);
      const fresh = rt.shard.needsProducerId(transactionalId) ? await this.#ids.next() : null;
      const op = rt.shard.initProducerId(transactionalId, timeoutMs, expected, fresh, Date.now());
      return (await this.#apply(rt, transactionalId, op)).response;
    } catch (err) {
      return fail(codeOf(err));
    }
  }

  /** AddPartitionsToTxn for partitions already checked to exist; one code for all of them. */
  async addPartitions(transactionalId: string, producerId: bigint, epoch: number, partitions: readonly { topic: string; partition: number }[]): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    try {
      const rt = await this.#runtimeFor(transactionalId);
      const op = rt.shard.addPartitions(transactionalId, producerId, epoch, partitions.map((p) => tpKey(p.topic, p.partition)), Date.now());
      return (await this.#apply(rt, transactionalId, op)).response;
    } catch (err) {
      return codeOf(err);
    }
  }

  /** AddOffsetsToTxn: the group's __consumer_offsets partition joins the transaction. */
  async addOffsets(transactionalId: string, producerId: bigint, epoch: number, groupId: string): Promise<number> {
    try {
      await this.#groups().ensureTopic();
    } catch (err) {
      return codeOf(err);
    }
    return this.addPartitions(transactionalId, producerId, epoch, [{ topic: CONSUMER_OFFSETS, partition: this.#groups().partitionFor(groupId) }]);
  }

  /** EndTxn: answered once the markers are written and the transaction completed (or the markers are being retried). */
  async endTxn(transactionalId: string, producerId: bigint, epoch: number, commit: boolean): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    try {
      const rt = await this.#runtimeFor(transactionalId);
      const { response, completion } = await this.#apply(rt, transactionalId, rt.shard.endTxn(transactionalId, producerId, epoch, commit, Date.now()));
      if (completion !== null) await completion;
      return response;
    } catch (err) {
      return codeOf(err);
    }
  }

  /**
   * TxnOffsetCommit: checked against the transaction, then handed to the group coordinator.
   * KIP-890 (Kafka's VerificationGuard): the group's shard hands out a guard BEFORE the transaction
   * is checked for good (the remote coordinator's answer, or the local state read again right
   * after), and the append is refused (INVALID_TXN_STATE) if a COMMIT/ABORT marker of the
   * producer reached that shard since — otherwise a check answered just before the marker would
   * leave the offsets pending for ever. Both paths (coordinator here or elsewhere) use it.
   */
  async txnOffsetCommit(req: TxnOffsetCommitRequest, version: number): Promise<TxnOffsetCommitResponse> {
    const all = (errorCode: number): TxnOffsetCommitResponse => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
    });
    const groups = this.#groups();
    if (this.coordinatorOf(req.transactionalId) !== this.#host.settings.nodeId) {
      // The request came to the group's coordinator; the transaction's is another broker, asked as a
      // partition leader asks it (KIP-890). Kafka turns the retriable produce-path code into
      // COORDINATOR_NOT_AVAILABLE for offset commits.
      const offsetsPartition = groups.partitionFor(req.groupId);
      const leader = this.#host.image.topics.get(CONSUMER_OFFSETS)?.partitions.get(offsetsPartition)?.leader;
      if (leader !== this.#host.settings.nodeId) return all(ErrorCode.NOT_COORDINATOR);
      let guard: TxnOffsetGuard;
      try {
        guard = await groups.startTxnVerification(req.groupId, req.producerId);
      } catch (err) {
        return all(codeOf(err));
      }
      const code = await this.#network.verify(req.transactionalId, req.producerId, req.producerEpoch, CONSUMER_OFFSETS, offsetsPartition);
      if (code !== ErrorCode.NONE) return all(code === ErrorCode.NOT_ENOUGH_REPLICAS ? ErrorCode.COORDINATOR_NOT_AVAILABLE : code);
      return groups.txnCommitOffsets(req, version, guard);
    }
    try {
      const rt = await this.#runtimeFor(req.transactionalId);
      const check = (): number => {
        const m = rt.shard.txns.get(req.transactionalId);
        if (m === undefined || m.producerId !== req.producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
        if (m.producerEpoch !== req.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
        if (m.state !== TxnState.Ongoing || !m.partitions.has(tpKey(CONSUMER_OFFSETS, groups.partitionFor(req.groupId)))) return ErrorCode.INVALID_TXN_STATE;
        return ErrorCode.NONE;
      };
      const early = check();
      if (early !== ErrorCode.NONE) return all(early);
      // The guard, then the check again (synchronously after it): a marker before the guard shows
      // in the check; one after it makes the append refuse.
      const guard = await groups.startTxnVerification(req.groupId, req.producerId);
      const code = rt.state === 'active' ? check() : ErrorCode.NOT_COORDINATOR;
      if (code !== ErrorCode.NONE) return all(code);
      return await groups.txnCommitOffsets(req, version, guard);
    } catch (err) {
      return all(codeOf(err));
    }
  }

  /**
   * AddPartitionsToTxn v4+ with verifyOnly (KIP-890): for each partition, whether it is in the
   * producer's ongoing transaction (NONE), else why not; one code for all when this node cannot
   * answer for the id (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, ...).
   */
  async verifyPartitions(transactionalId: string, producerId: bigint, epoch: number, partitions: readonly { topic: string; partition: number }[]): Promise<number[]> {
    if (transactionalId === '') return partitions.map(() => ErrorCode.INVALID_REQUEST);
    try {
      if (this.coordinatorOf(transactionalId) !== this.#host.settings.nodeId) throw new KafkaError(ErrorCode.NOT_COORDINATOR);
      const rt = await this.#runtimeFor(transactionalId);
      return partitions.map((p) => rt.shard.verify(transactionalId, producerId, epoch, tpKey(p.topic, p.partition)));
    } catch (err) {
      const code = codeOf(err);
      return partitions.map(() => code);
    }
  }

  async describe(transactionalId: string): Promise<TxnDescription> {
    try {
      if (transactionalId === '') throw new KafkaError(ErrorCode.INVALID_REQUEST);
      const rt = await this.#runtimeFor(transactionalId);
      return rt.shard.describe(transactionalId);
    } catch (err) {
      return {
        errorCode: codeOf(err), transactionalId, transactionState: '', transactionTimeoutMs: 0,
        transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topics: [],
      };
    }
  }

  list(states: ReadonlySet<string>, producerIds: ReadonlySet<bigint>, minDurationMs: number): { errorCode: number; transactionStates: { transactionalId: string; producerId: bigint; transactionState: string }[] } {
    let errorCode: number = ErrorCode.NONE;
    const transactionStates: { transactionalId: string; producerId: bigint; transactionState: string }[] = [];
    const now = Date.now();
    for (const rt of this.#runtimes.values()) {
      if (rt.state === 'loading') errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
      if (rt.state === 'active') transactionStates.push(...rt.shard.list(states, producerIds, minDurationMs, now));
    }
    return { errorCode, transactionStates };
  }

  /**
   * For the produce path: may the producer write transactional data to this partition? The local
   * coordinator answers at once; while it cannot (loading, elsewhere), NOT_ENOUGH_REPLICAS, the
   * retriable code Kafka gives for a failed verification on Produce.
   */
  verifier(transactionalId: string, topic: string, partition: number): TxnVerifier {
    return (producerId, epoch) => {
      const rt = this.#runtimes.get(this.partitionFor(transactionalId));
      if (rt === undefined || rt.state !== 'active') return ErrorCode.NOT_ENOUGH_REPLICAS;
      return rt.shard.verify(transactionalId, producerId, epoch, tpKey(topic, partition));
    };
  }
}
