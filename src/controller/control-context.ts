// What every control manager receives: the latest image and the injected seams. A control manager
// is a pure function of this context and a request; it returns the records to append and the
// response to give once they are committed (Kafka's ControllerResult). It never changes state:
// state changes only when the controller replays the committed records.

import type { ConfigSchema } from './config-schema.ts';
import type { RandomSource } from './ids.ts';
import type { MetadataImage } from './image.ts';
import type { MetadataRecord } from './record-codec.ts';

export interface ControlContext {
  readonly image: MetadataImage;
  /** The controller's node id; its broker-level dynamic configs apply to topic defaults. */
  readonly nodeId: number;
  readonly random: RandomSource;
  readonly now: () => number;
  readonly schema: ConfigSchema;
  /** Upper bound on partitions per topic, a guard against a request that would exhaust memory. */
  readonly maxPartitionsPerTopic: number;
}

export interface ControllerResult<T> {
  readonly records: MetadataRecord[];
  readonly response: T;
}

/** Kafka's { errorCode, errorMessage } pair in a per-resource result. */
export interface ApiErrorFields {
  errorCode: number;
  errorMessage: string | null;
}
