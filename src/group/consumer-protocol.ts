// The "consumer" embedded protocol carried as opaque bytes by JoinGroup/SyncGroup
// (ConsumerProtocolSubscription / ConsumerProtocolAssignment, each prefixed by an int16 version).
// The coordinator reads subscriptions only to know which topics a classic consumer group uses
// (OffsetDelete's GROUP_SUBSCRIBED_TO_TOPIC, offset expiration). A version newer than we know is
// read with the newest layout we know: later versions only append fields.
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import {
  decodeConsumerProtocolSubscription, encodeConsumerProtocolSubscription, createConsumerProtocolSubscription,
  ConsumerProtocolSubscriptionMeta, type ConsumerProtocolSubscription,
} from '../protocol/generated/consumer-protocol-subscription.ts';
import {
  decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment, ConsumerProtocolAssignmentMeta,
  type ConsumerProtocolAssignment,
} from '../protocol/generated/consumer-protocol-assignment.ts';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** Subscribed topic names, or null when the bytes are not a consumer subscription. */
export function decodeSubscription(buf: Buffer): ConsumerProtocolSubscription | null {
  try {
    const r = new Reader(buf);
    const v = r.readInt16();
    if (v < 0) return null;
    return decodeConsumerProtocolSubscription(r, Math.min(v, ConsumerProtocolSubscriptionMeta.maxVersion));
  } catch {
    return null;
  }
}

export function decodeAssignment(buf: Buffer): ConsumerProtocolAssignment | null {
  try {
    const r = new Reader(buf);
    const v = r.readInt16();
    if (v < 0) return null;
    return decodeConsumerProtocolAssignment(r, Math.min(v, ConsumerProtocolAssignmentMeta.maxVersion));
  } catch {
    return null;
  }
}

export function encodeSubscription(topics: string[], version = 0, init: Partial<ConsumerProtocolSubscription> = {}): Buffer {
  const w = new Writer();
  w.writeInt16(version);
  encodeConsumerProtocolSubscription(w, createConsumerProtocolSubscription({ topics, ...init }), version);
  return w.toBuffer();
}

export function encodeAssignment(partitions: ReadonlyMap<string, readonly number[]>, version = 0): Buffer {
  const w = new Writer();
  w.writeInt16(version);
  const assignedPartitions = [...partitions].map(([topic, ps]) => ({ topic, partitions: [...ps] }));
  encodeConsumerProtocolAssignment(w, { assignedPartitions, userData: null }, version);
  return w.toBuffer();
}
