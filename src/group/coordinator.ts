// The group coordinator service: routes each group to the shard of its __consumer_offsets
// partition (loaded on the node that leads that partition), creates the topic on first use, and
// turns "not here / not yet / failed" into the retriable codes clients expect: NOT_COORDINATOR
// (find the coordinator again), COORDINATOR_LOAD_IN_PROGRESS (retry), COORDINATOR_NOT_AVAILABLE.
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import type { MetadataImage } from '../controller/image.ts';
import type { CreatableTopic, CreateTopicResult, CreateTopicsOptions } from '../controller/topic-control.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { JoinGroupRequest } from '../protocol/generated/join-group-request.ts';
import type { JoinGroupResponse } from '../protocol/generated/join-group-response.ts';
import type { SyncGroupRequest } from '../protocol/generated/sync-group-request.ts';
import type { SyncGroupResponse } from '../protocol/generated/sync-group-response.ts';
import type { HeartbeatRequest } from '../protocol/generated/heartbeat-request.ts';
import type { HeartbeatResponse } from '../protocol/generated/heartbeat-response.ts';
import type { LeaveGroupRequest } from '../protocol/generated/leave-group-request.ts';
import type { LeaveGroupResponse } from '../protocol/generated/leave-group-response.ts';
import type { OffsetCommitRequest } from '../protocol/generated/offset-commit-request.ts';
import type { OffsetCommitResponse } from '../protocol/generated/offset-commit-response.ts';
import type { OffsetFetchResponseGroup } from '../protocol/generated/offset-fetch-response.ts';
import type { OffsetDeleteRequest } from '../protocol/generated/offset-delete-request.ts';
import type { OffsetDeleteResponse } from '../protocol/generated/offset-delete-response.ts';
import type { DescribedGroup } from '../protocol/generated/describe-groups-response.ts';
import type { ListedGroup } from '../protocol/generated/list-groups-response.ts';
import type { ConsumerGroupHeartbeatRequest } from '../protocol/generated/consumer-group-heartbeat-request.ts';
import type { ConsumerGroupHeartbeatResponse } from '../protocol/generated/consumer-group-heartbeat-response.ts';
import type { DescribedGroup as ConsumerDescribedGroup } from '../protocol/generated/consumer-group-describe-response.ts';
import { CONSUMER_OFFSETS_TOPIC, partitionForGroup } from './group-partition.ts';
import { groupConfigFrom, type GroupConfig } from './group-config.ts';
import { joinError, syncError } from './classic-rebalance.ts';
import { AUTHORIZED_OPERATIONS_OMITTED } from './group-admin.ts';
import { ShardRuntime, type CoordinatorLog } from './runtime.ts';
import { LedPartitions } from './led-partitions.ts';
import type { GroupShard, RequestMeta, TopicInfo, TopicResolver } from './shard.ts';
import type { Result } from './result.ts';
import type { FetchOffsetsOptions } from './offset-ops.ts';
import type { TxnOffsetCommitRequest } from '../protocol/generated/txn-offset-commit-request.ts'; // transactions (issue 6)
import type { TxnOffsetCommitResponse } from '../protocol/generated/txn-offset-commit-response.ts';
import { txnCommitOffsets, type TxnOffsetGuard } from './txn-offsets.ts';

/** What the coordinator needs of the broker (Broker provides it). */
export interface CoordinatorHost {
  readonly settings: { nodeId: number; listenerName: string; advertisedHost: string; advertisedPort: number; fsyncAcksAll: boolean };
  readonly config: BrokerConfig;
  readonly image: MetadataImage;
  readonly controller: { createTopics(topics: CreatableTopic[], opts: CreateTopicsOptions): Promise<CreateTopicResult[]> };
  leaderLog(topic: string, partition: number): { errorCode: number; log: CoordinatorLog | null; leaderEpoch: number };
  log(line: string): void;
}

export interface CoordinatorAddress {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

export function errorCodeOf(err: unknown): number {
  return err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
}


function resolverFor(image: () => MetadataImage): TopicResolver {
  const info = (t: { id: string; name: string; partitions: ReadonlyMap<number, unknown> } | undefined): TopicInfo | undefined =>
    t === undefined ? undefined : { id: t.id, name: t.name, numPartitions: t.partitions.size };
  return {
    byName: (name) => info(image().topics.get(name)),
    byId: (id) => info(image().topicsById.get(id)),
  };
}

export class GroupCoordinator {
  readonly config: GroupConfig;
  readonly #host: CoordinatorHost;
  readonly #runtimes: LedPartitions<ShardRuntime>;
  readonly #topics: TopicResolver;
  #creating: Promise<void> | null = null;
  /** Failed runtimes' appends still in flight, which a reload must wait for. */
  readonly #draining = new Map<number, Promise<void>>();

  constructor(host: CoordinatorHost, config: GroupConfig = groupConfigFrom(host.config)) {
    this.#host = host;
    this.config = config;
    this.#topics = resolverFor(() => host.image);
    this.#runtimes = new LedPartitions(CONSUMER_OFFSETS_TOPIC, host, (p) => this.#newRuntime(p));
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.#numPartitions());
  }

  /** The partition count of the existing topic wins over the configuration (it cannot change). */
  #numPartitions(): number {
    return this.#host.image.topics.get(CONSUMER_OFFSETS_TOPIC)?.partitions.size ?? this.config.numPartitions;
  }

  // --- lifecycle ----------------------------------------------------------------------------------

  /** Loads the partitions this node leads; unloads those it no longer leads. Call after each metadata change. */
  onMetadata(): void {
    this.#runtimes.onMetadata();
  }

  async close(): Promise<void> {
    this.#runtimes.close();
  }

  #newRuntime(partition: number): ShardRuntime | null {
    const { log, leaderEpoch } = this.#host.leaderLog(CONSUMER_OFFSETS_TOPIC, partition);
    if (log === null) return null;
    return new ShardRuntime({
      partition,
      leaderEpoch,
      log,
      sync: this.#host.settings.fsyncAcksAll,
      env: {
        config: this.config,
        topics: this.#topics,
        newUuid: () => crypto.randomUUID(),
        log: (line) => this.#host.log(line),
      },
      onFailure: (failed) => {
        this.#runtimes.drop(partition, failed);
        this.#draining.set(partition, failed.drained());
      },
      after: this.#draining.get(partition),
    });
  }

  /** Creates __consumer_offsets (compacted) once; concurrent callers share the attempt. */
  ensureTopic(): Promise<void> {
    if (this.#host.image.topics.has(CONSUMER_OFFSETS_TOPIC)) return Promise.resolve();
    this.#creating ??= (async () => {
      try {
        const c = this.#host.config;
        const [res] = await this.#host.controller.createTopics([{
          name: CONSUMER_OFFSETS_TOPIC,
          numPartitions: this.config.numPartitions,
          replicationFactor: c.get('offsets.topic.replication.factor'),
          assignments: [],
          configs: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'compression.type', value: 'producer' },
            { name: 'segment.bytes', value: String(c.get('offsets.topic.segment.bytes')) },
          ],
        }], { validateOnly: false, internal: true });
        if (res.errorCode !== ErrorCode.NONE && res.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
          this.#host.log(`group coordinator: creating ${CONSUMER_OFFSETS_TOPIC} failed: ${res.errorMessage ?? res.errorCode}`);
          throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, res.errorMessage ?? undefined);
        }
      } finally {
        this.#creating = null;
      }
    })();
    return this.#creating;
  }

  // --- routing ------------------------------------------------------------------------------------

  /** The loaded shard of a group, waiting for a load in progress; throws a KafkaError otherwise. */
  #runtimeFor(groupId: string): Promise<ShardRuntime> {
    return this.#runtimes.runtimeFor(this.partitionFor(groupId));
  }

  /** Runs an operation on the group's shard; errors become `onError(code)`. */
  async #write<T>(groupId: string, op: (s: GroupShard) => Result<T>, onError: (code: number) => T): Promise<T> {
    try {
      const rt = await this.#runtimeFor(groupId);
      return await rt.write(op);
    } catch (err) {
      this.#logUnexpected(err);
      return onError(errorCodeOf(err));
    }
  }

  async #read<T>(groupId: string, op: (s: GroupShard) => T, onError: (code: number) => T): Promise<T> {
    try {
      const rt = await this.#runtimeFor(groupId);
      return rt.read(op);
    } catch (err) {
      this.#logUnexpected(err);
      return onError(errorCodeOf(err));
    }
  }

  /** JoinGroup and SyncGroup answer through a callback: they may wait for the rebalance. */
  #parked<T>(groupId: string, op: (s: GroupShard, reply: (r: T) => void) => Result<void>, onError: (code: number) => T): Promise<T> {
    return new Promise<T>((resolve) => {
      this.#runtimeFor(groupId).then(
        (rt) => rt.write((s) => op(s, resolve)).catch((err) => resolve(onError(errorCodeOf(err)))),
        (err) => {
          this.#logUnexpected(err);
          resolve(onError(errorCodeOf(err)));
        },
      );
    });
  }

  #logUnexpected(err: unknown): void {
    if (!(err instanceof KafkaError)) this.#host.log(`group coordinator: unexpected failure: ${(err as Error)?.stack ?? err}`);
  }

  // --- FindCoordinator ------------------------------------------------------------------------------

  #address(nodeId: number): { host: string; port: number } | null {
    const s = this.#host.settings;
    const b = this.#host.image.brokers.get(nodeId);
    const ep = b?.endpoints.find((e) => e.name === s.listenerName) ?? b?.endpoints[0];
    if (ep !== undefined) return { host: ep.host, port: ep.port };
    return nodeId === s.nodeId ? { host: s.advertisedHost, port: s.advertisedPort } : null;
  }

  #answer(nodeId: number): CoordinatorAddress {
    const a = this.#address(nodeId);
    if (a === null) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: null, nodeId: -1, host: '', port: -1 };
    return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId, ...a };
  }

  /** Where the coordinator of a group (key type 0) is. Creates __consumer_offsets on first use. */
  async findGroupCoordinator(groupId: string): Promise<CoordinatorAddress> {
    try {
      await this.ensureTopic();
    } catch (err) {
      this.#logUnexpected(err);
      return { errorCode: errorCodeOf(err), errorMessage: (err as Error).message, nodeId: -1, host: '', port: -1 };
    }
    const part = this.#host.image.topics.get(CONSUMER_OFFSETS_TOPIC)?.partitions.get(this.partitionFor(groupId));
    if (part === undefined || part.leader < 0) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: null, nodeId: -1, host: '', port: -1 };
    return this.#answer(part.leader);
  }

  /** This node, for key types served elsewhere (transactions, until their coordinator routes them). */
  thisNode(): CoordinatorAddress {
    return this.#answer(this.#host.settings.nodeId);
  }

  // --- classic group APIs -----------------------------------------------------------------------

  joinGroup(req: JoinGroupRequest, meta: RequestMeta): Promise<JoinGroupResponse> {
    return this.#parked(req.groupId, (s, reply) => s.joinGroup(req, meta, reply), (code) => joinError(code, req.memberId, meta.version));
  }

  syncGroup(req: SyncGroupRequest, meta: RequestMeta): Promise<SyncGroupResponse> {
    return this.#parked(req.groupId, (s, reply) => s.syncGroup(req, meta, reply), syncError);
  }

  heartbeat(req: HeartbeatRequest): Promise<HeartbeatResponse> {
    return this.#write(req.groupId, (s) => s.heartbeat(req), (errorCode) => ({ throttleTimeMs: 0, errorCode }));
  }

  leaveGroup(req: LeaveGroupRequest, meta: RequestMeta): Promise<LeaveGroupResponse> {
    return this.#write(req.groupId, (s) => s.leaveGroup(req, meta), (errorCode) => ({ throttleTimeMs: 0, errorCode, members: [] }));
  }

  commitOffsets(req: OffsetCommitRequest, meta: RequestMeta): Promise<OffsetCommitResponse> {
    return this.#write(req.groupId, (s) => s.commitOffsets(req, meta), (errorCode) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
    }));
  }

  /** OffsetFetch for one group; `opts.requireStable` (v7+, KIP-447) reports pending transactional commits. */
  fetchOffsets(groupId: string, topics: readonly { name: string; partitionIndexes: number[] }[] | null, opts: FetchOffsetsOptions = {}): Promise<OffsetFetchResponseGroup> {
    return this.#read(groupId, (s) => s.fetchOffsets(groupId, topics, opts), (errorCode) => ({ groupId, topics: [], errorCode }));
  }

  deleteOffsets(req: OffsetDeleteRequest): Promise<OffsetDeleteResponse> {
    return this.#write(req.groupId, (s) => s.deleteOffsets(req), (errorCode) => ({ errorCode, throttleTimeMs: 0, topics: [] }));
  }

  describeGroup(groupId: string, includeAuthorizedOperations: boolean): Promise<DescribedGroup> {
    return this.#read(groupId, (s) => s.describeGroup(groupId, includeAuthorizedOperations), (errorCode) => ({
      errorCode, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    }));
  }

  deleteGroup(groupId: string): Promise<number> {
    return this.#write(groupId, (s) => s.deleteGroup(groupId), (code) => code);
  }

  /** Groups of every loaded shard; COORDINATOR_LOAD_IN_PROGRESS (with what is known) while one loads. */
  listGroups(statesFilter: readonly string[], typesFilter: readonly string[]): { errorCode: number; groups: ListedGroup[] } {
    let errorCode: number = ErrorCode.NONE;
    const groups: ListedGroup[] = [];
    for (const rt of this.#runtimes.values()) {
      if (rt.state === 'loading') errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
      if (rt.state === 'active') groups.push(...rt.shard.listGroups(statesFilter, typesFilter));
    }
    return { errorCode, groups };
  }

  // --- KIP-848 ----------------------------------------------------------------------------------

  consumerGroupHeartbeat(req: ConsumerGroupHeartbeatRequest, meta: RequestMeta): Promise<ConsumerGroupHeartbeatResponse> {
    return this.#write(req.groupId, (s) => s.consumerGroupHeartbeat(req, meta), (errorCode) => ({
      throttleTimeMs: 0, errorCode, errorMessage: null, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null,
    }));
  }

  describeConsumerGroup(groupId: string, includeAuthorizedOperations: boolean): Promise<ConsumerDescribedGroup> {
    return this.#read(groupId, (s) => s.describeConsumerGroup(groupId, includeAuthorizedOperations), (errorCode) => ({
      errorCode, errorMessage: null, groupId, groupState: '', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [],
      authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    }));
  }

  // --- transactions (issue 6, added by the transactions helper): see txn-offsets.ts -------------

  /**
   * KIP-890: the verification guard of a producer in the group's shard, taken before the
   * transaction coordinator is asked about the TxnOffsetCommit; rejects with a KafkaError when the
   * shard is not served here.
   */
  async startTxnVerification(groupId: string, producerId: bigint): Promise<TxnOffsetGuard> {
    const rt = await this.#runtimeFor(groupId);
    return rt.startTxnVerification(producerId);
  }

  /**
   * TxnOffsetCommit: written transactionally; visible once the transaction's COMMIT marker is.
   * Refused (INVALID_TXN_STATE) when a marker of the producer came after `guard` was taken.
   */
  txnCommitOffsets(req: TxnOffsetCommitRequest, version: number, guard: TxnOffsetGuard | null): Promise<TxnOffsetCommitResponse> {
    const fail = (errorCode: number): TxnOffsetCommitResponse => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
    });
    return this.#runtimeFor(req.groupId).then(
      (rt) => rt.writeTransactional(req.producerId, req.producerEpoch, (s) => txnCommitOffsets(s, req, version), guard),
    ).catch((err: unknown) => {
      this.#logUnexpected(err);
      return fail(errorCodeOf(err));
    });
  }

  /** Writes a transaction's marker into one __consumer_offsets partition; rejects with a KafkaError when it cannot. */
  async completeTransaction(partition: number, producerId: bigint, producerEpoch: number, commit: boolean, coordinatorEpoch: number): Promise<void> {
    if (this.#runtimes.closed) throw new KafkaError(ErrorCode.NOT_COORDINATOR);
    const rt = this.#runtimes.getOrStart(partition);
    if (rt === undefined) throw new KafkaError(ErrorCode.NOT_COORDINATOR, `__consumer_offsets-${partition} is not led here`);
    if (rt.state === 'loading') await rt.loaded.catch(() => {});
    const err = rt.unavailable();
    if (err !== null) throw err;
    await rt.writeMarker(producerId, producerEpoch, commit, coordinatorEpoch);
  }

  /** Loaded shards (tests, diagnostics). */
  loadedPartitions(): number[] {
    return [...this.#runtimes.entries()].filter(([, rt]) => rt.state === 'active').map(([p]) => p);
  }
}

/** Who sent a request, as group descriptions show it (Kafka prints the client host as "/<ip>"). */
export function requestMeta(version: number, clientId: string | null, remoteAddress: string): RequestMeta {
  return { version, clientId: clientId ?? '', clientHost: `/${remoteAddress}` };
}
