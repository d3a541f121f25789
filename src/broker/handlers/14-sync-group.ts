// SyncGroup (key 14), versions 0–5 (v3+ group.instance.id, v5 protocol type/name checked,
// KIP-559). Followers wait for the leader's assignment.
import { defineHandler } from '../handler.ts';
import { requestMeta } from '../../group/coordinator.ts';

export default defineHandler(14, 0, 5, (req, ctx) =>
  ctx.broker.groups.syncGroup(req, requestMeta(ctx.apiVersion, ctx.clientId, ctx.connection.remoteAddress)));
