// OffsetFetch (key 9), versions 0–9. v0–v7 one group (null topics = all committed, v2+), v8+ a
// batch of groups (KIP-709), v9 KIP-848 member id and epoch. A group or partition with no commit
// is answered with offset -1 and no error. v0–v1 have no top-level error: a group error goes on
// every partition. require_stable (v7+, KIP-447; one flag for the whole request, also in v8+):
// a partition with a pending transactional commit gets UNSTABLE_OFFSET_COMMIT (88, retriable) as
// its own error, offset -1; the group/top-level error stays NONE (as Kafka 3.9).
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import type { OffsetFetchResponse, OffsetFetchResponseTopic } from '../../protocol/generated/offset-fetch-response.ts';

export default defineHandler(9, 0, 9, async (req, ctx): Promise<OffsetFetchResponse> => {
  const groups = ctx.broker.groups;
  const requireStable = ctx.apiVersion >= 7 && req.requireStable;
  if (ctx.apiVersion >= 8) {
    return {
      throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics: [],
      groups: await Promise.all(req.groups.map((g) => groups.fetchOffsets(g.groupId, g.topics, { memberId: g.memberId, memberEpoch: g.memberEpoch, requireStable }))),
    };
  }
  const g = await groups.fetchOffsets(req.groupId, req.topics, { requireStable });
  let topics: OffsetFetchResponseTopic[] = g.topics;
  if (g.errorCode !== ErrorCode.NONE && ctx.apiVersion < 2) {
    topics = (req.topics ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: g.errorCode })),
    }));
  }
  return { throttleTimeMs: 0, errorCode: g.errorCode, topics, groups: [] };
});
