// OffsetDelete (key 47), version 0 (KIP-496): deletes committed offsets of topics the group does
// not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC for those it does), with their pending
// transactional commits (as Kafka's OffsetMetadataManager; a later COMMIT marker restores nothing).
import { defineHandler } from '../handler.ts';

export default defineHandler(47, 0, 0, (req, ctx) => ctx.broker.groups.deleteOffsets(req));
