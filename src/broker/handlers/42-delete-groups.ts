// DeleteGroups (key 42), versions 0–2. Only groups without members (NON_EMPTY_GROUP otherwise);
// their committed offsets go with them, and their pending transactional ones (a later COMMIT
// marker restores nothing). Unknown groups: GROUP_ID_NOT_FOUND.
import { defineHandler } from '../handler.ts';

export default defineHandler(42, 0, 2, async (req, ctx) => ({
  throttleTimeMs: 0,
  results: await Promise.all(req.groupsNames.map(async (groupId) => ({ groupId, errorCode: await ctx.broker.groups.deleteGroup(groupId) }))),
}));
