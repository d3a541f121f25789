// DescribeProducers (key 61), version 0 (KIP-664): the active producers of each partition as its
// producer state holds them — id, epoch, last sequence and timestamp, coordinator epoch, and the
// first offset of the open transaction (-1 when none).
import { defineHandler } from '../handler.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ProducerStates } from '../../txn/producer-states.ts';

export default defineHandler(61, 0, 0, (req, ctx) => {
  const broker = ctx.broker;
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => {
        const { errorCode, log } = broker.leaderLog(t.name, p);
        if (log === null) return { partitionIndex: p, errorCode, errorMessage: null, activeProducers: [] };
        const state = broker.txn.producers.peek(log);
        // A client partition whose state is being rebuilt: ask again (internal topics keep none).
        // An empty log (created since start-up, nothing written yet) simply has no producers.
        if (state === null && ProducerStates.tracks(log) && log.logEndOffset > log.logStartOffset) return { partitionIndex: p, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, errorMessage: null, activeProducers: [] };
        return {
          partitionIndex: p,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          activeProducers: [...(state?.producers.values() ?? [])].map((e) => ({
            producerId: e.producerId,
            producerEpoch: e.epoch,
            lastSequence: e.batches.length === 0 ? -1 : e.batches[e.batches.length - 1].lastSeq,
            lastTimestamp: BigInt(e.lastTimestamp),
            coordinatorEpoch: e.coordinatorEpoch,
            currentTxnStartOffset: BigInt(e.txnFirstOffset),
          })),
        };
      }),
    })),
  };
});
