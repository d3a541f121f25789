// ConsumerGroupDescribe (key 69), version 0 (KIP-848). Groups that do not exist or are classic
// groups: GROUP_ID_NOT_FOUND.
import { defineHandler } from '../handler.ts';

export default defineHandler(69, 0, 0, async (req, ctx) => ({
  throttleTimeMs: 0,
  groups: await Promise.all(req.groupIds.map((g) => ctx.broker.groups.describeConsumerGroup(g, req.includeAuthorizedOperations))),
}));
