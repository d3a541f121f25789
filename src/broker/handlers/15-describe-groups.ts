// DescribeGroups (key 15), versions 0–5. A group that does not exist is answered with state Dead
// and no error (GROUP_ID_NOT_FOUND only from v6); v3+ may ask for authorized operations (no
// authorizer yet: all group operations); v4+ carries group.instance.id.
import { defineHandler } from '../handler.ts';

export default defineHandler(15, 0, 5, async (req, ctx) => ({
  throttleTimeMs: 0,
  groups: await Promise.all(req.groups.map((g) => ctx.broker.groups.describeGroup(g, ctx.apiVersion >= 3 && req.includeAuthorizedOperations))),
}));
