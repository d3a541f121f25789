// AddOffsetsToTxn (key 25), versions 0–4. Adds the group's __consumer_offsets partition to the
// transaction, so its TxnOffsetCommits get the transaction's marker (KIP-98). An unknown producer
// id gets INVALID_PRODUCER_ID_MAPPING (librdkafka relies on it); v2+ understand PRODUCER_FENCED,
// v0–1 get INVALID_PRODUCER_EPOCH for it.
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';

export default defineHandler(25, 0, 4, async (req, ctx) => {
  let errorCode = await ctx.broker.txn.coordinator.addOffsets(req.transactionalId, req.producerId, req.producerEpoch, req.groupId);
  if (errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
  return { throttleTimeMs: 0, errorCode };
});
