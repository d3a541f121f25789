// EndTxn (key 26), versions 0–4. Commits or aborts the producer's transaction: PrepareCommit/
// PrepareAbort is made durable, the markers are written to every partition, then Complete*; the
// answer comes once that is done (or the markers are being retried: the decision is durable).
// Retrying an EndTxn of a completed transaction answers NONE. v2+ understand PRODUCER_FENCED,
// v0–1 get INVALID_PRODUCER_EPOCH. Not implemented: v5 (KIP-890 epoch bump per transaction).
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';

export default defineHandler(26, 0, 4, async (req, ctx) => {
  let errorCode = await ctx.broker.txn.coordinator.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed);
  if (errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
  return { throttleTimeMs: 0, errorCode };
});
