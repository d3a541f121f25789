// Heartbeat (key 12), versions 0–4 (v3+ group.instance.id, KIP-345; v4 flexible).
import { defineHandler } from '../handler.ts';

export default defineHandler(12, 0, 4, (req, ctx) => ctx.broker.groups.heartbeat(req));
