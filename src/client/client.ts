// The shared core of Brook's producer, consumer and admin: bootstrap from a broker list, one
// connection per node (versions negotiated per connection), a metadata cache refreshed on demand
// and when older than metadata.max.age.ms, routing to partition leaders and to group/transaction
// coordinators (FindCoordinator, batched from v4 by KIP-699), and retries with backoff.
import { ApiKey, type ApiTypes } from '../protocol/generated/api-index.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { NULL_UUID } from '../protocol/reader.ts';
import { formatAddress, parseBrokerList, type BrokerAddress } from './addresses.ts';
import {
  BrokerUnreachableError, ClientClosedError, KafkaError, NetworkError, UnknownPartitionError, UnknownTopicError, responseError,
} from './errors.ts';
import { applyMetadata, EMPTY_METADATA, type ClusterMetadata, type PartitionInfo, type TopicInfo } from './metadata.ts';
import { NodeConnection, type RequestBuilder, type SendOptions } from './node-connection.ts';
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from './retry.ts';

export interface ClientOptions {
  /** `host:port` list, comma-separated or as an array. */
  brokers: string | readonly string[];
  clientId?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  metadataMaxAgeMs?: number;
  /** Ask brokers to create unknown topics on Metadata (allow.auto.create.topics; default true). */
  allowAutoTopicCreation?: boolean;
}

export const CoordinatorType = { Group: 0, Transaction: 1 } as const;
export type CoordinatorTypeValue = (typeof CoordinatorType)[keyof typeof CoordinatorType];

export class Client {
  readonly clientId: string;
  readonly retryPolicy: RetryPolicy;
  readonly requestTimeoutMs: number;
  readonly allowAutoTopicCreation: boolean;
  private readonly connectTimeoutMs: number;
  private readonly metadataMaxAgeMs: number;
  private readonly bootstrap: BrokerAddress[];
  private bootstrapConns: NodeConnection[];
  private readonly nodes = new Map<number, NodeConnection>();
  private readonly coordinatorConns = new Map<string, NodeConnection>();
  private meta: ClusterMetadata = EMPTY_METADATA;
  private closed = false;

  constructor(opts: ClientOptions) {
    this.bootstrap = parseBrokerList(opts.brokers);
    this.clientId = opts.clientId ?? 'brook';
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.metadataMaxAgeMs = opts.metadataMaxAgeMs ?? 300_000;
    this.allowAutoTopicCreation = opts.allowAutoTopicCreation ?? true;
    this.retryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
    this.bootstrapConns = this.bootstrap.map((a) => this.newConnection(a, null));
  }

  get metadata(): ClusterMetadata {
    return this.meta;
  }

  get bootstrapAddresses(): string[] {
    return this.bootstrap.map(formatAddress);
  }

  /** Reaches one bootstrap broker and loads the broker list. Throws BrokerUnreachableError. */
  async connect(): Promise<void> {
    if (this.meta.refreshedAt === 0) await this.refreshMetadata([]);
  }

  /**
   * Loads metadata for `topics` (null: every topic; []: brokers only). Tries connected nodes,
   * then every known node, then the bootstrap addresses; BrokerUnreachableError when none answers.
   */
  async refreshMetadata(topics: readonly string[] | null, opts: { autoCreate?: boolean } = {}): Promise<ClusterMetadata> {
    this.checkOpen();
    const autoCreate = opts.autoCreate ?? this.allowAutoTopicCreation;
    const build = (v: number): ApiTypes[3]['request'] => ({
      topics: topics === null ? (v === 0 ? [] : null) : topics.map((name) => ({ name, topicId: NULL_UUID })),
      allowAutoTopicCreation: autoCreate,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    let lastError: unknown = null;
    for (const conn of this.candidates()) {
      try {
        const res = await conn.send(ApiKey.Metadata, build);
        this.meta = applyMetadata(this.meta, res, topics === null, Date.now());
        this.syncNodes(conn);
        return this.meta;
      } catch (e) {
        if (!(e instanceof NetworkError) && !(e instanceof KafkaError && e.code === ErrorCode.REQUEST_TIMED_OUT)) throw e;
        lastError = e;
      }
    }
    const detail = lastError instanceof NetworkError ? lastError.message.replace(/^[^ ]+: /, '') : lastError instanceof Error ? lastError.message : '';
    const addrs = this.meta.brokers.size > 0 ? [...this.meta.brokers.values()].map((b) => formatAddress(b)) : this.bootstrapAddresses;
    throw new BrokerUnreachableError(addrs, detail, { cause: lastError });
  }

  /**
   * Metadata for topics, each with a leader for every partition, refreshing when unknown, stale or
   * leaderless (retried while the broker is still creating it). UnknownTopicError for a topic that
   * does not exist.
   */
  async topics(names: readonly string[], opts: { autoCreate?: boolean; requireLeaders?: boolean } = {}): Promise<TopicInfo[]> {
    const requireLeaders = opts.requireLeaders ?? true;
    const usable = (t: TopicInfo | undefined): boolean =>
      t !== undefined && t.errorCode === 0 && t.partitions.length > 0 && (!requireLeaders || t.partitions.every((p) => p.leader >= 0));
    const fresh = Date.now() - this.meta.refreshedAt < this.metadataMaxAgeMs;
    if (fresh && names.every((n) => usable(this.meta.topics.get(n)))) return names.map((n) => this.meta.topics.get(n)!);
    return this.retry(async () => {
      const meta = await this.refreshMetadata(names, opts);
      return names.map((name) => {
        const t = meta.topics.get(name);
        if (t === undefined || t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) throw new UnknownTopicError(name);
        if (t.errorCode !== 0 && t.errorCode !== ErrorCode.LEADER_NOT_AVAILABLE) throw responseError(t.errorCode, `topic '${name}'`);
        if (!usable(t)) throw responseError(ErrorCode.LEADER_NOT_AVAILABLE, `topic '${name}'`);
        return t;
      });
    });
  }

  async topic(name: string, opts: { autoCreate?: boolean; requireLeaders?: boolean } = {}): Promise<TopicInfo> {
    return (await this.topics([name], opts))[0];
  }

  /** The partition's current metadata; UnknownPartitionError past the partition count. */
  async partition(topic: string, partition: number): Promise<PartitionInfo> {
    const t = await this.topic(topic, { requireLeaders: false });
    const p = t.partitions.find((x) => x.partition === partition);
    if (p === undefined) throw new UnknownPartitionError(topic, partition, t.partitions.length);
    return p;
  }

  /** The connection to a partition's leader (LEADER_NOT_AVAILABLE, retriable, when it has none). */
  async leaderFor(topic: string, partition: number): Promise<NodeConnection> {
    const p = await this.partition(topic, partition);
    if (p.leader < 0) throw responseError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition}`);
    return this.node(p.leader);
  }

  /** The connection to a node from the metadata. */
  node(nodeId: number): NodeConnection {
    this.checkOpen();
    const conn = this.nodes.get(nodeId);
    if (conn !== undefined) return conn;
    const b = this.meta.brokers.get(nodeId);
    if (b === undefined) throw responseError(ErrorCode.BROKER_NOT_AVAILABLE, `node ${nodeId} is not in the metadata`);
    const created = this.newConnection({ host: b.host, port: b.port }, nodeId);
    this.nodes.set(nodeId, created);
    return created;
  }

  /** A connection to some broker: the least busy open one, else the first that opens. */
  async any(): Promise<NodeConnection> {
    const open = this.candidates().filter((c) => c.connected).sort((a, b) => a.pending - b.pending);
    if (open.length > 0) return open[0];
    let lastError: unknown = null;
    for (const conn of this.candidates()) {
      try {
        await conn.ensure();
        return conn;
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        lastError = e;
      }
    }
    throw new BrokerUnreachableError(this.bootstrapAddresses, lastError instanceof Error ? lastError.message : '', { cause: lastError });
  }

  /** The connection to the controller when the metadata names one, else to any broker. */
  async controller(): Promise<NodeConnection> {
    if (this.meta.refreshedAt === 0) await this.connect();
    const id = this.meta.controllerId;
    if (id >= 0 && this.meta.brokers.has(id)) return this.node(id);
    return this.any();
  }

  /** The coordinator for a group id (type 0) or transactional id (type 1), cached until forgotten. */
  async coordinator(type: CoordinatorTypeValue, key: string): Promise<NodeConnection> {
    const cacheKey = `${type}:${key}`;
    const cached = this.coordinatorConns.get(cacheKey);
    if (cached !== undefined) return cached;
    const conn = await this.any();
    const res = await conn.send(ApiKey.FindCoordinator, (v) => ({ key, keyType: type, coordinatorKeys: v >= 4 ? [key] : [] }));
    const c = res.coordinators.length > 0
      ? res.coordinators[0]
      : { nodeId: res.nodeId, host: res.host, port: res.port, errorCode: res.errorCode, errorMessage: res.errorMessage };
    if (c.errorCode !== 0) throw responseError(c.errorCode, `${type === 0 ? 'group' : 'transactional id'} '${key}'`, c.errorMessage);
    const known = this.meta.brokers.get(c.nodeId);
    const node = known !== undefined && known.host === c.host && known.port === c.port
      ? this.node(c.nodeId)
      : this.newConnection({ host: c.host, port: c.port }, c.nodeId);
    this.coordinatorConns.set(cacheKey, node);
    return node;
  }

  /** Drops a cached coordinator (after NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or a network error). */
  forgetCoordinator(type: CoordinatorTypeValue, key: string): void {
    const cacheKey = `${type}:${key}`;
    const conn = this.coordinatorConns.get(cacheKey);
    this.coordinatorConns.delete(cacheKey);
    if (conn !== undefined && conn.nodeId !== null && this.nodes.get(conn.nodeId) !== conn) conn.close();
  }

  /** Sends to any broker, retrying retriable failures on another connection. */
  async sendAny<K extends keyof ApiTypes>(apiKey: K, build: RequestBuilder<K>, opts?: SendOptions): Promise<ApiTypes[K]['response']> {
    return this.retry(async () => (await this.any()).send(apiKey, build, opts));
  }

  /** Runs `fn` with this client's retry policy; `beforeRetry` defaults to doing nothing. */
  retry<T>(fn: (attempt: number) => Promise<T>, beforeRetry?: (error: unknown, attempt: number) => Promise<void> | void): Promise<T> {
    return withRetries(async (attempt) => {
      this.checkOpen();
      return fn(attempt);
    }, this.retryPolicy, beforeRetry);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.nodes.values()) c.close();
    for (const c of this.coordinatorConns.values()) c.close();
    for (const c of this.bootstrapConns) c.close();
    this.nodes.clear();
    this.coordinatorConns.clear();
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientClosedError('client');
  }

  private newConnection(address: BrokerAddress, nodeId: number | null): NodeConnection {
    return new NodeConnection(address, nodeId, {
      clientId: this.clientId,
      connectTimeoutMs: this.connectTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
    });
  }

  /** Connections to try for a cluster-wide request: open ones first, then nodes, then bootstrap. */
  private candidates(): NodeConnection[] {
    const known = [...this.meta.brokers.keys()].map((id) => this.node(id));
    const all = [...known, ...this.bootstrapConns];
    return [...all.filter((c) => c.connected), ...all.filter((c) => !c.connected)];
  }

  /** Keeps one connection per node in the metadata; a bootstrap connection to a node becomes its own. */
  private syncNodes(answered: NodeConnection): void {
    for (const [id, conn] of this.nodes) {
      const b = this.meta.brokers.get(id);
      if (b === undefined || b.host !== conn.address.host || b.port !== conn.address.port) {
        conn.close();
        this.nodes.delete(id);
      }
    }
    if (answered.nodeId === null) {
      for (const b of this.meta.brokers.values()) {
        if (b.host === answered.address.host && b.port === answered.address.port && !this.nodes.has(b.nodeId)) {
          answered.nodeId = b.nodeId;
          this.nodes.set(b.nodeId, answered);
          this.bootstrapConns = this.bootstrapConns.filter((c) => c !== answered);
        }
      }
    }
  }
}
