// InitProducerId (key 22), versions 0–5.
// A null transactional id: a fresh producer id at epoch 0 (idempotent producer). A transactional id:
// its producer id with the epoch bumped, after aborting (and so fencing) a transaction the previous
// producer left open. v3+ (KIP-360) may carry the caller's current id/epoch to bump it after an
// error instead of starting over; v4+ understand PRODUCER_FENCED (KIP-588), older versions get
// INVALID_PRODUCER_EPOCH for it. v5 (KIP-890 TRANSACTION_ABORTABLE) changes nothing here.
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';

export default defineHandler(22, 0, 5, async (req, ctx) => {
  const v = ctx.apiVersion;
  const pid = v >= 3 ? req.producerId : -1n;
  const epoch = v >= 3 ? req.producerEpoch : -1;
  const answer = (errorCode: number, producerId = -1n, producerEpoch = -1) => ({ throttleTimeMs: 0, errorCode, producerId, producerEpoch });
  // Kafka: both or neither of producer id and epoch.
  if ((pid === -1n) !== (epoch === -1)) return answer(ErrorCode.INVALID_REQUEST);
  const a = await ctx.broker.txn.initProducerId(req.transactionalId, req.transactionTimeoutMs, pid === -1n ? null : { producerId: pid, epoch });
  const errorCode = a.errorCode === ErrorCode.PRODUCER_FENCED && v < 4 ? ErrorCode.INVALID_PRODUCER_EPOCH : a.errorCode;
  return answer(errorCode, a.producerId, a.producerEpoch);
});
