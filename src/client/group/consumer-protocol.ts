// The "consumer" embedded protocol of classic groups: JoinGroup carries each member's
// subscription and SyncGroup the leader's assignments as opaque bytes, each an int16 version
// followed by ConsumerProtocolSubscription / ConsumerProtocolAssignment. Subscription v1 adds the
// partitions a member owns (KIP-429, needed by cooperative rebalancing), v2 its generation
// (KIP-792), v3 its rack (KIP-881). A version newer than we know is read with the newest layout we
// know: later versions only append fields.
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import {
  ConsumerProtocolSubscriptionMeta, decodeConsumerProtocolSubscription, encodeConsumerProtocolSubscription,
} from '../../protocol/generated/consumer-protocol-subscription.ts';
import {
  ConsumerProtocolAssignmentMeta, decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment,
} from '../../protocol/generated/consumer-protocol-assignment.ts';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** Partitions as topic → sorted partition numbers. */
export type Assignment = Map<string, number[]>;

export interface Subscription {
  topics: string[];
  userData: Buffer | null;
  ownedPartitions: Assignment;
  generationId: number;
  rackId: string | null;
}

export const SUBSCRIPTION_VERSION = 3;
export const ASSIGNMENT_VERSION = 1;

function toList(a: Assignment): { topic: string; partitions: number[] }[] {
  return [...a].filter(([, ps]) => ps.length > 0).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([topic, ps]) => ({ topic, partitions: [...ps].sort((p, q) => p - q) }));
}

function fromList(list: readonly { topic: string; partitions: number[] }[]): Assignment {
  const out: Assignment = new Map();
  for (const { topic, partitions } of list) out.set(topic, [...(out.get(topic) ?? []), ...partitions].sort((p, q) => p - q));
  return out;
}

export function encodeSubscription(s: Subscription, version = SUBSCRIPTION_VERSION): Buffer {
  const w = new Writer(64);
  w.writeInt16(version);
  encodeConsumerProtocolSubscription(w, {
    topics: [...s.topics].sort(),
    userData: s.userData,
    ownedPartitions: toList(s.ownedPartitions),
    generationId: s.generationId,
    rackId: s.rackId,
  }, version);
  return w.toBuffer();
}

export function decodeSubscription(buf: Buffer): Subscription {
  const r = new Reader(buf);
  const version = r.readInt16();
  const s = decodeConsumerProtocolSubscription(r, Math.min(Math.max(version, 0), ConsumerProtocolSubscriptionMeta.maxVersion));
  return { topics: s.topics, userData: s.userData, ownedPartitions: fromList(s.ownedPartitions), generationId: s.generationId, rackId: s.rackId };
}

export function encodeAssignment(a: Assignment, userData: Buffer | null = null, version = ASSIGNMENT_VERSION): Buffer {
  const w = new Writer(64);
  w.writeInt16(version);
  encodeConsumerProtocolAssignment(w, { assignedPartitions: toList(a), userData }, version);
  return w.toBuffer();
}

/** An empty buffer (a member given nothing, as some coordinators send it) is an empty assignment. */
export function decodeAssignment(buf: Buffer): Assignment {
  if (buf.length === 0) return new Map();
  const r = new Reader(buf);
  const version = r.readInt16();
  return fromList(decodeConsumerProtocolAssignment(r, Math.min(Math.max(version, 0), ConsumerProtocolAssignmentMeta.maxVersion)).assignedPartitions);
}
