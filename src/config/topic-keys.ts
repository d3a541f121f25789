// Topic-level configs (Kafka 3.9 names and validators) and the broker keys each falls back to.
// A topic without an override takes the broker's effective value; the `synonyms` list is the
// broker keys in precedence order (retention.ms ← log.retention.ms, then minutes, then hours).

import type { BrokerKey } from './broker-keys.ts';
import {
  atLeast, between, bool, choice, double, int, list, listOf, long, LONG_MAX, type KeyDef,
} from './config-def.ts';
import { CLEANUP_POLICIES, COMPRESSION_TYPES, TIMESTAMP_TYPES } from './keys-log.ts';

export interface TopicKeyDef<T> {
  readonly def: KeyDef<T>;
  /** Broker keys this topic config falls back to, most specific first. */
  readonly synonyms: readonly BrokerKey[];
}

const t = <T>(def: KeyDef<T>, ...synonyms: BrokerKey[]): TopicKeyDef<T> => Object.freeze({ def, synonyms });

export const TOPIC_KEYS = {
  'cleanup.policy': t(list({
    default: ['delete'], validate: listOf(CLEANUP_POLICIES, { nonEmpty: true }),
    doc: 'delete old segments by retention, compact to the latest value per key, or both (compact,delete).',
  }), 'log.cleanup.policy'),
  'compression.type': t(choice(COMPRESSION_TYPES, {
    default: 'producer',
    doc: 'Codec batches are stored with; producer keeps the codec the producer used.',
  }), 'compression.type'),
  'delete.retention.ms': t(long({
    default: 86400000, validate: atLeast(0),
    doc: 'How long tombstones stay in a compacted topic.',
  }), 'log.cleaner.delete.retention.ms'),
  'file.delete.delay.ms': t(long({
    default: 60000, validate: atLeast(0),
    doc: 'Delay before the files of a removed segment are deleted.',
  }), 'log.segment.delete.delay.ms'),
  'flush.messages': t(long({
    default: LONG_MAX, validate: atLeast(1),
    doc: 'Records appended before the partition is forced to disk.',
  }), 'log.flush.interval.messages'),
  'flush.ms': t(long({
    default: LONG_MAX, validate: atLeast(0),
    doc: 'Longest time appended data stays unsynced.',
  }), 'log.flush.interval.ms', 'log.flush.scheduler.interval.ms'),
  'index.interval.bytes': t(int({
    default: 4096, validate: atLeast(0),
    doc: 'Bytes between offset index entries.',
  }), 'log.index.interval.bytes'),
  'max.compaction.lag.ms': t(long({
    default: LONG_MAX, validate: atLeast(1),
    doc: 'Longest time a record may stay uncompacted.',
  }), 'log.cleaner.max.compaction.lag.ms'),
  'max.message.bytes': t(int({
    default: 1048588, validate: atLeast(0),
    doc: 'Largest record batch the topic accepts, after compression.',
  }), 'message.max.bytes'),
  'message.downconversion.enable': t(bool({
    default: true,
    doc: 'Whether fetches by old clients are converted to their message format.',
  }), 'log.message.downconversion.enable'),
  'message.timestamp.after.max.ms': t(long({
    default: LONG_MAX, validate: atLeast(0),
    doc: 'With CreateTime, how far ahead of the broker clock a timestamp may be.',
  }), 'log.message.timestamp.after.max.ms'),
  'message.timestamp.before.max.ms': t(long({
    default: LONG_MAX, validate: atLeast(0),
    doc: 'With CreateTime, how far behind the broker clock a timestamp may be.',
  }), 'log.message.timestamp.before.max.ms'),
  'message.timestamp.difference.max.ms': t(long({
    default: LONG_MAX, validate: atLeast(0),
    doc: 'Deprecated by KIP-937: the before/after limit when those are not set.',
  }), 'log.message.timestamp.difference.max.ms'),
  'message.timestamp.type': t(choice(TIMESTAMP_TYPES, {
    default: 'CreateTime',
    doc: 'CreateTime keeps producer timestamps; LogAppendTime uses the broker clock.',
  }), 'log.message.timestamp.type'),
  'min.cleanable.dirty.ratio': t(double({
    default: 0.5, validate: between(0, 1),
    doc: 'Share of the log that must be uncompacted before compaction runs.',
  }), 'log.cleaner.min.cleanable.ratio'),
  'min.compaction.lag.ms': t(long({
    default: 0, validate: atLeast(0),
    doc: 'Records younger than this are never compacted away.',
  }), 'log.cleaner.min.compaction.lag.ms'),
  'min.insync.replicas': t(int({
    default: 1, validate: atLeast(1),
    doc: 'In-sync replicas an acks=all produce needs.',
  }), 'min.insync.replicas'),
  'preallocate': t(bool({
    default: false,
    doc: 'Allocate segment files at full size when created.',
  }), 'log.preallocate'),
  'retention.bytes': t(long({
    default: -1,
    doc: 'Partition size above which the oldest segments are deleted (-1: no limit).',
  }), 'log.retention.bytes'),
  'retention.ms': t(long({
    default: 604800000, validate: atLeast(-1),
    doc: 'How long data is kept (-1: forever).',
  }), 'log.retention.ms', 'log.retention.minutes', 'log.retention.hours'),
  'segment.bytes': t(int({
    default: 1073741824, validate: atLeast(14),
    doc: 'Size at which a new segment is started.',
  }), 'log.segment.bytes'),
  'segment.index.bytes': t(int({
    default: 10485760, validate: atLeast(4),
    doc: 'Largest index file of a segment.',
  }), 'log.index.size.max.bytes'),
  'segment.jitter.ms': t(long({
    default: 0, validate: atLeast(0),
    doc: 'Largest random amount taken off segment.ms.',
  }), 'log.roll.jitter.ms', 'log.roll.jitter.hours'),
  'segment.ms': t(long({
    default: 604800000, validate: atLeast(1),
    doc: 'Age at which the active segment is rolled even if not full.',
  }), 'log.roll.ms', 'log.roll.hours'),
  'unclean.leader.election.enable': t(bool({
    default: false,
    doc: 'Allow an out-of-sync replica to become leader, losing data.',
  }), 'unclean.leader.election.enable'),
} as const;

export type TopicKeys = typeof TOPIC_KEYS;
export type TopicKey = keyof TopicKeys;
export type TopicValue<K extends TopicKey> = TopicKeys[K] extends TopicKeyDef<infer T> ? Exclude<T, null> : never;

export const TOPIC_KEY_NAMES: readonly TopicKey[] = Object.freeze((Object.keys(TOPIC_KEYS) as TopicKey[]).sort());

export function isTopicKey(name: string): name is TopicKey {
  return Object.hasOwn(TOPIC_KEYS, name);
}
