// Administration of producers, transactions, the metadata quorum and KIP-848 consumer groups:
// DescribeProducers (KIP-664, at each partition's leader, which holds the producer state),
// DescribeTransactions (KIP-664, at each transactional id's coordinator), ListTransactions
// (KIP-664; asked of every broker since each lists only the ids it coordinates; v1 adds the
// KIP-994 duration filter), DescribeQuorum (KIP-595, any broker: brokers forward it to the Raft
// leader, as Kafka's do to the controller) and ConsumerGroupDescribe (KIP-848, at the group
// coordinator; classic groups answer GROUP_ID_NOT_FOUND there and are described by DescribeGroups).
import { ApiKey } from '../protocol/generated/api-index.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { CoordinatorType, type Client } from './client.ts';
import { KafkaError, UnknownPartitionError, responseError } from './errors.ts';
import { isCoordinatorMoved, withGroupCoordinator } from './group/coordinator-call.ts';
import type { NodeConnection } from './node-connection.ts';

/** The KRaft metadata log: DescribeQuorum names it as topic partition 0. */
export const CLUSTER_METADATA_TOPIC = '__cluster_metadata';

export interface ActiveProducer {
  producerId: bigint;
  producerEpoch: number;
  /** -1 before the producer's first sequenced batch is retained. */
  lastSequence: number;
  lastTimestamp: number;
  coordinatorEpoch: number;
  /** First offset of the producer's open transaction on this partition; -1 when none. */
  currentTxnStartOffset: number;
}

export interface PartitionProducers {
  topic: string;
  partition: number;
  producers: ActiveProducer[];
  error: KafkaError | null;
}

export interface TransactionDescription {
  transactionalId: string;
  /** Kafka's state name: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence. */
  state: string;
  timeoutMs: number;
  /** -1 when no transaction is open. */
  startTimeMs: number;
  producerId: bigint;
  producerEpoch: number;
  /** Partitions in the open transaction, sorted by topic then partition. */
  partitions: { topic: string; partition: number }[];
  error: KafkaError | null;
}

export interface TransactionListing {
  transactionalId: string;
  producerId: bigint;
  state: string;
}

export interface TransactionFilter {
  /** State names (see TransactionDescription.state); empty or absent: every state. */
  states?: readonly string[];
  producerIds?: readonly (bigint | number)[];
  /** Only transactions open for at least this long (KIP-994, ListTransactions v1). */
  durationFilterMs?: number;
}

export interface QuorumReplica {
  replicaId: number;
  logEndOffset: number;
  /** Wall-clock ms; -1 when unknown. */
  lastFetchTimestamp: number;
  lastCaughtUpTimestamp: number;
}

export interface QuorumDescription {
  leaderId: number;
  leaderEpoch: number;
  highWatermark: number;
  voters: QuorumReplica[];
  observers: QuorumReplica[];
}

export interface AssignedPartitions {
  topicId: string;
  topic: string;
  partitions: number[];
}

export interface ConsumerGroupMemberDescription {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  assignment: AssignedPartitions[];
  targetAssignment: AssignedPartitions[];
}

export interface ConsumerGroupDescription {
  groupId: string;
  state: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignor: string;
  members: ConsumerGroupMemberDescription[];
  error: KafkaError | null;
}

const COORDINATOR_RETRY: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

/** Throws the codes after which the request is asked again of a (re-)looked-up coordinator. */
function checkCoordinator(code: number, context: string): void {
  if (COORDINATOR_RETRY.has(code)) throw responseError(code, context);
}

const byTopicPartition = (a: { topic: string; partition: number }, b: { topic: string; partition: number }): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;

/** Active producers of each partition, asked of its leader; NOT_LEADER_OR_FOLLOWER is retried after a metadata refresh. */
export async function describeProducers(client: Client, items: readonly { topic: string; partition: number }[]): Promise<PartitionProducers[]> {
  const answer = async (it: { topic: string; partition: number }): Promise<PartitionProducers> => {
    const what = `${it.topic}-${it.partition}`;
    try {
      return await client.retry(async () => {
        // Not client.leaderFor: describing must not auto-create the topic.
        const [t] = await client.topics([it.topic], { autoCreate: false, requireLeaders: false });
        const info = t.partitions.find((x) => x.partition === it.partition);
        if (info === undefined) throw new UnknownPartitionError(it.topic, it.partition, t.partitions.length);
        if (info.leader < 0) throw responseError(ErrorCode.LEADER_NOT_AVAILABLE, what);
        const conn = client.node(info.leader);
        const res = await conn.send(ApiKey.DescribeProducers, { topics: [{ name: it.topic, partitionIndexes: [it.partition] }] });
        const p = res.topics.find((t) => t.name === it.topic)?.partitions.find((x) => x.partitionIndex === it.partition);
        if (p === undefined) return { ...it, producers: [], error: responseError(-1, `${what}: no answer`) };
        const error = p.errorCode !== 0 ? responseError(p.errorCode, what, p.errorMessage) : null;
        if (error !== null && error.retriable) throw error;
        return {
          ...it, error,
          producers: p.activeProducers.map((s): ActiveProducer => ({
            producerId: s.producerId, producerEpoch: s.producerEpoch, lastSequence: s.lastSequence, lastTimestamp: Number(s.lastTimestamp),
            coordinatorEpoch: s.coordinatorEpoch, currentTxnStartOffset: Number(s.currentTxnStartOffset),
          })).sort((a, b) => (a.producerId < b.producerId ? -1 : a.producerId > b.producerId ? 1 : 0)),
        };
      }, async () => {
        await client.refreshMetadata([it.topic], { autoCreate: false }).catch(() => {});
      });
    } catch (e) {
      // Per-item answer: an unknown topic or a leader that never came back is this item's error.
      if (e instanceof KafkaError) return { ...it, producers: [], error: e };
      throw e;
    }
  };
  const out = await Promise.all(items.map(answer));
  return out.sort(byTopicPartition);
}

function withTxnCoordinator<T>(client: Client, transactionalId: string, fn: (conn: NodeConnection) => Promise<T>): Promise<T> {
  return client.retry(
    async () => fn(await client.coordinator(CoordinatorType.Transaction, transactionalId)),
    (e) => {
      if (isCoordinatorMoved(e)) client.forgetCoordinator(CoordinatorType.Transaction, transactionalId);
    },
  );
}

/** Each transactional id's state at its coordinator; TRANSACTIONAL_ID_NOT_FOUND for an unknown one. */
export async function describeTransactions(client: Client, transactionalIds: readonly string[]): Promise<TransactionDescription[]> {
  return Promise.all(transactionalIds.map((transactionalId) => withTxnCoordinator(client, transactionalId, async (conn) => {
    const what = `transactional id '${transactionalId}'`;
    const res = await conn.send(ApiKey.DescribeTransactions, { transactionalIds: [transactionalId] });
    const s = res.transactionStates.find((x) => x.transactionalId === transactionalId) ?? res.transactionStates[0];
    if (s === undefined) {
      return {
        transactionalId, state: '', timeoutMs: 0, startTimeMs: -1, producerId: -1n, producerEpoch: -1, partitions: [],
        error: responseError(-1, `${what}: no answer`),
      };
    }
    checkCoordinator(s.errorCode, what);
    return {
      transactionalId,
      state: s.transactionState,
      timeoutMs: s.transactionTimeoutMs,
      startTimeMs: Number(s.transactionStartTimeMs),
      producerId: s.producerId,
      producerEpoch: s.producerEpoch,
      partitions: s.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))).sort(byTopicPartition),
      error: s.errorCode !== 0 ? responseError(s.errorCode, what) : null,
    };
  })));
}

/** Transactional ids known to any coordinator, merged over every broker and sorted by id. */
export async function listTransactions(client: Client, filter: TransactionFilter = {}): Promise<TransactionListing[]> {
  await client.connect();
  const duration = filter.durationFilterMs ?? -1;
  const ids = [...client.metadata.brokers.keys()];
  const lists = await Promise.all(ids.map((id) => client.retry(async () => {
    const res = await client.node(id).send(ApiKey.ListTransactions, (v) => {
      if (duration >= 0 && v < 1) throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `the duration filter needs ListTransactions v1 (node ${id} has v${v})`);
      return { stateFilters: [...(filter.states ?? [])], producerIdFilters: (filter.producerIds ?? []).map((p) => BigInt(p)), durationFilter: BigInt(duration) };
    });
    if (res.errorCode !== 0) throw responseError(res.errorCode, `ListTransactions at node ${id}`);
    return res.transactionStates.map((s): TransactionListing => ({ transactionalId: s.transactionalId, producerId: s.producerId, state: s.transactionState }));
  })));
  const seen = new Map<string, TransactionListing>();
  for (const t of lists.flat()) seen.set(t.transactionalId, t);
  return [...seen.values()].sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0));
}

/** The metadata quorum as its leader sees it; NOT_LEADER_OR_FOLLOWER (no leader yet) is retried. */
export async function describeQuorum(client: Client): Promise<QuorumDescription> {
  return client.retry(async () => {
    const conn = await client.any();
    const res = await conn.send(ApiKey.DescribeQuorum, { topics: [{ topicName: CLUSTER_METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }] });
    if (res.errorCode !== 0) throw responseError(res.errorCode, 'DescribeQuorum', res.errorMessage);
    const p = res.topics.find((t) => t.topicName === CLUSTER_METADATA_TOPIC)?.partitions.find((x) => x.partitionIndex === 0);
    if (p === undefined) throw responseError(-1, `DescribeQuorum: no answer for ${CLUSTER_METADATA_TOPIC}-0`);
    if (p.errorCode !== 0) throw responseError(p.errorCode, `${CLUSTER_METADATA_TOPIC}-0`, p.errorMessage);
    const replica = (r: { replicaId: number; logEndOffset: bigint; lastFetchTimestamp: bigint; lastCaughtUpTimestamp: bigint }): QuorumReplica => ({
      replicaId: r.replicaId, logEndOffset: Number(r.logEndOffset),
      lastFetchTimestamp: Number(r.lastFetchTimestamp), lastCaughtUpTimestamp: Number(r.lastCaughtUpTimestamp),
    });
    return {
      leaderId: p.leaderId,
      leaderEpoch: p.leaderEpoch,
      highWatermark: Number(p.highWatermark),
      voters: p.currentVoters.map(replica).sort((a, b) => a.replicaId - b.replicaId),
      observers: p.observers.map(replica).sort((a, b) => a.replicaId - b.replicaId),
    };
  });
}

const assigned = (a: { topicPartitions: { topicId: string; topicName: string; partitions: number[] }[] }): AssignedPartitions[] =>
  a.topicPartitions.map((t) => ({ topicId: t.topicId, topic: t.topicName, partitions: [...t.partitions].sort((x, y) => x - y) }));

/** KIP-848 consumer groups at their coordinator; GROUP_ID_NOT_FOUND for unknown and classic groups. */
export async function describeConsumerGroups(client: Client, groupIds: readonly string[]): Promise<ConsumerGroupDescription[]> {
  return Promise.all(groupIds.map((groupId) => withGroupCoordinator(client, groupId, async (conn) => {
    const what = `group '${groupId}'`;
    const res = await conn.send(ApiKey.ConsumerGroupDescribe, { groupIds: [groupId], includeAuthorizedOperations: false });
    const g = res.groups.find((x) => x.groupId === groupId) ?? res.groups[0];
    if (g === undefined) {
      return { groupId, state: '', groupEpoch: -1, assignmentEpoch: -1, assignor: '', members: [], error: responseError(-1, `${what}: no answer`) };
    }
    checkCoordinator(g.errorCode, what);
    return {
      groupId,
      state: g.groupState,
      groupEpoch: g.groupEpoch,
      assignmentEpoch: g.assignmentEpoch,
      assignor: g.assignorName,
      error: g.errorCode !== 0 ? responseError(g.errorCode, what, g.errorMessage) : null,
      members: g.members.map((m): ConsumerGroupMemberDescription => ({
        memberId: m.memberId, instanceId: m.instanceId, rackId: m.rackId, memberEpoch: m.memberEpoch, clientId: m.clientId, clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames, subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: assigned(m.assignment), targetAssignment: assigned(m.targetAssignment),
      })),
    };
  })));
}
