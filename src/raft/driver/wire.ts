// The core's messages (src/raft/messages.ts) as KRaft RPCs on the controller listener, with the
// generated codecs. The single partition is __cluster_metadata-0; partition-level fields sit in
// Topics[0].Partitions[0]. Top-level and partition error codes fold into one code (the top-level
// one wins). Durations travel in ms and are ticks inside the core.
//
// Versions: Vote v1, BeginQuorumEpoch v1, EndQuorumEpoch v0, Fetch v15 (ReplicaState, topic id),
// FetchSnapshot v0. Kafka 3.9's Vote has no PreVote field (KIP-996 adds it in v2, Kafka 4.0):
// Brook marks a pre-vote by the request header's client id (PRE_VOTE_CLIENT_ID), which only
// Brook controllers send.

import { ErrorCode } from '../../protocol/errors.ts';
import { NULL_UUID } from '../../protocol/reader.ts';
import type { ApiTypes } from '../../protocol/generated/api-index.ts';
import type {
  BeginQuorumEpochRequest, BeginQuorumEpochResponse, EndQuorumEpochRequest, EndQuorumEpochResponse, FetchRequest,
  FetchResponse, FetchSnapshotRequest, FetchSnapshotResponse, RequestBody, ResponseBody, VoteRequest, VoteResponse,
} from '../messages.ts';
import { decodeFetchedEntries, encodeEntries } from './entry-codec.ts';

export const METADATA_TOPIC = '__cluster_metadata';
/** Kafka's Uuid.METADATA_TOPIC_ID (0, 1), the topic id of __cluster_metadata. */
export const METADATA_TOPIC_ID = '00000000-0000-0000-0000-000000000001';
export const PRE_VOTE_CLIENT_ID = 'brook-raft-prevote';

export const RAFT_VERSIONS = { vote: 1, beginQuorumEpoch: 1, endQuorumEpoch: 0, fetch: 15, fetchSnapshot: 0 } as const;

/** An outgoing request: which API, which version, the body. */
export type RaftRpc =
  | { apiKey: 52; version: number; body: ApiTypes[52]['request']; preVote: boolean }
  | { apiKey: 53; version: number; body: ApiTypes[53]['request'] }
  | { apiKey: 54; version: number; body: ApiTypes[54]['request'] }
  | { apiKey: 1; version: number; body: ApiTypes[1]['request'] }
  | { apiKey: 59; version: number; body: ApiTypes[59]['request'] };

const big = (n: number) => BigInt(n);

export function requestToRpc(to: number, body: RequestBody, clusterId: string, tickMs: number): RaftRpc {
  switch (body.type) {
    case 'VoteRequest':
      return {
        apiKey: 52, version: RAFT_VERSIONS.vote, preVote: body.preVote,
        body: {
          clusterId, voterId: to,
          topics: [{ topicName: METADATA_TOPIC, partitions: [{
            partitionIndex: 0, candidateEpoch: body.candidateEpoch, candidateId: body.candidateId,
            candidateDirectoryId: NULL_UUID, voterDirectoryId: NULL_UUID,
            lastOffsetEpoch: body.lastOffsetEpoch, lastOffset: big(body.lastOffset),
          }] }],
        },
      };
    case 'BeginQuorumEpochRequest':
      return {
        apiKey: 53, version: RAFT_VERSIONS.beginQuorumEpoch,
        body: {
          clusterId, voterId: to, leaderEndpoints: [],
          topics: [{ topicName: METADATA_TOPIC, partitions: [{
            partitionIndex: 0, voterDirectoryId: NULL_UUID, leaderId: body.leaderId, leaderEpoch: body.leaderEpoch,
          }] }],
        },
      };
    case 'EndQuorumEpochRequest':
      return {
        apiKey: 54, version: RAFT_VERSIONS.endQuorumEpoch,
        body: {
          clusterId, leaderEndpoints: [],
          topics: [{ topicName: METADATA_TOPIC, partitions: [{
            partitionIndex: 0, leaderId: body.leaderId, leaderEpoch: body.leaderEpoch,
            preferredSuccessors: body.preferredSuccessors.slice(), preferredCandidates: [],
          }] }],
        },
      };
    case 'FetchRequest':
      return {
        apiKey: 1, version: RAFT_VERSIONS.fetch,
        body: {
          clusterId, replicaId: -1, replicaState: { replicaId: body.replicaId, replicaEpoch: -1n },
          maxWaitMs: body.maxWaitTicks * tickMs, minBytes: 0, maxBytes: 8 * 1024 * 1024, isolationLevel: 0,
          sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '',
          topics: [{ topic: METADATA_TOPIC, topicId: METADATA_TOPIC_ID, partitions: [{
            partition: 0, currentLeaderEpoch: body.currentLeaderEpoch, fetchOffset: big(body.fetchOffset),
            lastFetchedEpoch: body.lastFetchedEpoch, logStartOffset: -1n, partitionMaxBytes: 8 * 1024 * 1024,
            replicaDirectoryId: NULL_UUID,
          }] }],
        },
      };
    case 'FetchSnapshotRequest':
      return {
        apiKey: 59, version: RAFT_VERSIONS.fetchSnapshot,
        body: {
          clusterId, replicaId: body.replicaId, maxBytes: body.maxBytes,
          topics: [{ name: METADATA_TOPIC, partitions: [{
            partition: 0, currentLeaderEpoch: body.currentLeaderEpoch,
            snapshotId: { endOffset: big(body.snapshotId.endOffset), epoch: body.snapshotId.epoch },
            position: big(body.position), replicaDirectoryId: NULL_UUID,
          }] }],
        },
      };
  }
}

const fold = (top: number, partition: number | undefined) => (top !== ErrorCode.NONE ? top : (partition ?? ErrorCode.UNKNOWN_SERVER_ERROR));

/** The core's view of an RPC answer (throws on a malformed one: the driver drops it). */
export function responseFromRpc(apiKey: number, r: any): ResponseBody {
  switch (apiKey) {
    case 52: {
      const p = (r as ApiTypes[52]['response']).topics[0]?.partitions[0];
      return {
        type: 'VoteResponse', errorCode: fold(r.errorCode, p?.errorCode),
        leaderId: p?.leaderId ?? -1, leaderEpoch: p?.leaderEpoch ?? -1, voteGranted: p?.voteGranted ?? false,
      } satisfies VoteResponse;
    }
    case 53:
    case 54: {
      const p = (r as ApiTypes[53]['response']).topics[0]?.partitions[0];
      const common = { errorCode: fold(r.errorCode, p?.errorCode), leaderId: p?.leaderId ?? -1, leaderEpoch: p?.leaderEpoch ?? -1 };
      return apiKey === 53
        ? { type: 'BeginQuorumEpochResponse', ...common } satisfies BeginQuorumEpochResponse
        : { type: 'EndQuorumEpochResponse', ...common } satisfies EndQuorumEpochResponse;
    }
    case 1: {
      const res = r as ApiTypes[1]['response'];
      const p = res.responses[0]?.partitions[0];
      const errorCode = fold(res.errorCode, p?.errorCode);
      return {
        type: 'FetchResponse', errorCode,
        leaderId: p?.currentLeader.leaderId ?? -1,
        leaderEpoch: p?.currentLeader.leaderEpoch ?? -1,
        highWatermark: p === undefined ? -1 : Number(p.highWatermark),
        entries: errorCode === ErrorCode.NONE && p !== undefined ? decodeFetchedEntries(p.records) : [],
        divergingEpoch: p !== undefined && p.divergingEpoch.epoch >= 0
          ? { epoch: p.divergingEpoch.epoch, endOffset: Number(p.divergingEpoch.endOffset) } : null,
        snapshotId: p !== undefined && p.snapshotId.endOffset >= 0n
          ? { endOffset: Number(p.snapshotId.endOffset), epoch: p.snapshotId.epoch } : null,
      } satisfies FetchResponse;
    }
    case 59: {
      const res = r as ApiTypes[59]['response'];
      const p = res.topics[0]?.partitions[0];
      return {
        type: 'FetchSnapshotResponse', errorCode: fold(res.errorCode, p?.errorCode),
        leaderId: p?.currentLeader.leaderId ?? -1, leaderEpoch: p?.currentLeader.leaderEpoch ?? -1,
        snapshotId: { endOffset: Number(p?.snapshotId.endOffset ?? -1n), epoch: p?.snapshotId.epoch ?? -1 },
        size: Number(p?.size ?? -1n), position: Number(p?.position ?? -1n), bytes: p?.unalignedRecords ?? Buffer.alloc(0),
      } satisfies FetchSnapshotResponse;
    }
  }
  throw new Error(`api ${apiKey} is not a Raft RPC`);
}

/** An incoming request's body and sender, or null when it is not about __cluster_metadata-0. */
export function requestFromRpc(apiKey: number, r: any, preVote: boolean, tickMs: number): { from: number; body: RequestBody } | null {
  switch (apiKey) {
    case 52: {
      const p = (r as ApiTypes[52]['request']).topics[0]?.partitions[0];
      if (p === undefined) return null;
      const body: VoteRequest = {
        type: 'VoteRequest', candidateEpoch: p.candidateEpoch, candidateId: p.candidateId,
        lastOffsetEpoch: p.lastOffsetEpoch, lastOffset: Number(p.lastOffset), preVote,
      };
      return { from: p.candidateId, body };
    }
    case 53: {
      const p = (r as ApiTypes[53]['request']).topics[0]?.partitions[0];
      if (p === undefined) return null;
      const body: BeginQuorumEpochRequest = { type: 'BeginQuorumEpochRequest', leaderId: p.leaderId, leaderEpoch: p.leaderEpoch };
      return { from: p.leaderId, body };
    }
    case 54: {
      const p = (r as ApiTypes[54]['request']).topics[0]?.partitions[0];
      if (p === undefined) return null;
      const successors = p.preferredSuccessors.length > 0 ? p.preferredSuccessors : p.preferredCandidates.map((c) => c.candidateId);
      const body: EndQuorumEpochRequest = {
        type: 'EndQuorumEpochRequest', leaderId: p.leaderId, leaderEpoch: p.leaderEpoch, preferredSuccessors: successors,
      };
      return { from: p.leaderId, body };
    }
    case 1: {
      const req = r as ApiTypes[1]['request'];
      const p = req.topics[0]?.partitions[0];
      if (p === undefined) return null;
      const replicaId = req.replicaId >= 0 ? req.replicaId : req.replicaState.replicaId;
      if (replicaId < 0) return null;
      const body: FetchRequest = {
        type: 'FetchRequest', replicaId, currentLeaderEpoch: p.currentLeaderEpoch, fetchOffset: Number(p.fetchOffset),
        lastFetchedEpoch: p.lastFetchedEpoch, maxWaitTicks: Math.max(0, Math.floor(req.maxWaitMs / tickMs)),
      };
      return { from: replicaId, body };
    }
    case 59: {
      const req = r as ApiTypes[59]['request'];
      const p = req.topics[0]?.partitions[0];
      if (p === undefined) return null;
      const body: FetchSnapshotRequest = {
        type: 'FetchSnapshotRequest', replicaId: req.replicaId, currentLeaderEpoch: p.currentLeaderEpoch,
        snapshotId: { endOffset: Number(p.snapshotId.endOffset), epoch: p.snapshotId.epoch },
        position: Number(p.position), maxBytes: req.maxBytes,
      };
      return { from: req.replicaId, body };
    }
  }
  return null;
}

/** The RPC answer for the core's response to an incoming request. */
export function responseToRpc(body: ResponseBody): any {
  switch (body.type) {
    case 'VoteResponse':
      return {
        errorCode: ErrorCode.NONE, nodeEndpoints: [],
        topics: [{ topicName: METADATA_TOPIC, partitions: [{
          partitionIndex: 0, errorCode: body.errorCode, leaderId: body.leaderId, leaderEpoch: body.leaderEpoch,
          voteGranted: body.voteGranted,
        }] }],
      } satisfies ApiTypes[52]['response'];
    case 'BeginQuorumEpochResponse':
    case 'EndQuorumEpochResponse':
      return {
        errorCode: ErrorCode.NONE, nodeEndpoints: [],
        topics: [{ topicName: METADATA_TOPIC, partitions: [{
          partitionIndex: 0, errorCode: body.errorCode, leaderId: body.leaderId, leaderEpoch: body.leaderEpoch,
        }] }],
      } satisfies ApiTypes[53]['response'];
    case 'FetchResponse':
      return {
        throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, nodeEndpoints: [],
        responses: [{ topic: METADATA_TOPIC, topicId: METADATA_TOPIC_ID, partitions: [{
          partitionIndex: 0, errorCode: body.errorCode, highWatermark: big(body.highWatermark), lastStableOffset: -1n,
          logStartOffset: -1n,
          divergingEpoch: body.divergingEpoch === null ? { epoch: -1, endOffset: -1n }
            : { epoch: body.divergingEpoch.epoch, endOffset: big(body.divergingEpoch.endOffset) },
          currentLeader: { leaderId: body.leaderId, leaderEpoch: body.leaderEpoch },
          snapshotId: body.snapshotId === null ? { endOffset: -1n, epoch: -1 }
            : { endOffset: big(body.snapshotId.endOffset), epoch: body.snapshotId.epoch },
          abortedTransactions: null, preferredReadReplica: -1,
          records: encodeEntries(body.entries),
        }] }],
      } satisfies ApiTypes[1]['response'];
    case 'FetchSnapshotResponse':
      return {
        throttleTimeMs: 0, errorCode: ErrorCode.NONE, nodeEndpoints: [],
        topics: [{ name: METADATA_TOPIC, partitions: [{
          index: 0, errorCode: body.errorCode,
          snapshotId: { endOffset: big(body.snapshotId.endOffset), epoch: body.snapshotId.epoch },
          currentLeader: { leaderId: body.leaderId, leaderEpoch: body.leaderEpoch },
          size: big(body.size), position: big(body.position), unalignedRecords: Buffer.from(body.bytes),
        }] }],
      } satisfies ApiTypes[59]['response'];
  }
}

/** An answer to a request the node could not take (wrong partition, cluster id, shutting down). */
export function errorResponseRpc(apiKey: number, errorCode: number): any {
  switch (apiKey) {
    case 52: return { errorCode, topics: [], nodeEndpoints: [] };
    case 53:
    case 54: return { errorCode, topics: [], nodeEndpoints: [] };
    case 1: return { throttleTimeMs: 0, errorCode, sessionId: 0, responses: [], nodeEndpoints: [] };
    case 59: return { throttleTimeMs: 0, errorCode, topics: [], nodeEndpoints: [] };
  }
  throw new Error(`api ${apiKey} is not a Raft RPC`);
}
