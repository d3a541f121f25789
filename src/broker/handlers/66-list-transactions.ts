// ListTransactions (key 66), versions 0–1 (KIP-664): the transactional ids this coordinator holds,
// filtered by state name and producer id (empty filters match all); v1 adds a minimum duration
// (KIP-994: transactions open for at least that long). Unknown state names are echoed back in
// unknownStateFilters; COORDINATOR_LOAD_IN_PROGRESS while a partition is still loading.
import { defineHandler } from '../handler.ts';
import { TXN_STATE_NAMES } from '../../txn/txn-metadata.ts';

export default defineHandler(66, 0, 1, (req, ctx) => {
  const { errorCode, transactionStates } = ctx.broker.txn.coordinator.list(
    new Set(req.stateFilters),
    new Set(req.producerIdFilters),
    ctx.apiVersion >= 1 ? Number(req.durationFilter) : -1,
  );
  return {
    throttleTimeMs: 0,
    errorCode,
    unknownStateFilters: req.stateFilters.filter((s) => !TXN_STATE_NAMES.includes(s)),
    transactionStates,
  };
});
