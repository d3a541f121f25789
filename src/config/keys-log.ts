// Broker-wide defaults for the storage engine and for topic configs: each topic config falls
// back to one of these (see topic-keys.ts). Names, types and defaults are Kafka 3.9's; they are
// dynamic, as in Kafka, because topics read them when their effective config is resolved.

import {
  atLeast, between, bool, choice, double, int, list, listOf, long, unlimitedOrAtLeast, LONG_MAX,
} from './config-def.ts';

/** Broker and topic compression.type values. Kafka calls "no compression" uncompressed; Brook
 * also accepts none, the producer-side spelling. */
export const COMPRESSION_TYPES = ['uncompressed', 'none', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] as const;
export const TIMESTAMP_TYPES = ['CreateTime', 'LogAppendTime'] as const;
export const CLEANUP_POLICIES = ['compact', 'delete'] as const;

export const LOG_KEYS = {
  'log.segment.bytes': int({
    default: 1073741824, validate: atLeast(14), dynamic: true,
    doc: 'Size at which the active segment of a partition is closed and a new one started.',
  }),
  'log.roll.ms': long({
    default: null, validate: atLeast(1), dynamic: true,
    doc: 'Age at which the active segment is rolled even if not full; overrides log.roll.hours.',
  }),
  'log.roll.hours': int({
    default: 168, validate: atLeast(1), dynamic: true,
    doc: 'Age in hours at which the active segment is rolled, when log.roll.ms is not set.',
  }),
  'log.roll.jitter.ms': long({
    default: null, validate: atLeast(0), dynamic: true,
    doc: 'Largest random amount taken off the roll time, so partitions do not all roll at once; overrides log.roll.jitter.hours.',
  }),
  'log.roll.jitter.hours': int({
    default: 0, validate: atLeast(0), dynamic: true,
    doc: 'Roll jitter in hours, when log.roll.jitter.ms is not set.',
  }),
  'log.retention.ms': long({
    default: null, validate: unlimitedOrAtLeast(1), dynamic: true,
    doc: 'How long data is kept before old segments are deleted (-1: forever); takes precedence over minutes and hours.',
  }),
  'log.retention.minutes': int({
    default: null, validate: unlimitedOrAtLeast(1), dynamic: true,
    doc: 'Retention in minutes, used when log.retention.ms is not set; takes precedence over hours.',
  }),
  'log.retention.hours': int({
    default: 168, validate: unlimitedOrAtLeast(1), dynamic: true,
    doc: 'Retention in hours, used when neither log.retention.ms nor log.retention.minutes is set.',
  }),
  'log.retention.bytes': long({
    default: -1, dynamic: true,
    doc: 'Size a partition may reach before its oldest segments are deleted (-1: no size limit).',
  }),
  'log.retention.check.interval.ms': long({
    default: 300000, validate: atLeast(1),
    doc: 'How often the broker looks for segments that retention allows it to delete.',
  }),
  'log.cleanup.policy': list({
    default: ['delete'], validate: listOf(CLEANUP_POLICIES, { nonEmpty: true }), dynamic: true,
    doc: 'What happens to old data: delete (by retention), compact (keep the latest value per key), or both.',
  }),
  'log.cleaner.enable': bool({
    default: true,
    doc: 'Run the log cleaner that compacts topics with the compact policy.',
  }),
  'log.cleaner.delete.retention.ms': long({
    default: 86400000, validate: atLeast(0), dynamic: true,
    doc: 'How long a tombstone (null value) stays in a compacted topic so consumers can see the delete.',
  }),
  'log.cleaner.min.cleanable.ratio': double({
    default: 0.5, validate: between(0, 1), dynamic: true,
    doc: 'Share of a compacted log that must be uncompacted before the cleaner works on it.',
  }),
  'log.cleaner.min.compaction.lag.ms': long({
    default: 0, validate: atLeast(0), dynamic: true,
    doc: 'Records younger than this are never compacted away.',
  }),
  'log.cleaner.max.compaction.lag.ms': long({
    default: LONG_MAX, validate: atLeast(1), dynamic: true,
    doc: 'Records older than this are compacted even if the cleanable ratio is not reached.',
  }),
  'log.index.interval.bytes': int({
    default: 4096, validate: atLeast(0), dynamic: true,
    doc: 'Bytes of batches between two entries of the offset index.',
  }),
  'log.index.size.max.bytes': int({
    default: 10485760, validate: atLeast(4), dynamic: true,
    doc: 'Largest offset or time index of a segment; a full index rolls the segment.',
  }),
  'log.flush.interval.messages': long({
    default: LONG_MAX, validate: atLeast(1), dynamic: true,
    doc: 'Records appended to a partition before it is forced to disk (brook.fsync.acks.all syncs acks=all writes regardless).',
  }),
  'log.flush.interval.ms': long({
    default: null, validate: atLeast(0), dynamic: true,
    doc: 'Longest time appended data stays unsynced; unset uses log.flush.scheduler.interval.ms.',
  }),
  'log.flush.scheduler.interval.ms': long({
    default: LONG_MAX, validate: atLeast(0),
    doc: 'How often partitions are checked for a time-based flush.',
  }),
  'log.segment.delete.delay.ms': long({
    default: 60000, validate: atLeast(0), dynamic: true,
    doc: 'Delay between a segment leaving the log and its files being removed, so in-flight reads finish.',
  }),
  'log.preallocate': bool({
    default: false, dynamic: true,
    doc: 'Allocate a new segment file at full size when it is created.',
  }),
  'log.message.timestamp.type': choice(TIMESTAMP_TYPES, {
    default: 'CreateTime', dynamic: true,
    doc: 'CreateTime keeps the producer timestamp; LogAppendTime replaces it with the broker clock.',
  }),
  'log.message.timestamp.before.max.ms': long({
    default: LONG_MAX, validate: atLeast(0), dynamic: true,
    doc: 'With CreateTime, how far a record timestamp may lag the broker clock before the batch is rejected (KIP-937).',
  }),
  'log.message.timestamp.after.max.ms': long({
    default: LONG_MAX, validate: atLeast(0), dynamic: true,
    doc: 'With CreateTime, how far a record timestamp may be ahead of the broker clock before the batch is rejected (KIP-937).',
  }),
  'log.message.timestamp.difference.max.ms': long({
    default: LONG_MAX, validate: atLeast(0), dynamic: true,
    doc: 'Deprecated by KIP-937: used as the before limit when log.message.timestamp.before.max.ms is not set.',
  }),
  'log.message.downconversion.enable': bool({
    default: true, dynamic: true,
    doc: 'Whether fetches by clients too old for the stored message format are converted or refused.',
  }),
  'message.max.bytes': int({
    default: 1048588, validate: atLeast(0), dynamic: true,
    doc: 'Largest record batch a topic accepts, after compression (topic config max.message.bytes).',
  }),
  'min.insync.replicas': int({
    default: 1, validate: atLeast(1), dynamic: true,
    doc: 'In-sync replicas needed for an acks=all produce to succeed; fewer gives NOT_ENOUGH_REPLICAS.',
  }),
  'unclean.leader.election.enable': bool({
    default: false, dynamic: true,
    doc: 'Allow a replica that is not in sync to become leader when no in-sync one is left, losing data.',
  }),
  'compression.type': choice(COMPRESSION_TYPES, {
    default: 'producer', dynamic: true,
    doc: 'Codec batches are stored with: producer keeps what the producer sent, else recompress with this codec.',
  }),
} as const;
