// ConsumerGroupHeartbeat (key 68), version 0 (KIP-848): joins, heartbeats and leaves a consumer
// group whose assignment the coordinator computes (server-side "uniform" and "range" assignors).
import { defineHandler } from '../handler.ts';
import { requestMeta } from '../../group/coordinator.ts';

export default defineHandler(68, 0, 0, (req, ctx) =>
  ctx.broker.groups.consumerGroupHeartbeat(req, requestMeta(ctx.apiVersion, ctx.clientId, ctx.connection.remoteAddress)));
