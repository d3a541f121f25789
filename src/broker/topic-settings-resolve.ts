// Resolves a topic's effective settings from its dynamic overrides in the metadata image and the
// broker's static configuration.
import type { MetadataImage, TopicImage } from '../controller/image.ts';
import { configsOf } from '../controller/image.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import { resolveTopicConfig, toLogConfig } from '../config/topic-config.ts';
import type { TopicSettings } from './topic-settings.ts';

export function resolveTopicSettings(image: MetadataImage, topic: TopicImage, broker: BrokerConfig): TopicSettings {
  const overrides = Object.fromEntries(configsOf(image, `topic:${topic.name}`));
  const c = resolveTopicConfig(overrides, broker);
  const logConfig = toLogConfig(c);
  return {
    maxMessageBytes: c.get('max.message.bytes'),
    timestampType: c.get('message.timestamp.type') === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    timestampBeforeMaxMs: c.timestampBeforeMaxMs,
    timestampAfterMaxMs: c.timestampAfterMaxMs,
    compacted: logConfig.cleanupPolicy !== 'delete',
    minInsyncReplicas: c.get('min.insync.replicas'),
    logConfig,
  };
}
