// The records of __consumer_offsets, in Kafka's own format so tools that read the topic work: the
// record key is an int16 version followed by the key struct, the value an int16 version followed by
// the value struct, and a null value is a tombstone (the topic is compacted). The key version names
// the record type (coordinator/*.json): 0–1 OffsetCommit, 2 GroupMetadata, 3–8 the KIP-848
// ConsumerGroup records, 9–11 share groups (not produced or read here).
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import * as ock from '../protocol/generated/coordinator/offset-commit-key.ts';
import * as ocv from '../protocol/generated/coordinator/offset-commit-value.ts';
import * as gmk from '../protocol/generated/coordinator/group-metadata-key.ts';
import * as gmv from '../protocol/generated/coordinator/group-metadata-value.ts';
import * as cgmk from '../protocol/generated/coordinator/consumer-group-metadata-key.ts';
import * as cgmv from '../protocol/generated/coordinator/consumer-group-metadata-value.ts';
import * as cgpk from '../protocol/generated/coordinator/consumer-group-partition-metadata-key.ts';
import * as cgpv from '../protocol/generated/coordinator/consumer-group-partition-metadata-value.ts';
import * as cgmmk from '../protocol/generated/coordinator/consumer-group-member-metadata-key.ts';
import * as cgmmv from '../protocol/generated/coordinator/consumer-group-member-metadata-value.ts';
import * as cgtak from '../protocol/generated/coordinator/consumer-group-target-assignment-metadata-key.ts';
import * as cgtav from '../protocol/generated/coordinator/consumer-group-target-assignment-metadata-value.ts';
import * as cgtmk from '../protocol/generated/coordinator/consumer-group-target-assignment-member-key.ts';
import * as cgtmv from '../protocol/generated/coordinator/consumer-group-target-assignment-member-value.ts';
import * as cgcak from '../protocol/generated/coordinator/consumer-group-current-member-assignment-key.ts';
import * as cgcav from '../protocol/generated/coordinator/consumer-group-current-member-assignment-value.ts';

export type OffsetCommitKey = ock.OffsetCommitKey;
export type OffsetCommitValue = ocv.OffsetCommitValue;
export type GroupMetadataValue = gmv.GroupMetadataValue;
export type GroupMemberMetadata = gmv.MemberMetadata;
export type ConsumerGroupMemberMetadataValue = cgmmv.ConsumerGroupMemberMetadataValue;
export type ConsumerGroupPartitionMetadataValue = cgpv.ConsumerGroupPartitionMetadataValue;
export type ConsumerGroupCurrentMemberAssignmentValue = cgcav.ConsumerGroupCurrentMemberAssignmentValue;
export type ConsumerGroupTargetAssignmentMemberValue = cgtmv.ConsumerGroupTargetAssignmentMemberValue;

export type CoordinatorRecord =
  | { type: 'offset-commit'; key: OffsetCommitKey; value: OffsetCommitValue | null }
  | { type: 'group-metadata'; groupId: string; value: GroupMetadataValue | null }
  | { type: 'consumer-group-metadata'; groupId: string; value: cgmv.ConsumerGroupMetadataValue | null }
  | { type: 'consumer-group-partition-metadata'; groupId: string; value: ConsumerGroupPartitionMetadataValue | null }
  | { type: 'consumer-group-member-metadata'; groupId: string; memberId: string; value: ConsumerGroupMemberMetadataValue | null }
  | { type: 'consumer-group-target-assignment-metadata'; groupId: string; value: cgtav.ConsumerGroupTargetAssignmentMetadataValue | null }
  | { type: 'consumer-group-target-assignment-member'; groupId: string; memberId: string; value: ConsumerGroupTargetAssignmentMemberValue | null }
  | { type: 'consumer-group-current-member-assignment'; groupId: string; memberId: string; value: ConsumerGroupCurrentMemberAssignmentValue | null };

/** Key versions (= record types) as Kafka assigns them. */
export const KeyVersion = {
  OFFSET_COMMIT_LEGACY: 0,
  OFFSET_COMMIT: 1,
  GROUP_METADATA: 2,
  CONSUMER_GROUP_METADATA: 3,
  CONSUMER_GROUP_PARTITION_METADATA: 4,
  CONSUMER_GROUP_MEMBER_METADATA: 5,
  CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA: 6,
  CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER: 7,
  CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT: 8,
} as const;

// Value versions written. OffsetCommitValue v3 carries the leader epoch (KIP-320); v1 is the only
// one with an explicit expire timestamp (OffsetCommit v2–v4 retention_time_ms, dropped by
// KIP-211). GroupMetadataValue v3 carries group.instance.id (KIP-345). Both non-flexible, as
// Kafka 3.9 writes them, so older readers can still parse the topic.
const OFFSET_VALUE_VERSION = 3;
const OFFSET_VALUE_VERSION_WITH_EXPIRY = 1;
const GROUP_VALUE_VERSION = 3;

export interface EncodedRecord {
  key: Buffer;
  value: Buffer | null;
}

function frame(version: number, body: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.writeInt16(version);
  body(w);
  return w.toBuffer();
}

export function encodeRecord(r: CoordinatorRecord): EncodedRecord {
  switch (r.type) {
    case 'offset-commit': {
      const key = frame(KeyVersion.OFFSET_COMMIT, (w) => ock.encodeOffsetCommitKey(w, r.key, KeyVersion.OFFSET_COMMIT));
      if (r.value === null) return { key, value: null };
      const v = r.value;
      const version = v.expireTimestamp >= 0n ? OFFSET_VALUE_VERSION_WITH_EXPIRY : OFFSET_VALUE_VERSION;
      return { key, value: frame(version, (w) => ocv.encodeOffsetCommitValue(w, v, version)) };
    }
    case 'group-metadata': {
      const key = frame(KeyVersion.GROUP_METADATA, (w) => gmk.encodeGroupMetadataKey(w, { group: r.groupId }, KeyVersion.GROUP_METADATA));
      const v = r.value;
      return { key, value: v === null ? null : frame(GROUP_VALUE_VERSION, (w) => gmv.encodeGroupMetadataValue(w, v, GROUP_VALUE_VERSION)) };
    }
    case 'consumer-group-metadata': {
      const key = frame(KeyVersion.CONSUMER_GROUP_METADATA, (w) => cgmk.encodeConsumerGroupMetadataKey(w, { groupId: r.groupId }, KeyVersion.CONSUMER_GROUP_METADATA));
      const v = r.value;
      return { key, value: v === null ? null : frame(0, (w) => cgmv.encodeConsumerGroupMetadataValue(w, v, 0)) };
    }
    case 'consumer-group-partition-metadata': {
      const key = frame(KeyVersion.CONSUMER_GROUP_PARTITION_METADATA, (w) => cgpk.encodeConsumerGroupPartitionMetadataKey(w, { groupId: r.groupId }, KeyVersion.CONSUMER_GROUP_PARTITION_METADATA));
      const v = r.value;
      return { key, value: v === null ? null : frame(0, (w) => cgpv.encodeConsumerGroupPartitionMetadataValue(w, v, 0)) };
    }
    case 'consumer-group-member-metadata': {
      const key = frame(KeyVersion.CONSUMER_GROUP_MEMBER_METADATA, (w) => cgmmk.encodeConsumerGroupMemberMetadataKey(w, { groupId: r.groupId, memberId: r.memberId }, KeyVersion.CONSUMER_GROUP_MEMBER_METADATA));
      const v = r.value;
      return { key, value: v === null ? null : frame(0, (w) => cgmmv.encodeConsumerGroupMemberMetadataValue(w, v, 0)) };
    }
    case 'consumer-group-target-assignment-metadata': {
      const key = frame(KeyVersion.CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA, (w) => cgtak.encodeConsumerGroupTargetAssignmentMetadataKey(w, { groupId: r.groupId }, KeyVersion.CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA));
      const v = r.value;
      return { key, value: v === null ? null : frame(0, (w) => cgtav.encodeConsumerGroupTargetAssignmentMetadataValue(w, v, 0)) };
    }
    case 'consumer-group-target-assignment-member': {
      const key = frame(KeyVersion.CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER, (w) => cgtmk.encodeConsumerGroupTargetAssignmentMemberKey(w, { groupId: r.groupId, memberId: r.memberId }, KeyVersion.CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER));
      const v = r.value;
      return { key, value: v === null ? null : frame(0, (w) => cgtmv.encodeConsumerGroupTargetAssignmentMemberValue(w, v, 0)) };
    }
    case 'consumer-group-current-member-assignment': {
      const key = frame(KeyVersion.CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT, (w) => cgcak.encodeConsumerGroupCurrentMemberAssignmentKey(w, { groupId: r.groupId, memberId: r.memberId }, KeyVersion.CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT));
      const v = r.value;
      return { key, value: v === null ? null : frame(0, (w) => cgcav.encodeConsumerGroupCurrentMemberAssignmentValue(w, v, 0)) };
    }
  }
}

/** Reads the value's version prefix and hands the rest to `decode`; null stays null (tombstone). */
function value<T>(buf: Buffer | null, decode: (r: Reader, version: number) => T): T | null {
  if (buf === null) return null;
  const r = new Reader(buf);
  const version = r.readInt16();
  return decode(r, version);
}

/**
 * Decodes one record of __consumer_offsets. Returns null for record types this coordinator does
 * not keep (share groups, unknown future types); throws ProtocolError on malformed bytes.
 */
export function decodeRecord(key: Buffer, val: Buffer | null): CoordinatorRecord | null {
  const r = new Reader(key);
  const kv = r.readInt16();
  switch (kv) {
    case KeyVersion.OFFSET_COMMIT_LEGACY:
    case KeyVersion.OFFSET_COMMIT:
      return { type: 'offset-commit', key: ock.decodeOffsetCommitKey(r, kv), value: value(val, ocv.decodeOffsetCommitValue) };
    case KeyVersion.GROUP_METADATA:
      return { type: 'group-metadata', groupId: gmk.decodeGroupMetadataKey(r, kv).group, value: value(val, gmv.decodeGroupMetadataValue) };
    case KeyVersion.CONSUMER_GROUP_METADATA:
      return { type: 'consumer-group-metadata', groupId: cgmk.decodeConsumerGroupMetadataKey(r, kv).groupId, value: value(val, cgmv.decodeConsumerGroupMetadataValue) };
    case KeyVersion.CONSUMER_GROUP_PARTITION_METADATA:
      return { type: 'consumer-group-partition-metadata', groupId: cgpk.decodeConsumerGroupPartitionMetadataKey(r, kv).groupId, value: value(val, cgpv.decodeConsumerGroupPartitionMetadataValue) };
    case KeyVersion.CONSUMER_GROUP_MEMBER_METADATA: {
      const k = cgmmk.decodeConsumerGroupMemberMetadataKey(r, kv);
      return { type: 'consumer-group-member-metadata', groupId: k.groupId, memberId: k.memberId, value: value(val, cgmmv.decodeConsumerGroupMemberMetadataValue) };
    }
    case KeyVersion.CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA:
      return { type: 'consumer-group-target-assignment-metadata', groupId: cgtak.decodeConsumerGroupTargetAssignmentMetadataKey(r, kv).groupId, value: value(val, cgtav.decodeConsumerGroupTargetAssignmentMetadataValue) };
    case KeyVersion.CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER: {
      const k = cgtmk.decodeConsumerGroupTargetAssignmentMemberKey(r, kv);
      return { type: 'consumer-group-target-assignment-member', groupId: k.groupId, memberId: k.memberId, value: value(val, cgtmv.decodeConsumerGroupTargetAssignmentMemberValue) };
    }
    case KeyVersion.CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT: {
      const k = cgcak.decodeConsumerGroupCurrentMemberAssignmentKey(r, kv);
      return { type: 'consumer-group-current-member-assignment', groupId: k.groupId, memberId: k.memberId, value: value(val, cgcav.decodeConsumerGroupCurrentMemberAssignmentValue) };
    }
    default:
      return null;
  }
}

/** The group a record belongs to. */
export function recordGroupId(r: CoordinatorRecord): string {
  return r.type === 'offset-commit' ? r.key.group : r.groupId;
}

// --- builders -----------------------------------------------------------------------------------

export function offsetCommitRecord(group: string, topic: string, partition: number, value: OffsetCommitValue | null): CoordinatorRecord {
  return { type: 'offset-commit', key: { group, topic, partition }, value };
}

export function groupMetadataRecord(groupId: string, value: GroupMetadataValue | null): CoordinatorRecord {
  return { type: 'group-metadata', groupId, value };
}

export const createOffsetCommitValue = ocv.createOffsetCommitValue;
export const createGroupMetadataValue = gmv.createGroupMetadataValue;
export const createGroupMemberMetadata = gmv.createMemberMetadata;
