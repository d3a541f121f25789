// OffsetFetch (key 9), versions 0–9. v0–v7 one group (null topics = all committed, v2+), v8+ a
// batch of groups (KIP-709), v9 KIP-848 member id and epoch. A group or partition with no commit
// is answered with offset -1 and no error. v0–v1 have no top-level error: a group error goes on
// every partition. require_stable (v7, KIP-447) never finds pending transactional offsets yet.
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import type { OffsetFetchResponse, OffsetFetchResponseTopic } from '../../protocol/generated/offset-fetch-response.ts';

export default defineHandler(9, 0, 9, async (req, ctx): Promise<OffsetFetchResponse> => {
  const groups = ctx.broker.groups;
  if (ctx.apiVersion >= 8) {
    return {
      throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics: [],
      groups: await Promise.all(req.groups.map((g) => groups.fetchOffsets(g.groupId, g.topics, g.memberId, g.memberEpoch))),
    };
  }
  const g = await groups.fetchOffsets(req.groupId, req.topics);
  let topics: OffsetFetchResponseTopic[] = g.topics;
  if (g.errorCode !== ErrorCode.NONE && ctx.apiVersion < 2) {
    topics = (req.topics ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: g.errorCode })),
    }));
  }
  return { throttleTimeMs: 0, errorCode: g.errorCode, topics, groups: [] };
});
