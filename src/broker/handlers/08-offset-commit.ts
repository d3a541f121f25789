// OffsetCommit (key 8), versions 0–9. v1 carries a commit timestamp, v2–v4 a retention time (an
// explicit expiry), v5 drops both (KIP-211), v6 the leader epoch (KIP-320), v7
// group.instance.id, v8 flexible, v9 KIP-848 member epochs. Version 10+ (topic ids) is not
// advertised. Generation -1 with no member id commits outside group management.
import { defineHandler } from '../handler.ts';
import { requestMeta } from '../../group/coordinator.ts';

export default defineHandler(8, 0, 9, (req, ctx) =>
  ctx.broker.groups.commitOffsets(req, requestMeta(ctx.apiVersion, ctx.clientId, ctx.connection.remoteAddress)));
