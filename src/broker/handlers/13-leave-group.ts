// LeaveGroup (key 13), versions 0–5. v3+ removes a batch of members, by member id or by
// group.instance.id, and echoes each with its error (KIP-345); v5 adds a reason (KIP-800).
import { defineHandler } from '../handler.ts';
import { requestMeta } from '../../group/coordinator.ts';

export default defineHandler(13, 0, 5, (req, ctx) =>
  ctx.broker.groups.leaveGroup(req, requestMeta(ctx.apiVersion, ctx.clientId, ctx.connection.remoteAddress)));
