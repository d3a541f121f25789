// Broker keys of the group coordinator (__consumer_offsets) and the transaction coordinator
// (__transaction_state). Kafka's names and defaults, except the replication of the two internal
// topics: Kafka defaults to 3 (and a min ISR of 2 for transactions), which a single node can
// never satisfy; Brook defaults to 1 so one node works out of the box. Set 3 for a cluster.

import { atLeast, int, long, short } from './config-def.ts';

export const COORDINATOR_KEYS = {
  'offsets.topic.num.partitions': int({
    default: 50, validate: atLeast(1),
    doc: 'Partitions of __consumer_offsets; fixed once the topic exists.',
  }),
  'offsets.topic.replication.factor': short({
    default: 1, validate: atLeast(1),
    doc: 'Replication factor of __consumer_offsets (Brook defaults to 1; Kafka to 3).',
  }),
  'offsets.topic.segment.bytes': int({
    default: 104857600, validate: atLeast(1),
    doc: 'Segment size of __consumer_offsets, kept small so it compacts and loads quickly.',
  }),
  'offsets.retention.minutes': int({
    default: 10080, validate: atLeast(1),
    doc: 'How long committed offsets of an empty group are kept.',
  }),
  'offsets.retention.check.interval.ms': long({
    default: 600000, validate: atLeast(1),
    doc: 'How often expired committed offsets are removed.',
  }),
  'offset.metadata.max.bytes': int({
    default: 4096,
    doc: 'Largest metadata string stored with a committed offset; longer gives OFFSET_METADATA_TOO_LARGE.',
  }),
  'group.initial.rebalance.delay.ms': int({
    default: 3000,
    doc: 'How long the first rebalance of a new group waits for more members to join.',
  }),
  'group.min.session.timeout.ms': int({
    default: 6000,
    doc: 'Shortest session timeout a consumer may ask for.',
  }),
  'group.max.session.timeout.ms': int({
    default: 1800000,
    doc: 'Longest session timeout a consumer may ask for.',
  }),
  'group.max.size': int({
    default: 2147483647, validate: atLeast(1),
    doc: 'Most members one consumer group may have; more get GROUP_MAX_SIZE_REACHED.',
  }),
  'transaction.max.timeout.ms': int({
    default: 900000, validate: atLeast(1),
    doc: 'Longest transaction timeout a producer may ask for; longer gives INVALID_TRANSACTION_TIMEOUT.',
  }),
  'transaction.state.log.num.partitions': int({
    default: 50, validate: atLeast(1),
    doc: 'Partitions of __transaction_state; fixed once the topic exists.',
  }),
  'transaction.state.log.replication.factor': short({
    default: 1, validate: atLeast(1),
    doc: 'Replication factor of __transaction_state (Brook defaults to 1; Kafka to 3).',
  }),
  'transaction.state.log.min.isr': int({
    default: 1, validate: atLeast(1),
    doc: 'min.insync.replicas of __transaction_state (Brook defaults to 1; Kafka to 2).',
  }),
  'transaction.state.log.segment.bytes': int({
    default: 104857600, validate: atLeast(1),
    doc: 'Segment size of __transaction_state.',
  }),
  'transactional.id.expiration.ms': int({
    default: 604800000, validate: atLeast(1),
    doc: 'A transactional id with no transaction activity for this long is forgotten.',
  }),
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': int({
    default: 10000, validate: atLeast(1),
    doc: 'How often transactions past their timeout are looked for and aborted.',
  }),
  'transaction.remove.expired.transaction.cleanup.interval.ms': int({
    default: 3600000, validate: atLeast(1),
    doc: 'How often expired transactional ids are removed.',
  }),
  'producer.id.expiration.ms': int({
    default: 86400000, validate: atLeast(1), dynamic: true,
    doc: 'Idempotence state of a producer id that has not written for this long is dropped (KIP-854).',
  }),
  'producer.id.expiration.check.interval.ms': int({
    default: 600000, validate: atLeast(1),
    doc: 'How often expired producer ids are removed.',
  }),
} as const;
