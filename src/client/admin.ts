// Brook's admin client: every admin API the broker implements. Topic changes go to the controller
// (KRaft brokers would forward them; NOT_CONTROLLER is retried after a metadata refresh). Calls
// over lists answer per item with `error` (null on success); calls on one thing throw.
import { ApiKey, type ApiTypes } from '../protocol/generated/api-index.ts';
import type { RequestBuilder } from './node-connection.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { NULL_UUID } from '../protocol/reader.ts';
import { Client, type ClientOptions } from './client.ts';
import { KafkaError, UnknownTopicError, responseError } from './errors.ts';
import type { BrokerInfo, TopicInfo } from './metadata.ts';
import { listOffsets, type OffsetAnswer, type OffsetQuery } from './list-offsets.ts';
import {
  alterConfigs, describeConfigs, incrementalAlterConfigs, type ConfigChange, type ConfigResource, type ConfigResourceResult,
} from './admin-configs.ts';
import {
  commitOffsets, deleteGroups, deleteOffsets, describeGroups, fetchOffsets, listGroups,
  type CommittedOffset, type GroupDescription, type GroupListing, type OffsetToCommit,
} from './admin-groups.ts';
import {
  describeConsumerGroups, describeProducers, describeQuorum, describeTransactions, listTransactions,
  type ConsumerGroupDescription, type PartitionProducers, type QuorumDescription, type TransactionDescription,
  type TransactionFilter, type TransactionListing,
} from './admin-txn.ts';

export interface NewTopic {
  name: string;
  /** -1 or absent: the broker's num.partitions (KIP-464). */
  partitions?: number;
  /** -1 or absent: the broker's default.replication.factor. */
  replicationFactor?: number;
  configs?: Readonly<Record<string, string>>;
}

export interface ItemResult {
  name: string;
  error: KafkaError | null;
}

export interface CreatedTopic extends ItemResult {
  topicId: string | null;
  partitions: number;
  replicationFactor: number;
}

export interface ClusterDescription {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
}

export interface LogDirDescription {
  nodeId: number;
  path: string;
  error: KafkaError | null;
  totalBytes: number;
  usableBytes: number;
  partitions: { topic: string; partition: number; size: number }[];
}

export interface DeletedRecords {
  topic: string;
  partition: number;
  lowWatermark: number;
  error: KafkaError | null;
}

const CONTROLLER_MOVED = new Set<number>([ErrorCode.NOT_CONTROLLER]);

export class Admin {
  readonly client: Client;
  private readonly ownsClient: boolean;
  /** Bound on the broker's wait for the controller (timeout_ms of topic requests). */
  readonly operationTimeoutMs: number;

  constructor(client: Client | ClientOptions, opts: { operationTimeoutMs?: number } = {}) {
    this.ownsClient = !(client instanceof Client);
    this.client = client instanceof Client ? client : new Client(client);
    this.operationTimeoutMs = opts.operationTimeoutMs ?? 30_000;
  }

  close(): void {
    if (this.ownsClient) this.client.close();
  }

  // --- cluster --------------------------------------------------------------------------------

  /** DescribeCluster (KIP-700) when the broker has it, else the same facts from Metadata. */
  async describeCluster(): Promise<ClusterDescription> {
    const conn = await this.client.retry(() => this.client.any());
    if (conn.supports(ApiKey.DescribeCluster)) {
      const res = await this.client.retry(() => conn.send(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 1 }));
      if (res.errorCode !== 0) throw responseError(res.errorCode, 'DescribeCluster', res.errorMessage);
      return {
        clusterId: res.clusterId,
        controllerId: res.controllerId,
        brokers: res.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack })).sort((a, b) => a.nodeId - b.nodeId),
      };
    }
    const meta = await this.client.refreshMetadata([]);
    return { clusterId: meta.clusterId, controllerId: meta.controllerId, brokers: [...meta.brokers.values()].sort((a, b) => a.nodeId - b.nodeId) };
  }

  async describeLogDirs(nodeIds?: readonly number[]): Promise<LogDirDescription[]> {
    await this.client.connect();
    const ids = nodeIds ?? [...this.client.metadata.brokers.keys()];
    const per = await Promise.all(ids.map((id) => this.client.retry(async () => {
      const res = await this.client.node(id).send(ApiKey.DescribeLogDirs, { topics: null });
      if (res.errorCode !== 0) throw responseError(res.errorCode, `DescribeLogDirs at node ${id}`);
      return res.results.map((d): LogDirDescription => ({
        nodeId: id, path: d.logDir, error: d.errorCode !== 0 ? responseError(d.errorCode, d.logDir) : null,
        totalBytes: Number(d.totalBytes), usableBytes: Number(d.usableBytes),
        partitions: d.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, size: Number(p.partitionSize) }))),
      }));
    })));
    return per.flat();
  }

  // --- topics ---------------------------------------------------------------------------------

  /** Every topic (internal ones only when asked), sorted by name. */
  async listTopics(opts: { includeInternal?: boolean } = {}): Promise<TopicInfo[]> {
    const meta = await this.client.refreshMetadata(null, { autoCreate: false });
    return [...meta.topics.values()]
      .filter((t) => t.errorCode === 0 && (opts.includeInternal || !t.internal))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Metadata of the named topics; UnknownTopicError for one that does not exist. */
  async describeTopics(names: readonly string[]): Promise<TopicInfo[]> {
    return this.client.topics(names, { autoCreate: false, requireLeaders: false });
  }

  async createTopics(topics: readonly NewTopic[], opts: { validateOnly?: boolean } = {}): Promise<CreatedTopic[]> {
    const res = await this.toController(ApiKey.CreateTopics, {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.partitions ?? -1,
        replicationFactor: t.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: this.operationTimeoutMs,
      validateOnly: opts.validateOnly ?? false,
    }, (r) => r.topics.map((t) => t.errorCode));
    const created = topics.map((t): CreatedTopic => {
      const r = res.topics.find((x) => x.name === t.name);
      if (r === undefined) return { name: t.name, error: responseError(-1, `topic '${t.name}': no answer`), topicId: null, partitions: -1, replicationFactor: -1 };
      return {
        name: t.name,
        error: r.errorCode !== 0 ? responseError(r.errorCode, `topic '${t.name}'`, r.errorMessage) : null,
        topicId: r.topicId === NULL_UUID ? null : r.topicId,
        partitions: r.numPartitions,
        replicationFactor: r.replicationFactor,
      };
    });
    if (!opts.validateOnly && created.some((c) => c.error === null)) await this.client.refreshMetadata(created.filter((c) => c.error === null).map((c) => c.name), { autoCreate: false }).catch(() => {});
    return created;
  }

  async deleteTopics(names: readonly string[]): Promise<ItemResult[]> {
    const res = await this.toController(ApiKey.DeleteTopics, (v) => ({
      topics: v >= 6 ? names.map((name) => ({ name, topicId: NULL_UUID })) : [],
      topicNames: v < 6 ? [...names] : [],
      timeoutMs: this.operationTimeoutMs,
    }), (r) => r.responses.map((t) => t.errorCode));
    return names.map((name) => {
      const r = res.responses.find((x) => x.name === name);
      const code = r?.errorCode ?? -1;
      return { name, error: code !== 0 ? responseError(code, `topic '${name}'`, r?.errorMessage) : null };
    });
  }

  /** Grows topics to `count` partitions in total. */
  async createPartitions(changes: readonly { topic: string; count: number }[], opts: { validateOnly?: boolean } = {}): Promise<ItemResult[]> {
    const res = await this.toController(ApiKey.CreatePartitions, {
      topics: changes.map((c) => ({ name: c.topic, count: c.count, assignments: null })),
      timeoutMs: this.operationTimeoutMs,
      validateOnly: opts.validateOnly ?? false,
    }, (r) => r.results.map((t) => t.errorCode));
    await this.client.refreshMetadata(changes.map((c) => c.topic), { autoCreate: false }).catch(() => {});
    return changes.map((c) => {
      const r = res.results.find((x) => x.name === c.topic);
      const code = r?.errorCode ?? -1;
      return { name: c.topic, error: code !== 0 ? responseError(code, `topic '${c.topic}'`, r?.errorMessage) : null };
    });
  }

  /** Moves log start offsets forward (DeleteRecords, KIP-107); offset -1 means the high watermark. */
  async deleteRecords(items: readonly { topic: string; partition: number; offset: number }[]): Promise<DeletedRecords[]> {
    const byLeader = new Map<number, typeof items[number][]>();
    for (const it of items) {
      const p = await this.client.partition(it.topic, it.partition);
      if (p.leader < 0) throw responseError(ErrorCode.LEADER_NOT_AVAILABLE, `${it.topic}-${it.partition}`);
      byLeader.set(p.leader, [...(byLeader.get(p.leader) ?? []), it]);
    }
    const out: DeletedRecords[] = [];
    await Promise.all([...byLeader].map(([leader, list]) => this.client.retry(async () => {
      const topics = new Map<string, typeof list>();
      for (const it of list) topics.set(it.topic, [...(topics.get(it.topic) ?? []), it]);
      const res = await this.client.node(leader).send(ApiKey.DeleteRecords, {
        topics: [...topics].map(([name, ps]) => ({ name, partitions: ps.map((p) => ({ partitionIndex: p.partition, offset: BigInt(p.offset) })) })),
        timeoutMs: this.operationTimeoutMs,
      });
      for (const t of res.topics) for (const p of t.partitions) {
        out.push({
          topic: t.name, partition: p.partitionIndex, lowWatermark: Number(p.lowWatermark),
          error: p.errorCode !== 0 ? responseError(p.errorCode, `${t.name}-${p.partitionIndex}`) : null,
        });
      }
    })));
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  listOffsets(queries: readonly OffsetQuery[], opts: { readCommitted?: boolean } = {}): Promise<Map<string, OffsetAnswer>> {
    return listOffsets(this.client, queries, opts.readCommitted ?? false);
  }

  /** Log start and end (high watermark) offsets of every partition of the topics. */
  async partitionOffsets(topics: readonly TopicInfo[]): Promise<Map<string, { start: number; end: number }>> {
    const parts = topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition })));
    const [start, end] = await Promise.all([
      listOffsets(this.client, parts.map((p) => ({ ...p, timestamp: -2 }))),
      listOffsets(this.client, parts.map((p) => ({ ...p, timestamp: -1 }))),
    ]);
    const out = new Map<string, { start: number; end: number }>();
    for (const [k, v] of start) out.set(k, { start: v.offset, end: end.get(k)?.offset ?? -1 });
    return out;
  }

  // --- configs --------------------------------------------------------------------------------

  describeConfigs(resources: readonly (ConfigResource & { keys?: string[] | null })[], opts?: { synonyms?: boolean; documentation?: boolean }): Promise<ConfigResourceResult[]> {
    return describeConfigs(this.client, resources, opts);
  }

  alterConfigs(resource: ConfigResource, configs: Readonly<Record<string, string>>, opts: { validateOnly?: boolean } = {}): Promise<void> {
    return alterConfigs(this.client, resource, configs, opts.validateOnly);
  }

  incrementalAlterConfigs(resource: ConfigResource, changes: readonly ConfigChange[], opts: { validateOnly?: boolean } = {}): Promise<void> {
    return incrementalAlterConfigs(this.client, resource, changes, opts.validateOnly);
  }

  // --- groups ---------------------------------------------------------------------------------

  listGroups(opts?: { states?: string[] }): Promise<GroupListing[]> {
    return listGroups(this.client, opts);
  }

  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return describeGroups(this.client, groupIds);
  }

  deleteGroups(groupIds: readonly string[]): Promise<ItemResult[]> {
    return deleteGroups(this.client, groupIds).then((rs) => rs.map((r) => ({ name: r.groupId, error: r.error })));
  }

  fetchOffsets(groupId: string, topics: readonly { topic: string; partitions: number[] }[] | null = null): Promise<CommittedOffset[]> {
    return fetchOffsets(this.client, groupId, topics);
  }

  /** Sets a group's committed offsets (the group should be empty; Kafka refuses otherwise). */
  commitOffsets(groupId: string, offsets: readonly OffsetToCommit[]): Promise<void> {
    return commitOffsets(this.client, groupId, offsets);
  }

  deleteOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<void> {
    return deleteOffsets(this.client, groupId, partitions);
  }

  /** KIP-848 consumer groups (ConsumerGroupDescribe); classic groups answer GROUP_ID_NOT_FOUND here. */
  describeConsumerGroups(groupIds: readonly string[]): Promise<ConsumerGroupDescription[]> {
    return describeConsumerGroups(this.client, groupIds);
  }

  // --- producers, transactions, quorum -------------------------------------------------------

  describeProducers(topicPartitions: readonly { topic: string; partition: number }[]): Promise<PartitionProducers[]> {
    return describeProducers(this.client, topicPartitions);
  }

  describeTransactions(transactionalIds: readonly string[]): Promise<TransactionDescription[]> {
    return describeTransactions(this.client, transactionalIds);
  }

  listTransactions(filter?: TransactionFilter): Promise<TransactionListing[]> {
    return listTransactions(this.client, filter);
  }

  describeQuorum(): Promise<QuorumDescription> {
    return describeQuorum(this.client);
  }

  // --- helpers --------------------------------------------------------------------------------

  /** Sends to the controller, retrying when it moved (NOT_CONTROLLER) or on network errors. */
  private async toController<K extends 19 | 20 | 37>(
    apiKey: K,
    build: RequestBuilder<K>,
    codes: (res: ApiTypes[K]['response']) => number[],
  ): Promise<ApiTypes[K]['response']> {
    return this.client.retry(async () => {
      const conn = await this.client.controller();
      const res = await conn.send(apiKey, build);
      const moved = codes(res).find((c) => CONTROLLER_MOVED.has(c));
      if (moved !== undefined) throw responseError(moved, 'controller moved');
      return res;
    }, async () => {
      await this.client.refreshMetadata([]).catch(() => {});
    });
  }
}

export { UnknownTopicError };
