// DescribeQuorum (key 55), versions 0–2 (KIP-595, KIP-836): the metadata quorum as its leader sees
// it — leader, epoch, high watermark, and each voter's and observer's log end offset and last
// fetch / caught-up times. Only the Raft leader can answer; on the controller listener another
// node answers NOT_LEADER_OR_FOLLOWER, on the client listener a broker asks the leader (as
// Kafka's brokers forward DescribeQuorum to the controller). Ticks of the core become wall-clock
// ms here. Not implemented: directory ids and the v2 `nodes` endpoints (left empty).
import { defineHandler, type RequestContext } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { NULL_UUID } from '../../protocol/reader.ts';
import type { DescribeQuorumResponse } from '../../protocol/generated/describe-quorum-response.ts';
import type { ReplicaDescription } from '../../raft/leader.ts';
import { METADATA_TOPIC } from '../../raft/driver/wire.ts';
import { FORWARD_CHANNEL } from '../controller-forwarder.ts';

function partitionError(errorCode: number, leaderId: number, leaderEpoch: number, message: string): DescribeQuorumResponse {
  return {
    errorCode: ErrorCode.NONE, errorMessage: null, nodes: [],
    topics: [{ topicName: METADATA_TOPIC, partitions: [{
      partitionIndex: 0, errorCode, errorMessage: message, leaderId, leaderEpoch, highWatermark: -1n, currentVoters: [], observers: [],
    }] }],
  };
}

/** The leader's answer, or NOT_LEADER_OR_FOLLOWER from any other node. */
export async function describeQuorumHere(ctx: RequestContext): Promise<DescribeQuorumResponse> {
  const driver = ctx.broker.cluster.driver;
  const { d, now, leaderId, epoch } = await driver.inspect(() => ({
    d: driver.node.describeQuorum(),
    now: driver.node.now,
    leaderId: driver.node.leaderId ?? -1,
    epoch: driver.node.epoch,
  }));
  if (d === null) return partitionError(ErrorCode.NOT_LEADER_OR_FOLLOWER, leaderId, epoch, 'This node does not lead the metadata quorum.');
  const wall = Date.now();
  const ms = (tick: number) => BigInt(tick < 0 ? -1 : Math.round(wall - (now - tick) * driver.tickMs));
  const replica = (r: ReplicaDescription) => ({
    replicaId: r.replicaId, replicaDirectoryId: NULL_UUID, logEndOffset: BigInt(r.logEndOffset),
    lastFetchTimestamp: ms(r.lastFetchTick), lastCaughtUpTimestamp: ms(r.lastCaughtUpTick),
  });
  return {
    errorCode: ErrorCode.NONE, errorMessage: null, nodes: [],
    topics: [{ topicName: METADATA_TOPIC, partitions: [{
      partitionIndex: 0, errorCode: ErrorCode.NONE, errorMessage: null, leaderId: d.leaderId, leaderEpoch: d.leaderEpoch,
      highWatermark: BigInt(d.highWatermark), currentVoters: d.currentVoters.map(replica), observers: d.observers.map(replica),
    }] }],
  };
}

/** On the controller listener: answered by this node only. */
export const describeQuorumLocal = defineHandler(55, 0, 2, (_req, ctx) => describeQuorumHere(ctx));

/** On the client listener: a broker that does not lead the quorum asks the leader. */
export default defineHandler(55, 0, 2, async (req, ctx) => {
  const cluster = ctx.broker.cluster;
  const here = await describeQuorumHere(ctx);
  const leader = cluster.activeControllerId();
  if (here.topics[0].partitions[0].errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER || leader < 0 || leader === cluster.nodeId) return here;
  try {
    return await cluster.peers.send(leader, FORWARD_CHANNEL, 55, ctx.apiVersion, req, cluster.requestTimeoutMs);
  } catch {
    return here;
  }
});
