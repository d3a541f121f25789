// TxnOffsetCommit (key 28), versions 0–4. Offsets committed inside a transaction: checked against
// the transaction (the producer's id and epoch, the group's partition added by AddOffsetsToTxn),
// then written by the group coordinator as pending commits that become visible with the COMMIT
// marker and vanish with ABORT. v2 adds the committed leader epoch; v3 the member id, generation and
// instance id, checked as OffsetCommit checks them (KIP-447). The append carries the producer's
// verification guard (KIP-890): INVALID_TXN_STATE when the transaction's marker reached the group's
// partition after the transaction was checked.
import { defineHandler } from '../handler.ts';

export default defineHandler(28, 0, 4, (req, ctx) => ctx.broker.txn.coordinator.txnOffsetCommit(req, ctx.apiVersion));
