// The consumer's Fetch request: sessionless (session id 0, epoch -1, KIP-227: every request is a
// full fetch), no leader epochs (-1: the broker does not fence us), topics by name (v ≤ 12).
import { ErrorCode } from '../protocol/errors.ts';
import type { FetchRequest } from '../protocol/generated/fetch-request.ts';
import { NULL_UUID } from '../protocol/reader.ts';

export interface FetchLimits {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  maxPartitionBytes: number;
  readCommitted: boolean;
}

/** Partition errors after which the consumer refreshes metadata and fetches from the new leader. */
export const FETCH_LEADERSHIP_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.REPLICA_NOT_AVAILABLE,
]);

export function buildFetchRequest(partitions: readonly { topic: string; partition: number; offset: number }[], o: FetchLimits): FetchRequest {
  const topics = new Map<string, { partition: number; offset: number }[]>();
  for (const p of partitions) {
    let list = topics.get(p.topic);
    if (list === undefined) topics.set(p.topic, (list = []));
    list.push(p);
  }
  return {
    clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: o.maxWaitMs, minBytes: o.minBytes, maxBytes: o.maxBytes,
    isolationLevel: o.readCommitted ? 1 : 0, sessionId: 0, sessionEpoch: -1,
    topics: [...topics].map(([topic, ps]) => ({
      topic, topicId: NULL_UUID,
      partitions: ps.map((p) => ({
        partition: p.partition, currentLeaderEpoch: -1, fetchOffset: BigInt(p.offset), lastFetchedEpoch: -1,
        logStartOffset: -1n, partitionMaxBytes: o.maxPartitionBytes, replicaDirectoryId: NULL_UUID,
      })),
    })),
    forgottenTopicsData: [], rackId: '',
  };
}
