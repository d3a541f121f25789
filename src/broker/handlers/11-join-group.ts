// JoinGroup (key 11), versions 0–9. v4+ new members get MEMBER_ID_REQUIRED first (KIP-394),
// v5+ static membership (KIP-345), v7+ protocol type in the answer, v8+ a reason, v9 skipAssignment
// for a static leader that rejoins (KIP-814). The answer may wait for the rebalance.
import { defineHandler } from '../handler.ts';
import { requestMeta } from '../../group/coordinator.ts';

export default defineHandler(11, 0, 9, (req, ctx) =>
  ctx.broker.groups.joinGroup(req, requestMeta(ctx.apiVersion, ctx.clientId, ctx.connection.remoteAddress)));
