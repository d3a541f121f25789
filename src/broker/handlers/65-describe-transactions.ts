// DescribeTransactions (key 65), version 0 (KIP-664): per transactional id its state name, timeout,
// start time, producer id/epoch and partitions; TRANSACTIONAL_ID_NOT_FOUND for an unknown id.
import { defineHandler } from '../handler.ts';

export default defineHandler(65, 0, 0, async (req, ctx) => ({
  throttleTimeMs: 0,
  transactionStates: await Promise.all(req.transactionalIds.map((id) => ctx.broker.txn.coordinator.describe(id))),
}));
