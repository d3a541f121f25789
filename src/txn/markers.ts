// Transaction markers (KIP-98): once PrepareCommit/PrepareAbort is durable, a COMMIT or ABORT
// control batch goes to every partition of the transaction, with the producer's id and epoch and
// the coordinator epoch. In a client partition the marker ends the producer's open transaction (the
// LSO moves past it; an abort enters the aborted index). In a __consumer_offsets partition it
// makes the transaction's offset commits visible or drops them, which the group coordinator does.
// Kafka sends WriteTxnMarkers to each partition leader; on one node they are local appends.
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import type { ProducerStates } from './producer-states.ts';
import { splitTp } from './txn-metadata.ts';

export const CONSUMER_OFFSETS = '__consumer_offsets';

export interface MarkerHost {
  leaderLog(topic: string, partition: number): { errorCode: number; log: PartitionLog | null; leaderEpoch: number };
  readonly fsyncAcksAll: boolean;
  /** The group coordinator writes markers into __consumer_offsets itself. */
  completeGroupTransaction(offsetsPartition: number, producerId: bigint, producerEpoch: number, commit: boolean, coordinatorEpoch: number): Promise<void>;
}

export interface MarkerSet {
  producerId: bigint;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  partitions: Iterable<string>;
}

/**
 * Writes the markers and resolves once all are durable. A partition whose topic was deleted is
 * skipped (Kafka does the same); any other failure rejects, and the caller retries the whole set
 * (a repeated marker for a transaction already ended changes nothing but the log).
 */
export async function writeMarkers(host: MarkerHost, producers: ProducerStates, m: MarkerSet): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const key of m.partitions) {
    const { topic, partition } = splitTp(key);
    if (topic === CONSUMER_OFFSETS) {
      waits.push(host.completeGroupTransaction(partition, m.producerId, m.producerEpoch, m.commit, m.coordinatorEpoch));
      continue;
    }
    const target = host.leaderLog(topic, partition);
    if (target.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) continue;
    if (target.log === null) {
      waits.push(Promise.reject(new KafkaError(target.errorCode, `no local leader for ${topic}-${partition}`)));
      continue;
    }
    waits.push(producers.appendMarker(target.log, {
      producerId: m.producerId,
      producerEpoch: m.producerEpoch,
      commit: m.commit,
      coordinatorEpoch: m.coordinatorEpoch,
      leaderEpoch: target.leaderEpoch,
      sync: host.fsyncAcksAll,
    }));
  }
  const results = await Promise.allSettled(waits);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}
