// OffsetCommit, OffsetFetch, OffsetDelete and offset expiration against one shard.
//
// Who may commit (Kafka's classic rules): anyone when the group does not exist or is Empty and the
// generation is negative (simple consumers and admin tools, KIP-211 keeps that); otherwise only a
// member of the current generation, and not while the group is CompletingRebalance (it may still
// commit during PreparingRebalance, to flush before it rejoins). KIP-848 groups check the member
// epoch instead: newer than the member's → FENCED_MEMBER_EPOCH, older → STALE_MEMBER_EPOCH.
//
// Expiration (KIP-211): offsets of an empty group expire `offsets.retention.minutes` after the
// group became empty; those of a simple group (no protocol type) that long after their commit; a
// commit with an explicit retention (v2–v4) at its own expire timestamp. Offsets of topics a live
// group still subscribes to never expire.
import { ErrorCode } from '../protocol/errors.ts';
import type { OffsetCommitRequest } from '../protocol/generated/offset-commit-request.ts';
import type { OffsetCommitResponse } from '../protocol/generated/offset-commit-response.ts';
import type { OffsetFetchResponseGroup, OffsetFetchResponsePartitions } from '../protocol/generated/offset-fetch-response.ts';
import type { OffsetDeleteRequest } from '../protocol/generated/offset-delete-request.ts';
import type { OffsetDeleteResponse } from '../protocol/generated/offset-delete-response.ts';
import { ClassicState, type ClassicGroup } from './classic-group.ts';
import type { ConsumerGroup } from './consumer-group.ts';
import { CONSUMER_PROTOCOL_TYPE, decodeSubscription } from './consumer-protocol.ts';
import { createOffsetCommitValue, offsetCommitRecord, type CoordinatorRecord } from './records.ts';
import { result, type Result } from './result.ts';
import type { GroupShard } from './shard.ts';
import type { CommittedOffset } from './offset-store.ts';

function validateClassicCommit(g: ClassicGroup, generation: number, memberId: string, instanceId: string | null): number {
  if (instanceId !== null) {
    const owner = g.staticMembers.get(instanceId);
    if (owner !== undefined && owner !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
  }
  if (generation < 0 && g.is(ClassicState.EMPTY)) return ErrorCode.NONE;
  if (!g.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (generation !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
  if (g.is(ClassicState.COMPLETING_REBALANCE)) return ErrorCode.REBALANCE_IN_PROGRESS;
  return ErrorCode.NONE;
}

/** KIP-848 member epoch check shared by OffsetCommit and OffsetFetch. */
export function validateMemberEpoch(g: ConsumerGroup, memberId: string, epoch: number): number {
  const m = g.members.get(memberId);
  if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (epoch > m.memberEpoch) return ErrorCode.FENCED_MEMBER_EPOCH;
  if (epoch < m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
  return ErrorCode.NONE;
}

function validateCommit(shard: GroupShard, req: OffsetCommitRequest): number {
  const g = shard.groups.get(req.groupId);
  const generation = req.generationIdOrMemberEpoch;
  if (g === undefined) return generation < 0 ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
  if (g.type === 'classic') return validateClassicCommit(g, generation, req.memberId, req.groupInstanceId);
  if (generation < 0 && g.members.size === 0) return ErrorCode.NONE;
  return validateMemberEpoch(g, req.memberId, generation);
}

export function commitOffsets(shard: GroupShard, req: OffsetCommitRequest, version: number): Result<OffsetCommitResponse> {
  const { config, timer, topics } = shard.env;
  const groupError = validateCommit(shard, req);
  const now = timer.now();
  const records: CoordinatorRecord[] = [];
  const response: OffsetCommitResponse = { throttleTimeMs: 0, topics: [] };
  for (const t of req.topics) {
    const topic = topics.byName(t.name);
    const partitions = t.partitions.map((p) => {
      let errorCode: number = groupError;
      if (errorCode === ErrorCode.NONE) {
        if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.numPartitions) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (p.committedMetadata !== null && Buffer.byteLength(p.committedMetadata) > config.offsetMetadataMaxBytes) errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
      }
      if (errorCode === ErrorCode.NONE) {
        // v1 carries a client commit timestamp (-1: now); v2–v4 a retention that sets an explicit expiry.
        const commitTimestamp = version === 1 && p.commitTimestamp >= 0n ? p.commitTimestamp : BigInt(now);
        const expireTimestamp = version >= 2 && version <= 4 && req.retentionTimeMs >= 0n ? BigInt(now) + req.retentionTimeMs : -1n;
        records.push(offsetCommitRecord(req.groupId, t.name, p.partitionIndex, createOffsetCommitValue({
          offset: p.committedOffset,
          leaderEpoch: version >= 6 ? p.committedLeaderEpoch : -1,
          metadata: p.committedMetadata ?? '',
          commitTimestamp,
          expireTimestamp,
        })));
      }
      return { partitionIndex: p.partitionIndex, errorCode };
    });
    response.topics.push({ name: t.name, partitions });
  }
  return result(response, records);
}

function fetched(partitionIndex: number, o: { offset: bigint; leaderEpoch: number; metadata: string } | undefined): OffsetFetchResponsePartitions {
  return {
    partitionIndex,
    committedOffset: o?.offset ?? -1n,
    committedLeaderEpoch: o?.leaderEpoch ?? -1,
    metadata: o?.metadata ?? '',
    errorCode: ErrorCode.NONE,
  };
}

/** KIP-447: a partition an open transaction holds a commit for, asked with require_stable. */
function unstable(partitionIndex: number): OffsetFetchResponsePartitions {
  return { partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT };
}

export interface FetchOffsetsOptions {
  /** KIP-848 (v9): the asking member, checked against its epoch; null for admin tools. */
  memberId?: string | null;
  memberEpoch?: number;
  /** v7+ (KIP-447): answer UNSTABLE_OFFSET_COMMIT where a transaction's commit is pending. */
  requireStable?: boolean;
}

/**
 * Committed offsets of one group; `topics` null means every topic with a commit (as in Kafka, a
 * partition whose only commit is still pending is then not listed). A group that does not exist
 * answers offset -1 and no error (librdkafka relies on it).
 */
export function fetchOffsets(
  shard: GroupShard,
  groupId: string,
  topics: readonly { name: string; partitionIndexes: number[] }[] | null,
  opts: FetchOffsetsOptions = {},
): OffsetFetchResponseGroup {
  const { memberId = null, memberEpoch = -1, requireStable = false } = opts;
  const g = shard.groups.get(groupId);
  if (g?.type === 'consumer' && memberId !== null && memberEpoch >= 0) {
    const errorCode = validateMemberEpoch(g, memberId, memberEpoch);
    if (errorCode !== ErrorCode.NONE) return { groupId, topics: [], errorCode };
  }
  const committed = shard.offsets.of(groupId);
  const answer = (topic: string, p: number, o: CommittedOffset | undefined): OffsetFetchResponsePartitions =>
    requireStable && shard.txnOffsets.has(groupId, topic, p) ? unstable(p) : fetched(p, o);
  const out: OffsetFetchResponseGroup = { groupId, topics: [], errorCode: ErrorCode.NONE };
  if (topics === null) {
    for (const [name, parts] of committed) {
      out.topics.push({ name, partitions: [...parts].sort((a, b) => a[0] - b[0]).map(([p, o]) => answer(name, p, o)) });
    }
  } else {
    for (const t of topics) {
      const parts = committed.get(t.name);
      out.topics.push({ name: t.name, partitions: t.partitionIndexes.map((p) => answer(t.name, p, parts?.get(p))) });
    }
  }
  return out;
}

/** Topics a live group uses, or null when it cannot tell (a non-consumer classic protocol). */
function subscribedTopics(g: ClassicGroup | ConsumerGroup): Set<string> | null {
  if (g.type === 'consumer') return g.subscribedTopicNames();
  if (g.is(ClassicState.EMPTY)) return new Set();
  if (g.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
  const topics = new Set<string>();
  for (const m of g.members.values()) {
    const sub = decodeSubscription(g.metadataOf(m));
    if (sub === null) return null;
    for (const t of sub.topics) topics.add(t);
  }
  return topics;
}

export function deleteOffsets(shard: GroupShard, req: OffsetDeleteRequest): Result<OffsetDeleteResponse> {
  const g = shard.groups.get(req.groupId);
  const response: OffsetDeleteResponse = { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics: [] };
  if (g === undefined) return result({ ...response, errorCode: ErrorCode.GROUP_ID_NOT_FOUND });
  const subscribed = subscribedTopics(g);
  if (subscribed === null) return result({ ...response, errorCode: ErrorCode.NON_EMPTY_GROUP });
  const records: CoordinatorRecord[] = [];
  for (const t of req.topics) {
    const inUse = subscribed.has(t.name);
    response.topics.push({
      name: t.name,
      partitions: t.partitions.map((p) => {
        if (inUse) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
        // A committed or a pending transactional offset gets a tombstone; replaying it drops both
        // (Kafka's OffsetMetadataManager.deleteOffsets).
        if (shard.offsets.get(req.groupId, t.name, p.partitionIndex) !== undefined || shard.txnOffsets.has(req.groupId, t.name, p.partitionIndex)) {
          records.push(offsetCommitRecord(req.groupId, t.name, p.partitionIndex, null));
        }
        return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE };
      }),
    });
  }
  return result(response, records);
}

/** Tombstones for every expired offset, and for empty groups left with no offsets. */
export function expireOffsets(shard: GroupShard): Result<void> {
  const now = shard.env.timer.now();
  const retention = shard.env.config.offsetsRetentionMs;
  const records: CoordinatorRecord[] = [];
  for (const groupId of [...shard.offsets.groupIds()]) {
    const g = shard.groups.get(groupId);
    const subscribed = g === undefined ? new Set<string>() : subscribedTopics(g);
    if (subscribed === null) continue;
    // KIP-211: an empty group with a protocol counts from when it became empty.
    let emptySince: number | null = null;
    if (g?.type === 'classic' && g.is(ClassicState.EMPTY) && g.protocolType) emptySince = g.stateTimestamp;
    if (g?.type === 'consumer' && g.members.size === 0) emptySince = g.emptySince;
    let remaining = 0;
    for (const [topic, parts] of shard.offsets.of(groupId)) {
      for (const [partition, o] of parts) {
        const deadline = o.expireTimestamp >= 0 ? o.expireTimestamp : (emptySince ?? o.commitTimestamp) + retention;
        // An offset an open transaction is about to replace is kept until the transaction ends (as Kafka).
        if (!subscribed.has(topic) && now >= deadline && !shard.txnOffsets.has(groupId, topic, partition)) records.push(offsetCommitRecord(groupId, topic, partition, null));
        else remaining++;
      }
    }
    if (remaining === 0 && g !== undefined && isDeletable(g)) records.push(...shard.groupTombstones(groupId));
  }
  for (const g of shard.groups.values()) {
    if (!shard.offsets.has(g.groupId) && isDeletable(g)) records.push(...shard.groupTombstones(g.groupId));
  }
  return result(undefined, dedupeGroupTombstones(records));
}

function isDeletable(g: ClassicGroup | ConsumerGroup): boolean {
  if (g.type === 'consumer') return g.members.size === 0;
  return g.is(ClassicState.EMPTY) && g.pendingMembers.size === 0;
}

function dedupeGroupTombstones(records: CoordinatorRecord[]): CoordinatorRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => {
    if (r.type === 'offset-commit') return true;
    const k = `${r.type}\u0000${r.groupId}\u0000${'memberId' in r ? r.memberId : ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

