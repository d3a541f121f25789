// ListGroups (key 16), versions 0–5. v4+ filter by state (KIP-518), v5 by type ("classic",
// "consumer", KIP-848); both ignore case.
import { defineHandler } from '../handler.ts';

export default defineHandler(16, 0, 5, (req, ctx) => {
  const { errorCode, groups } = ctx.broker.groups.listGroups(
    ctx.apiVersion >= 4 ? req.statesFilter : [],
    ctx.apiVersion >= 5 ? req.typesFilter : [],
  );
  return { throttleTimeMs: 0, errorCode, groups };
});
