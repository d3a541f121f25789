// Consumer group administration over the classic group APIs: ListGroups (asked of every broker,
// since each lists only the groups it coordinates; states filter v4+ KIP-518, types v5 KIP-848),
// DescribeGroups, DeleteGroups and OffsetFetch/OffsetCommit/OffsetDelete at the group's
// coordinator. Committing for an empty group uses generation -1 and member id "", which Kafka
// accepts from admin tools (kafka-consumer-groups.sh --reset-offsets does the same).
import { ApiKey } from '../protocol/generated/api-index.ts';
import { ErrorCode } from '../protocol/errors.ts';
import type { Client } from './client.ts';
import { KafkaError, responseError } from './errors.ts';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, type Assignment } from './group/consumer-protocol.ts';
import { withGroupCoordinator } from './group/coordinator-call.ts';

export interface GroupListing {
  groupId: string;
  protocolType: string;
  /** Empty string when the broker does not report it (ListGroups v0–3). */
  state: string;
  type: string;
}

export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Decoded for consumer groups; null for other protocol types or undecodable bytes. */
  assignment: Assignment | null;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  /** The assignor chosen for the current generation (e.g. range). */
  protocol: string;
  members: GroupMember[];
  error: KafkaError | null;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1 when nothing is committed. */
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  error: KafkaError | null;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch?: number;
  metadata?: string | null;
}

/** Throws retriable coordinator errors so withGroupCoordinator can recover. */
function check(code: number, context: string): void {
  if (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) {
    throw responseError(code, context);
  }
}

export async function listGroups(client: Client, opts: { states?: string[] } = {}): Promise<GroupListing[]> {
  await client.connect();
  const ids = [...client.metadata.brokers.keys()];
  const lists = await Promise.all(ids.map((id) => client.retry(async () => {
    const res = await client.node(id).send(ApiKey.ListGroups, { statesFilter: opts.states ?? [], typesFilter: [] });
    if (res.errorCode !== 0) {
      check(res.errorCode, `ListGroups at node ${id}`);
      throw responseError(res.errorCode, `ListGroups at node ${id}`);
    }
    return res.groups.map((g): GroupListing => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, type: g.groupType }));
  })));
  const seen = new Map<string, GroupListing>();
  for (const g of lists.flat()) seen.set(g.groupId, g);
  return [...seen.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

export async function describeGroups(client: Client, groupIds: readonly string[]): Promise<GroupDescription[]> {
  return Promise.all(groupIds.map((groupId) => withGroupCoordinator(client, groupId, async (conn) => {
    const res = await conn.send(ApiKey.DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
    const g = res.groups[0];
    if (g === undefined) return { groupId, state: '', protocolType: '', protocol: '', members: [], error: responseError(-1, `group '${groupId}': no answer`) };
    check(g.errorCode, `group '${groupId}'`);
    return {
      groupId,
      state: g.groupState,
      protocolType: g.protocolType,
      protocol: g.protocolData,
      error: g.errorCode !== 0 ? responseError(g.errorCode, `group '${groupId}'`) : null,
      members: g.members.map((m): GroupMember => {
        let assignment: Assignment | null = null;
        if (g.protocolType === CONSUMER_PROTOCOL_TYPE) {
          try {
            assignment = decodeAssignment(m.memberAssignment);
          } catch {
            assignment = null;
          }
        }
        return { memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost, assignment };
      }),
    };
  })));
}

export async function deleteGroups(client: Client, groupIds: readonly string[]): Promise<{ groupId: string; error: KafkaError | null }[]> {
  return Promise.all(groupIds.map((groupId) => withGroupCoordinator(client, groupId, async (conn) => {
    const res = await conn.send(ApiKey.DeleteGroups, { groupsNames: [groupId] });
    const r = res.results.find((x) => x.groupId === groupId);
    const code = r?.errorCode ?? -1;
    check(code, `group '${groupId}'`);
    return { groupId, error: code !== 0 ? responseError(code, `group '${groupId}'`) : null };
  })));
}

/** Committed offsets of a group; `topics` null means every partition the group has committed. */
export async function fetchOffsets(
  client: Client,
  groupId: string,
  topics: readonly { topic: string; partitions: number[] }[] | null,
  opts: { requireStable?: boolean } = {},
): Promise<CommittedOffset[]> {
  return withGroupCoordinator(client, groupId, async (conn) => {
    const list = topics === null ? null : topics.map((t) => ({ name: t.topic, partitionIndexes: t.partitions }));
    let v = 0;
    const res = await conn.send(ApiKey.OffsetFetch, (version) => {
      v = version;
      if (list === null && v < 2) throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, 'fetching all committed offsets needs OffsetFetch v2');
      return { groupId, topics: list, groups: [{ groupId, memberId: null, memberEpoch: -1, topics: list }], requireStable: opts.requireStable ?? false };
    });
    // v8+ (KIP-709) answers per group.
    const g = v >= 8 ? res.groups.find((x) => x.groupId === groupId) : undefined;
    const errorCode = v >= 8 ? (g?.errorCode ?? -1) : res.errorCode;
    check(errorCode, `group '${groupId}'`);
    if (errorCode !== 0) throw responseError(errorCode, `group '${groupId}'`);
    const out: CommittedOffset[] = [];
    for (const t of v >= 8 ? (g?.topics ?? []) : res.topics) {
      for (const p of t.partitions) {
        check(p.errorCode, `group '${groupId}'`);
        out.push({
          topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset), leaderEpoch: p.committedLeaderEpoch,
          metadata: p.metadata, error: p.errorCode !== 0 ? responseError(p.errorCode, `${t.name}-${p.partitionIndex}`) : null,
        });
      }
    }
    return out;
  });
}

export interface CommitIdentity {
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export const ADMIN_COMMIT: CommitIdentity = { generationId: -1, memberId: '', groupInstanceId: null };

/** Commits offsets; throws the first partition error (the others are in its message). */
export async function commitOffsets(client: Client, groupId: string, offsets: readonly OffsetToCommit[], who: CommitIdentity = ADMIN_COMMIT): Promise<void> {
  if (offsets.length === 0) return;
  const topics = new Map<string, OffsetToCommit[]>();
  for (const o of offsets) {
    let l = topics.get(o.topic);
    if (l === undefined) topics.set(o.topic, (l = []));
    l.push(o);
  }
  await withGroupCoordinator(client, groupId, async (conn) => {
    const res = await conn.send(ApiKey.OffsetCommit, {
      groupId,
      generationIdOrMemberEpoch: who.generationId,
      memberId: who.memberId,
      groupInstanceId: who.groupInstanceId,
      retentionTimeMs: -1n,
      topics: [...topics].map(([name, ps]) => ({
        name,
        partitions: ps.map((p) => ({
          partitionIndex: p.partition, committedOffset: BigInt(p.offset), committedLeaderEpoch: p.leaderEpoch ?? -1,
          commitTimestamp: -1n, committedMetadata: p.metadata ?? null,
        })),
      })),
    });
    const failed: string[] = [];
    let first = 0;
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (p.errorCode === 0) continue;
        check(p.errorCode, `group '${groupId}'`);
        first ||= p.errorCode;
        failed.push(`${t.name}-${p.partitionIndex}`);
      }
    }
    if (first !== 0) throw responseError(first, `committing offsets of group '${groupId}' for ${failed.join(', ')}`);
  });
}

/** Removes committed offsets (OffsetDelete, KIP-496); the group must not be consuming those topics. */
export async function deleteOffsets(client: Client, groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<void> {
  const topics = new Map<string, number[]>();
  for (const p of partitions) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p.partition]);
  await withGroupCoordinator(client, groupId, async (conn) => {
    const res = await conn.send(ApiKey.OffsetDelete, {
      groupId,
      topics: [...topics].map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex })) })),
    });
    check(res.errorCode, `group '${groupId}'`);
    if (res.errorCode !== 0) throw responseError(res.errorCode, `group '${groupId}'`);
    for (const t of res.topics) for (const p of t.partitions) {
      if (p.errorCode !== 0) throw responseError(p.errorCode, `${t.name}-${p.partitionIndex} of group '${groupId}'`);
    }
  });
}
