// Per-topic values the produce and fetch paths read, resolved from the topic's config overrides and
// the broker defaults whenever the metadata image changes.
import type { LogConfig } from '../storage/log-config.ts';

export interface TopicSettings {
  maxMessageBytes: number;
  timestampType: 'CreateTime' | 'LogAppendTime';
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  compacted: boolean;
  minInsyncReplicas: number;
  logConfig: LogConfig;
}
