// The KRaft RPCs on the controller listener (KIP-595, KIP-630): Vote (52), BeginQuorumEpoch (53),
// EndQuorumEpoch (54), Fetch (1) of __cluster_metadata-0 — a different handler from the client
// Fetch, which reads partition logs — and FetchSnapshot (59). Each request becomes a message to
// the Raft core (src/raft/driver/wire.ts) and is answered with the core's answer, which for a
// Fetch with nothing new may come only after the long-poll wait. A request naming another cluster
// id gets INCONSISTENT_CLUSTER_ID.
import { defineHandler, type ApiHandler, type RequestContext } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { errorResponseRpc, PRE_VOTE_CLIENT_ID, requestFromRpc, responseToRpc } from '../../raft/driver/wire.ts';

async function answer(apiKey: 52 | 53 | 54 | 1 | 59, req: any, ctx: RequestContext): Promise<any> {
  const cluster = ctx.broker.cluster;
  if (req.clusterId !== null && req.clusterId !== undefined && req.clusterId !== cluster.clusterId) {
    return errorResponseRpc(apiKey, ErrorCode.INCONSISTENT_CLUSTER_ID);
  }
  const parsed = requestFromRpc(apiKey, req, ctx.clientId === PRE_VOTE_CLIENT_ID, cluster.driver.tickMs);
  if (parsed === null) return errorResponseRpc(apiKey, ErrorCode.INVALID_REQUEST);
  const body = await cluster.driver.receive(parsed.from, parsed.body);
  if (body === null) return errorResponseRpc(apiKey, ErrorCode.REQUEST_TIMED_OUT);
  return responseToRpc(body);
}

export const RAFT_HANDLERS: readonly ApiHandler[] = [
  defineHandler(52, 0, 1, (req, ctx) => answer(52, req, ctx)),
  defineHandler(53, 0, 1, (req, ctx) => answer(53, req, ctx)),
  defineHandler(54, 0, 1, (req, ctx) => answer(54, req, ctx)),
  // v12+: lastFetchedEpoch and the KIP-595 tagged fields (divergingEpoch, currentLeader, snapshotId).
  defineHandler(1, 12, 17, (req, ctx) => answer(1, req, ctx)),
  defineHandler(59, 0, 1, (req, ctx) => answer(59, req, ctx)),
];
