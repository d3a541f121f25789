// Per-partition log settings, named after Kafka's topic configs (segment.bytes, retention.ms, ...).
// Values are numbers in Kafka's units; "never" is Number.MAX_SAFE_INTEGER where Kafka uses
// Long.MAX_VALUE, and -1 keeps Kafka's meaning of "no limit" for retention.ms / retention.bytes.

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  segmentJitterMs?: number;
  indexIntervalBytes: number;
  segmentIndexBytes: number;
  retentionMs: number;
  retentionBytes: number;
  cleanupPolicy: CleanupPolicy;
  deleteRetentionMs: number;
  minCleanableDirtyRatio: number;
  minCompactionLagMs: number;
  maxCompactionLagMs: number;
  flushMessages: number;
  flushMs: number;
  fileDeleteDelayMs: number;
}

export const NEVER = Number.MAX_SAFE_INTEGER;

/** Kafka 3.9's topic-level defaults. */
export const defaultLogConfig: LogConfig = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  segmentJitterMs: 0,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10 * 1024 * 1024,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  cleanupPolicy: 'delete',
  deleteRetentionMs: 24 * 3600 * 1000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: NEVER,
  flushMessages: NEVER,
  flushMs: NEVER,
  fileDeleteDelayMs: 60_000,
});

/** Kafka topic config name → LogConfig field (for DescribeConfigs / CreateTopics configs). */
export const logConfigNames: Readonly<Record<string, keyof LogConfig>> = Object.freeze({
  'segment.bytes': 'segmentBytes',
  'segment.ms': 'segmentMs',
  'segment.jitter.ms': 'segmentJitterMs',
  'index.interval.bytes': 'indexIntervalBytes',
  'segment.index.bytes': 'segmentIndexBytes',
  'retention.ms': 'retentionMs',
  'retention.bytes': 'retentionBytes',
  'cleanup.policy': 'cleanupPolicy',
  'delete.retention.ms': 'deleteRetentionMs',
  'min.cleanable.dirty.ratio': 'minCleanableDirtyRatio',
  'min.compaction.lag.ms': 'minCompactionLagMs',
  'max.compaction.lag.ms': 'maxCompactionLagMs',
  'flush.messages': 'flushMessages',
  'flush.ms': 'flushMs',
  'file.delete.delay.ms': 'fileDeleteDelayMs',
});

/**
 * Applies Kafka-named string configs over `base`. Unknown names are ignored (they belong to other
 * subsystems); a malformed value throws RangeError naming the config.
 */
export function logConfigFrom(props: Readonly<Record<string, string | null | undefined>>, base: LogConfig = defaultLogConfig): LogConfig {
  const out: LogConfig = { ...base };
  for (const [name, raw] of Object.entries(props)) {
    const field = logConfigNames[name];
    if (field === undefined || raw === null || raw === undefined) continue;
    if (field === 'cleanupPolicy') {
      const parts = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0).sort();
      const policy = parts.join(',');
      if (policy !== 'delete' && policy !== 'compact' && policy !== 'compact,delete') {
        throw new RangeError(`cleanup.policy: invalid value '${raw}'`);
      }
      out.cleanupPolicy = policy;
      continue;
    }
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new RangeError(`${name}: invalid number '${raw}'`);
    (out as unknown as Record<string, number>)[field] = Math.min(n, NEVER);
  }
  return out;
}

export function isCompacted(config: LogConfig): boolean {
  return config.cleanupPolicy !== 'delete';
}

export function isDeleting(config: LogConfig): boolean {
  return config.cleanupPolicy !== 'compact';
}
