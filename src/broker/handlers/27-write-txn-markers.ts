// WriteTxnMarkers (key 27), versions 0–1 (v1 flexible). Inter-broker: a transaction coordinator
// asks this broker, as leader, to append COMMIT/ABORT markers (KIP-98) for one or more producers.
// Client partitions get a control batch through the partition's producer state; __consumer_offsets
// partitions are completed by the group coordinator (pending transactional offsets become visible
// or are dropped). Answered per partition once durable: NOT_LEADER_OR_FOLLOWER when this node does
// not lead it (the coordinator refreshes and retries), UNKNOWN_TOPIC_OR_PARTITION,
// TRANSACTION_COORDINATOR_FENCED for a coordinator older than one already seen, KAFKA_STORAGE_ERROR.
// Kafka advertises it on the broker listener only (inter-broker traffic uses it), as here.
// Not yet: CLUSTER_ACTION authorization (there are no ACLs on this path).
import { defineHandler } from '../handler.ts';

export default defineHandler(27, 0, 1, async (req, ctx) => {
  const txn = ctx.broker.txn;
  const markers = await Promise.all(req.markers.map(async (m) => {
    const fields = { producerId: m.producerId, producerEpoch: m.producerEpoch, commit: m.transactionResult, coordinatorEpoch: m.coordinatorEpoch };
    const topics = await Promise.all(m.topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(t.partitionIndexes.map(async (p) => ({ partitionIndex: p, errorCode: await txn.appendMarker(t.name, p, fields) }))),
    })));
    return { producerId: m.producerId, topics };
  }));
  return { markers };
});
