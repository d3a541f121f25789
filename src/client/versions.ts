// The API versions this client implements, and the negotiation against a broker's ApiVersions
// answer: for each API the highest version inside both ranges. The minimums are where the client
// stops understanding the broker: v2 record batches (KIP-98) need Produce ≥ 3 and Fetch ≥ 4; the
// other APIs are implemented from v0 so that old brokers and librdkafka's mock cluster (Metadata
// 0–2, FindCoordinator 0–2, JoinGroup 0–5) work.
import { ApiKey } from '../protocol/generated/api-index.ts';
import type { ApiVersion } from '../protocol/generated/api-versions-response.ts';

export type VersionRange = readonly [min: number, max: number];

export const CLIENT_API_VERSIONS: ReadonlyMap<number, VersionRange> = new Map<number, VersionRange>([
  [ApiKey.Produce, [3, 11]],
  // 13+ address topics by id (KIP-516); names are enough for this client.
  [ApiKey.Fetch, [4, 12]],
  [ApiKey.ListOffsets, [0, 9]],
  [ApiKey.Metadata, [0, 12]],
  [ApiKey.OffsetCommit, [2, 9]],
  [ApiKey.OffsetFetch, [1, 9]],
  [ApiKey.FindCoordinator, [0, 6]],
  [ApiKey.JoinGroup, [0, 9]],
  [ApiKey.Heartbeat, [0, 4]],
  [ApiKey.LeaveGroup, [0, 5]],
  [ApiKey.SyncGroup, [0, 5]],
  [ApiKey.DescribeGroups, [0, 5]],
  [ApiKey.ListGroups, [0, 5]],
  [ApiKey.ApiVersions, [0, 3]],
  [ApiKey.CreateTopics, [0, 7]],
  [ApiKey.DeleteTopics, [0, 6]],
  [ApiKey.DeleteRecords, [0, 2]],
  [ApiKey.InitProducerId, [0, 5]],
  [ApiKey.DescribeConfigs, [0, 4]],
  [ApiKey.AlterConfigs, [0, 2]],
  [ApiKey.DescribeLogDirs, [0, 4]],
  [ApiKey.CreatePartitions, [0, 3]],
  [ApiKey.DeleteGroups, [0, 2]],
  [ApiKey.IncrementalAlterConfigs, [0, 1]],
  [ApiKey.OffsetDelete, [0, 0]],
  [ApiKey.DescribeCluster, [0, 1]],
  [ApiKey.DescribeQuorum, [0, 2]],
  [ApiKey.DescribeProducers, [0, 0]],
  [ApiKey.DescribeTransactions, [0, 0]],
  [ApiKey.ListTransactions, [0, 1]],
  [ApiKey.ConsumerGroupDescribe, [0, 0]],
]);

/**
 * The version to use for each API both sides implement: min(client max, broker max), provided it
 * is not below either minimum. APIs without overlap are absent from the result.
 */
export function negotiateVersions(broker: readonly ApiVersion[], client: ReadonlyMap<number, VersionRange> = CLIENT_API_VERSIONS): Map<number, number> {
  const out = new Map<number, number>();
  for (const b of broker) {
    const mine = client.get(b.apiKey);
    if (mine === undefined) continue;
    const version = Math.min(mine[1], b.maxVersion);
    if (version >= mine[0] && version >= b.minVersion) out.set(b.apiKey, version);
  }
  return out;
}
