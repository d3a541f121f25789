// Transaction markers (KIP-98): once PrepareCommit/PrepareAbort is durable, a COMMIT or ABORT
// control batch goes to every partition of the transaction, with the producer's id and epoch and
// the coordinator epoch. In a client partition the marker ends the producer's open transaction (the
// LSO moves past it; an abort enters the aborted index). In a __consumer_offsets partition it
// makes the transaction's offset commits visible or drops them, which the group coordinator does.
//
// The coordinator appends the markers of partitions it leads itself and sends WriteTxnMarkers
// (key 27) to the current leader of every other one, one request per leader; that leader appends
// them the same way (appendMarkerLocally). Every marker also ends the partition's cached KIP-890
// verification of that producer (`onMarker`).
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import type { WriteTxnMarkersRequest } from '../protocol/generated/write-txn-markers-request.ts';
import type { WriteTxnMarkersResponse } from '../protocol/generated/write-txn-markers-response.ts';
import type { ProducerStates } from './producer-states.ts';
import { splitTp } from './txn-metadata.ts';

export const CONSUMER_OFFSETS = '__consumer_offsets';

/** WriteTxnMarkers version the coordinator sends (v1: flexible, KIP-482). */
export const WRITE_TXN_MARKERS_VERSION = 1;

export interface MarkerFields {
  producerId: bigint;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
}

/** What a partition leader needs to append a marker (the Broker and the group coordinator provide it). */
export interface LocalMarkerHost {
  leaderLog(topic: string, partition: number): { errorCode: number; log: PartitionLog | null; leaderEpoch: number };
  readonly fsyncAcksAll: boolean;
  /** The group coordinator writes markers into __consumer_offsets itself; rejects with a KafkaError. */
  completeGroupTransaction(offsetsPartition: number, producerId: bigint, producerEpoch: number, commit: boolean, coordinatorEpoch: number): Promise<void>;
  /** Called once a marker for the producer is appended to the partition. */
  onMarker?(topic: string, partition: number, producerId: bigint): void;
}

/**
 * Appends one marker to a partition this node leads and resolves with its error code once durable:
 * NOT_LEADER_OR_FOLLOWER / UNKNOWN_TOPIC_OR_PARTITION when it is not led here, NOT_LEADER_OR_FOLLOWER
 * while its producer state loads (retriable), TRANSACTION_COORDINATOR_FENCED for a marker from a
 * coordinator older than the last one seen for the producer (Kafka's ProducerAppendInfo check),
 * KAFKA_STORAGE_ERROR when the write fails.
 */
export async function appendMarkerLocally(host: LocalMarkerHost, producers: ProducerStates, topic: string, partition: number, m: MarkerFields): Promise<number> {
  if (topic === CONSUMER_OFFSETS) {
    try {
      await host.completeGroupTransaction(partition, m.producerId, m.producerEpoch, m.commit, m.coordinatorEpoch);
    } catch (err) {
      const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
      return code === ErrorCode.NOT_COORDINATOR ? ErrorCode.NOT_LEADER_OR_FOLLOWER : code;
    }
    host.onMarker?.(topic, partition, m.producerId);
    return ErrorCode.NONE;
  }
  const target = host.leaderLog(topic, partition);
  if (target.log === null) return target.errorCode === ErrorCode.NONE ? ErrorCode.NOT_LEADER_OR_FOLLOWER : target.errorCode;
  const seen = producers.peek(target.log)?.producers.get(m.producerId)?.coordinatorEpoch ?? -1;
  if (m.coordinatorEpoch < seen) return ErrorCode.TRANSACTION_COORDINATOR_FENCED;
  let done: Promise<void>;
  try {
    done = producers.appendMarker(target.log, { ...m, leaderEpoch: target.leaderEpoch, sync: host.fsyncAcksAll });
  } catch {
    return ErrorCode.KAFKA_STORAGE_ERROR;
  }
  host.onMarker?.(topic, partition, m.producerId);
  return done.then(() => ErrorCode.NONE, (err: unknown) => {
    // appendMarker rejects at once while the producer state is (re)built.
    return /loading/.test((err as Error)?.message ?? '') ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.KAFKA_STORAGE_ERROR;
  });
}

/** Where the markers of one transaction go (the coordinator's TxnNetwork provides it). */
export interface MarkerRouting {
  readonly nodeId: number;
  /** The partition's leader in this node's metadata image: null when the partition does not exist, -1 when it has no leader. */
  leaderOf(topic: string, partition: number): number | null;
  appendLocal(topic: string, partition: number, m: MarkerFields): Promise<number>;
  sendMarkers(brokerId: number, request: WriteTxnMarkersRequest): Promise<WriteTxnMarkersResponse>;
}

export interface MarkerSet extends MarkerFields {
  partitions: Iterable<string>;
}

/**
 * Writes the markers and resolves once every leader has them durable. A partition whose topic was
 * deleted is skipped (Kafka does the same); any other failure rejects with a KafkaError, and the
 * caller retries the whole set (a repeated marker for a transaction already ended changes nothing
 * but the log).
 */
export async function writeMarkers(routing: MarkerRouting, m: MarkerSet): Promise<void> {
  const fields: MarkerFields = { producerId: m.producerId, producerEpoch: m.producerEpoch, commit: m.commit, coordinatorEpoch: m.coordinatorEpoch };
  const waits: Promise<void>[] = [];
  const remote = new Map<number, Map<string, number[]>>();
  const check = (what: string) => (code: number) => {
    if (code !== ErrorCode.NONE) throw new KafkaError(code, `marker for ${what} not written (${code})`);
  };
  for (const key of m.partitions) {
    const { topic, partition } = splitTp(key);
    const leader = routing.leaderOf(topic, partition);
    if (leader === null) continue;
    if (leader < 0) {
      waits.push(Promise.reject(new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition} has no leader`)));
    } else if (leader === routing.nodeId) {
      waits.push(routing.appendLocal(topic, partition, fields).then(check(`${topic}-${partition}`)));
    } else {
      let topics = remote.get(leader);
      if (topics === undefined) remote.set(leader, topics = new Map());
      let parts = topics.get(topic);
      if (parts === undefined) topics.set(topic, parts = []);
      parts.push(partition);
    }
  }
  for (const [brokerId, topics] of remote) {
    const request: WriteTxnMarkersRequest = {
      markers: [{
        producerId: fields.producerId, producerEpoch: fields.producerEpoch, transactionResult: fields.commit, coordinatorEpoch: fields.coordinatorEpoch,
        topics: [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
      }],
    };
    waits.push(routing.sendMarkers(brokerId, request).then((res) => {
      for (const [name, parts] of topics) {
        for (const p of parts) {
          const r = res.markers.find((x) => x.producerId === fields.producerId)?.topics.find((t) => t.name === name)?.partitions.find((x) => x.partitionIndex === p);
          check(`${name}-${p} on broker ${brokerId}`)(r?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR);
        }
      }
    }));
  }
  const results = await Promise.allSettled(waits);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}
