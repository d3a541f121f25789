// The settings the group coordinator runs with, read once from the broker configuration.
// KIP-848 settings use Kafka's defaults (group.consumer.*): the broker configuration does not carry
// those keys yet.
import type { BrokerConfig } from '../config/broker-config.ts';

export interface GroupConfig {
  numPartitions: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms: the first rebalance of an empty group waits for more joiners. */
  initialRebalanceDelayMs: number;
  /** offsets.retention.minutes in ms (KIP-211: counted from when the group became empty). */
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
  maxGroupSize: number;
  /** group.consumer.heartbeat.interval.ms (KIP-848). */
  consumerHeartbeatIntervalMs: number;
  /** group.consumer.session.timeout.ms (KIP-848). */
  consumerSessionTimeoutMs: number;
  /** group.consumer.assignors, the first being the default (KIP-848). */
  consumerAssignors: readonly string[];
}

export const DEFAULT_GROUP_CONFIG: GroupConfig = {
  numPartitions: 50,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1800000,
  initialRebalanceDelayMs: 3000,
  offsetsRetentionMs: 10080 * 60_000,
  offsetsRetentionCheckIntervalMs: 600000,
  offsetMetadataMaxBytes: 4096,
  maxGroupSize: 2147483647,
  consumerHeartbeatIntervalMs: 5000,
  consumerSessionTimeoutMs: 45000,
  consumerAssignors: ['uniform', 'range'],
};

export function groupConfigFrom(c: BrokerConfig): GroupConfig {
  return {
    ...DEFAULT_GROUP_CONFIG,
    numPartitions: c.get('offsets.topic.num.partitions'),
    minSessionTimeoutMs: c.get('group.min.session.timeout.ms'),
    maxSessionTimeoutMs: c.get('group.max.session.timeout.ms'),
    initialRebalanceDelayMs: c.get('group.initial.rebalance.delay.ms'),
    offsetsRetentionMs: c.get('offsets.retention.minutes') * 60_000,
    offsetsRetentionCheckIntervalMs: Number(c.get('offsets.retention.check.interval.ms')),
    offsetMetadataMaxBytes: c.get('offset.metadata.max.bytes'),
    maxGroupSize: c.get('group.max.size'),
  };
}
