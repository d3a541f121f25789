// The messages between quorum members, one per KRaft RPC, with the fields of Kafka 3.9's schemas
// for the single metadata partition (__cluster_metadata-0) flattened: the network binding maps
// each onto the generated codec (src/protocol/generated/vote-request.ts, ...), putting the
// partition-level fields in Topics[0].Partitions[0] and `correlationId` in the request header.
// Leader ids use Kafka's -1 for "unknown". Top-level and partition error codes are folded into
// one `errorCode` (Kafka error codes, src/protocol/errors.ts).
//
// Not in the 3.9 schemas: VoteRequest.preVote is KIP-996's PreVote (VoteRequest v2, Kafka 4.0);
// FetchRequest.maxWaitTicks is MaxWaitMs divided by the tick length. Fetch carries entries where
// Kafka carries record batches; the binding encodes each entry as one batch.

import type { Entry, NodeId, SnapshotId } from './types.ts';

export const NO_LEADER = -1;

/** Vote (API key 52). Sent by a prospective (preVote) or candidate voter to every other voter. */
export interface VoteRequest {
  type: 'VoteRequest';
  /** For a pre-vote: the epoch the sender would campaign in (its epoch + 1); it is not bumped. */
  candidateEpoch: number;
  candidateId: NodeId;
  lastOffsetEpoch: number;
  /** The candidate's log end offset. */
  lastOffset: number;
  preVote: boolean;
}

export interface VoteResponse {
  type: 'VoteResponse';
  errorCode: number;
  leaderId: number;
  leaderEpoch: number;
  voteGranted: boolean;
}

/** BeginQuorumEpoch (API key 53): a new leader announces itself to the voters. */
export interface BeginQuorumEpochRequest {
  type: 'BeginQuorumEpochRequest';
  leaderId: NodeId;
  leaderEpoch: number;
}

export interface BeginQuorumEpochResponse {
  type: 'BeginQuorumEpochResponse';
  errorCode: number;
  leaderId: number;
  leaderEpoch: number;
}

/** EndQuorumEpoch (API key 54): a leader resigns; successors ordered by how caught up they are. */
export interface EndQuorumEpochRequest {
  type: 'EndQuorumEpochRequest';
  leaderId: NodeId;
  leaderEpoch: number;
  preferredSuccessors: NodeId[];
}

export interface EndQuorumEpochResponse {
  type: 'EndQuorumEpochResponse';
  errorCode: number;
  leaderId: number;
  leaderEpoch: number;
}

/** Fetch (API key 1) on the metadata partition: followers and observers pull from the leader. */
export interface FetchRequest {
  type: 'FetchRequest';
  replicaId: NodeId;
  currentLeaderEpoch: number;
  fetchOffset: number;
  /** Epoch of the entry at fetchOffset - 1 (of the snapshot when the log is empty; 0 if none). */
  lastFetchedEpoch: number;
  maxWaitTicks: number;
}

export interface FetchResponse {
  type: 'FetchResponse';
  errorCode: number;
  leaderId: number;
  leaderEpoch: number;
  highWatermark: number;
  entries: Entry[];
  /** KIP-595: the fetch position is not on the leader's log; truncate and fetch again. */
  divergingEpoch: { epoch: number; endOffset: number } | null;
  /** KIP-630: the fetch position is below the leader's log start; fetch this snapshot. */
  snapshotId: SnapshotId | null;
}

/** FetchSnapshot (API key 59, KIP-630): one chunk of a snapshot, from a byte position. */
export interface FetchSnapshotRequest {
  type: 'FetchSnapshotRequest';
  replicaId: NodeId;
  currentLeaderEpoch: number;
  snapshotId: SnapshotId;
  position: number;
  maxBytes: number;
}

export interface FetchSnapshotResponse {
  type: 'FetchSnapshotResponse';
  errorCode: number;
  leaderId: number;
  leaderEpoch: number;
  snapshotId: SnapshotId;
  size: number;
  position: number;
  bytes: Uint8Array;
}

export type RequestBody =
  | VoteRequest
  | BeginQuorumEpochRequest
  | EndQuorumEpochRequest
  | FetchRequest
  | FetchSnapshotRequest;

export type ResponseBody =
  | VoteResponse
  | BeginQuorumEpochResponse
  | EndQuorumEpochResponse
  | FetchResponse
  | FetchSnapshotResponse;

export type MessageBody = RequestBody | ResponseBody;

/** A response carries the correlation id of its request. */
export interface Message {
  from: NodeId;
  to: NodeId;
  correlationId: number;
  body: MessageBody;
}

export function isRequest(body: MessageBody): body is RequestBody {
  return body.type.endsWith('Request');
}
