// Framing of one metadata record as KRaft stores it in the `__cluster_metadata` log
// (Kafka's MetadataRecordSerde / ApiMessageAndVersion):
//
//   [uvarint frameVersion = 1][uvarint recordType (the schema's apiKey)][uvarint recordVersion][body]
//
// The body is the record schema's own encoding at `recordVersion` (every metadata record is
// flexible from v0, so it ends with a tagged-field section). Bytes left after the body are an
// error, as in Kafka. The same bytes are what a Raft-backed log will replicate and snapshot.

import { Reader, ProtocolError } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import { METADATA_RECORDS, MetadataRecordType as T } from '../protocol/generated/metadata/index.ts';
import type { AbortTransactionRecord } from '../protocol/generated/metadata/abort-transaction-record.ts';
import type { AccessControlEntryRecord } from '../protocol/generated/metadata/access-control-entry-record.ts';
import type { BeginTransactionRecord } from '../protocol/generated/metadata/begin-transaction-record.ts';
import type { BrokerRegistrationChangeRecord } from '../protocol/generated/metadata/broker-registration-change-record.ts';
import type { ClientQuotaRecord } from '../protocol/generated/metadata/client-quota-record.ts';
import type { ConfigRecord } from '../protocol/generated/metadata/config-record.ts';
import type { DelegationTokenRecord } from '../protocol/generated/metadata/delegation-token-record.ts';
import type { EndTransactionRecord } from '../protocol/generated/metadata/end-transaction-record.ts';
import type { FeatureLevelRecord } from '../protocol/generated/metadata/feature-level-record.ts';
import type { FenceBrokerRecord } from '../protocol/generated/metadata/fence-broker-record.ts';
import type { NoOpRecord } from '../protocol/generated/metadata/no-op-record.ts';
import type { PartitionChangeRecord } from '../protocol/generated/metadata/partition-change-record.ts';
import type { PartitionRecord } from '../protocol/generated/metadata/partition-record.ts';
import type { ProducerIdsRecord } from '../protocol/generated/metadata/producer-ids-record.ts';
import type { RegisterBrokerRecord } from '../protocol/generated/metadata/register-broker-record.ts';
import type { RegisterControllerRecord } from '../protocol/generated/metadata/register-controller-record.ts';
import type { RemoveAccessControlEntryRecord } from '../protocol/generated/metadata/remove-access-control-entry-record.ts';
import type { RemoveDelegationTokenRecord } from '../protocol/generated/metadata/remove-delegation-token-record.ts';
import type { RemoveTopicRecord } from '../protocol/generated/metadata/remove-topic-record.ts';
import type { RemoveUserScramCredentialRecord } from '../protocol/generated/metadata/remove-user-scram-credential-record.ts';
import type { TopicRecord } from '../protocol/generated/metadata/topic-record.ts';
import type { UnfenceBrokerRecord } from '../protocol/generated/metadata/unfence-broker-record.ts';
import type { UnregisterBrokerRecord } from '../protocol/generated/metadata/unregister-broker-record.ts';
import type { UserScramCredentialRecord } from '../protocol/generated/metadata/user-scram-credential-record.ts';
import type { ZkMigrationStateRecord } from '../protocol/generated/metadata/zk-migration-state-record.ts';

/** The frame version Kafka writes (and the only one it reads). */
export const METADATA_FRAME_VERSION = 1;

/** Record type (apiKey) → decoded record body. */
export interface MetadataRecordMap {
  [T.RegisterBrokerRecord]: RegisterBrokerRecord;
  [T.UnregisterBrokerRecord]: UnregisterBrokerRecord;
  [T.TopicRecord]: TopicRecord;
  [T.PartitionRecord]: PartitionRecord;
  [T.ConfigRecord]: ConfigRecord;
  [T.PartitionChangeRecord]: PartitionChangeRecord;
  [T.FenceBrokerRecord]: FenceBrokerRecord;
  [T.UnfenceBrokerRecord]: UnfenceBrokerRecord;
  [T.RemoveTopicRecord]: RemoveTopicRecord;
  [T.DelegationTokenRecord]: DelegationTokenRecord;
  [T.UserScramCredentialRecord]: UserScramCredentialRecord;
  [T.FeatureLevelRecord]: FeatureLevelRecord;
  [T.ClientQuotaRecord]: ClientQuotaRecord;
  [T.ProducerIdsRecord]: ProducerIdsRecord;
  [T.BrokerRegistrationChangeRecord]: BrokerRegistrationChangeRecord;
  [T.AccessControlEntryRecord]: AccessControlEntryRecord;
  [T.RemoveAccessControlEntryRecord]: RemoveAccessControlEntryRecord;
  [T.NoOpRecord]: NoOpRecord;
  [T.ZkMigrationStateRecord]: ZkMigrationStateRecord;
  [T.RemoveUserScramCredentialRecord]: RemoveUserScramCredentialRecord;
  [T.BeginTransactionRecord]: BeginTransactionRecord;
  [T.EndTransactionRecord]: EndTransactionRecord;
  [T.AbortTransactionRecord]: AbortTransactionRecord;
  [T.RemoveDelegationTokenRecord]: RemoveDelegationTokenRecord;
  [T.RegisterControllerRecord]: RegisterControllerRecord;
}

export type MetadataRecordTypeId = keyof MetadataRecordMap;

/** Kafka's ApiMessageAndVersion: a record body, its type, and the schema version it is written at. */
export type MetadataRecord = {
  [K in MetadataRecordTypeId]: { readonly type: K; readonly version: number; readonly data: MetadataRecordMap[K] };
}[MetadataRecordTypeId];

/**
 * The version Brook writes for a record, as Kafka 3.9 does at metadata.version 3.9-IV0: the
 * lowest version that can carry the fields in use (directories need PartitionRecord v1, KIP-858;
 * eligible leader replicas need v2, KIP-966), the newest for the others.
 */
export function defaultRecordVersion<K extends MetadataRecordTypeId>(type: K, data: MetadataRecordMap[K]): number {
  switch (type) {
    case T.PartitionRecord:
    case T.PartitionChangeRecord: {
      const p = data as PartitionRecord | PartitionChangeRecord;
      if (p.eligibleLeaderReplicas !== null || p.lastKnownElr !== null) return 2;
      return p.directories !== null && p.directories.length > 0 ? 1 : 0;
    }
    case T.BrokerRegistrationChangeRecord:
      return (data as BrokerRegistrationChangeRecord).logDirs.length > 0 ? 2 : 1;
    default:
      return codecOf(type).maxVersion;
  }
}

/** Builds a record at its default version (or the one given). */
export function metadataRecord<K extends MetadataRecordTypeId>(
  type: K,
  data: MetadataRecordMap[K],
  version: number = defaultRecordVersion(type, data),
): MetadataRecord {
  return { type, version, data } as MetadataRecord;
}

function codecOf(type: number) {
  const codec = METADATA_RECORDS.get(type);
  if (codec === undefined) throw new ProtocolError(`unknown metadata record type ${type}`);
  return codec;
}

export function encodeMetadataRecord(record: MetadataRecord): Buffer {
  const codec = codecOf(record.type);
  if (record.version < 0 || record.version > codec.maxVersion) {
    throw new ProtocolError(`${codec.name} has no version ${record.version}`);
  }
  const w = new Writer(64);
  w.writeUVarint(METADATA_FRAME_VERSION);
  w.writeUVarint(record.type);
  w.writeUVarint(record.version);
  codec.encode(w, record.data, record.version);
  return w.toBuffer();
}

/** Decodes one framed record; throws ProtocolError on an unknown frame version, type or version. */
export function decodeMetadataRecord(buf: Buffer): MetadataRecord {
  const r = new Reader(buf);
  const frameVersion = r.readUVarint();
  if (frameVersion !== METADATA_FRAME_VERSION) {
    throw new ProtocolError(`unsupported metadata record frame version ${frameVersion}`);
  }
  const type = r.readUVarint();
  const version = r.readUVarint();
  const codec = codecOf(type);
  if (version > codec.maxVersion) throw new ProtocolError(`${codec.name} has no version ${version}`);
  const data: unknown = codec.decode(r, version);
  if (r.remaining !== 0) {
    throw new ProtocolError(`${r.remaining} byte(s) left after ${codec.name} v${version}`);
  }
  return { type, version, data } as MetadataRecord;
}

/** The record type's schema name, for messages. */
export function recordTypeName(type: number): string {
  return METADATA_RECORDS.get(type)?.name ?? `UnknownRecord(${type})`;
}
