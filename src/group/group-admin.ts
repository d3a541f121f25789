// ListGroups, DescribeGroups and DeleteGroups against one shard.
// DescribeGroups (v0–v5) answers a group that does not exist with state Dead and no error (Kafka
// answers GROUP_ID_NOT_FOUND only from v6, KIP-1043); members carry their metadata and assignment
// only while the group is Stable. DeleteGroups removes only groups without members, offsets
// included, pending transactional ones too (a tombstone drops them: see txn-offsets.ts). ListGroups filters by state (v4, KIP-518) and by type (v5, KIP-848), ignoring case.
import { ErrorCode } from '../protocol/errors.ts';
import type { DescribedGroup } from '../protocol/generated/describe-groups-response.ts';
import type { ListedGroup } from '../protocol/generated/list-groups-response.ts';
import { ClassicState } from './classic-group.ts';
import { ConsumerGroupState } from './consumer-group.ts';
import { CONSUMER_PROTOCOL_TYPE } from './consumer-protocol.ts';
import { offsetCommitRecord, type CoordinatorRecord } from './records.ts';
import { result, type Result } from './result.ts';
import type { GroupShard } from './shard.ts';

const EMPTY = Buffer.alloc(0);

/** Bit set of the ACL operations on a group (READ 3, DELETE 6, DESCRIBE 8); no authorizer yet. */
export const GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
/** "Not requested" in authorized_operations fields. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export function describeClassicGroup(shard: GroupShard, groupId: string, includeAuthorizedOperations: boolean): DescribedGroup {
  const authorizedOperations = includeAuthorizedOperations ? GROUP_AUTHORIZED_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED;
  const g = shard.groups.get(groupId);
  const out: DescribedGroup = {
    errorCode: ErrorCode.NONE, groupId, groupState: ClassicState.DEAD, protocolType: '', protocolData: '', members: [], authorizedOperations,
  };
  if (g === undefined) return out;
  if (g.type === 'consumer') return { ...out, errorCode: ErrorCode.GROUP_ID_NOT_FOUND };
  const stable = g.is(ClassicState.STABLE);
  out.groupState = g.state;
  out.protocolType = g.protocolType ?? '';
  out.protocolData = stable ? (g.protocolName ?? '') : '';
  out.members = [...g.members.values()].map((m) => ({
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    memberMetadata: stable ? g.metadataOf(m) : EMPTY,
    memberAssignment: stable ? m.assignment : EMPTY,
  }));
  return out;
}

export function listGroups(shard: GroupShard, statesFilter: readonly string[], typesFilter: readonly string[]): ListedGroup[] {
  const states = new Set(statesFilter.map((s) => s.toLowerCase()));
  const types = new Set(typesFilter.map((s) => s.toLowerCase()));
  const out: ListedGroup[] = [];
  for (const g of shard.groups.values()) {
    const listed: ListedGroup = g.type === 'classic'
      ? { groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state, groupType: 'classic' }
      : { groupId: g.groupId, protocolType: CONSUMER_PROTOCOL_TYPE, groupState: g.state, groupType: 'consumer' };
    if (states.size > 0 && !states.has(listed.groupState.toLowerCase())) continue;
    if (types.size > 0 && !types.has(listed.groupType)) continue;
    out.push(listed);
  }
  return out;
}

export function deleteGroup(shard: GroupShard, groupId: string): Result<number> {
  const g = shard.groups.get(groupId);
  if (g === undefined) return result<number>(ErrorCode.GROUP_ID_NOT_FOUND);
  const empty = g.type === 'classic' ? g.is(ClassicState.EMPTY) : g.state === ConsumerGroupState.EMPTY;
  if (!empty) return result<number>(ErrorCode.NON_EMPTY_GROUP);
  const records: CoordinatorRecord[] = [];
  for (const [topic, parts] of shard.offsets.of(groupId)) {
    for (const partition of parts.keys()) records.push(offsetCommitRecord(groupId, topic, partition, null));
  }
  // Pending transactional commits go too (Kafka's deleteAllOffsets): one tombstone for each
  // partition that has no committed offset already tombstoned above.
  for (const { topic, partition } of shard.txnOffsets.pendingPartitionsOf(groupId)) {
    if (shard.offsets.get(groupId, topic, partition) === undefined) records.push(offsetCommitRecord(groupId, topic, partition, null));
  }
  records.push(...shard.groupTombstones(groupId));
  return result<number>(ErrorCode.NONE, records);
}
