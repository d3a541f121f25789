// KIP-890 part 1, the partition leader's side: before the first transactional batch of a producer
// is appended to a partition, the leader asks the transactional id's coordinator whether
// (transactionalId, producerId, epoch) has this partition in its ongoing transaction
// (AddPartitionsToTxn v4+ with verifyOnly). Without it a late or duplicated batch of an ended
// transaction would open a transaction in the partition that no marker ever closes (a "hanging
// transaction", which pins the LSO).
//
// A successful answer is cached per (partition, producerId, epoch) until the producer's next
// marker in the partition. Each verification holds a guard in that slot: a marker arriving while
// the question is in flight removes the guard, and the answer is then not trusted (Kafka's
// VerificationGuard), because the transaction it vouched for has just ended.
//
// Questions for one coordinator broker asked in the same turn of the event loop share one request
// (the v4 request is batched by transactional id, as Kafka's AddPartitionsToTxnManager does).
import { ErrorCode } from '../protocol/errors.ts';
import type { AddPartitionsToTxnRequest } from '../protocol/generated/add-partitions-to-txn-request.ts';
import type { AddPartitionsToTxnResponse } from '../protocol/generated/add-partitions-to-txn-response.ts';
import type { TxnVerifier } from './produce-check.ts';
import { splitTp, tpKey } from './txn-metadata.ts';

/** AddPartitionsToTxn version a leader sends for verification (v4: batched, KIP-890). */
export const VERIFY_VERSION = 4;

export interface VerifyHost {
  readonly nodeId: number;
  /** The node leading the id's __transaction_state partition: null when unknown, -1 when it has no leader. */
  coordinatorOf(transactionalId: string): number | null;
  /** The answer of this node's own coordinator (it leads the id's partition). */
  verifyLocally(transactionalId: string, producerId: bigint, epoch: number, topic: string, partition: number): number;
  /** AddPartitionsToTxn to another broker; rejects when it cannot be reached in time. */
  send(brokerId: number, request: AddPartitionsToTxnRequest): Promise<AddPartitionsToTxnResponse>;
  now(): number;
}

interface Slot {
  epoch: number;
  guard: object;
  verified: boolean;
  at: number;
}

interface Question {
  producerId: bigint;
  epoch: number;
  /** topic → partition → waiters */
  topics: Map<string, Map<number, ((code: number) => void)[]>>;
}

/**
 * The produce path's reading of the coordinator's answer (Kafka's AddPartitionsToTxnManager):
 * coordinator trouble becomes the retriable NOT_ENOUGH_REPLICAS, a fenced producer
 * INVALID_PRODUCER_EPOCH (the Produce versions we serve have no PRODUCER_FENCED); the rest
 * (INVALID_TXN_STATE, INVALID_PRODUCER_ID_MAPPING, ...) passes through.
 */
export function produceCodeOf(coordinatorCode: number): number {
  switch (coordinatorCode) {
    case ErrorCode.NOT_COORDINATOR:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.UNKNOWN_SERVER_ERROR:
    case ErrorCode.REQUEST_TIMED_OUT:
    case ErrorCode.NETWORK_EXCEPTION:
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    case ErrorCode.PRODUCER_FENCED:
      return ErrorCode.INVALID_PRODUCER_EPOCH;
    default:
      return coordinatorCode;
  }
}

/** How long a successful verification without a marker is kept (longer than any transaction may last). */
const SLOT_TTL_MS = 30 * 60_000;

export class TxnVerification {
  readonly #host: VerifyHost;
  /** tpKey → producerId → slot */
  readonly #slots = new Map<string, Map<bigint, Slot>>();
  /** coordinator broker → transactionalId → question, flushed on the next turn of the event loop */
  readonly #batches = new Map<number, Map<string, Question>>();
  #sweptAt = 0;

  constructor(host: VerifyHost) {
    this.#host = host;
  }

  /** Whether the id's coordinator is this node (its answer is then synchronous). */
  isLocal(transactionalId: string): boolean {
    return this.#host.coordinatorOf(transactionalId) === this.#host.nodeId;
  }

  /**
   * The synchronous check of the produce path: the local coordinator's answer, or for a remote one
   * whether a verification is cached; NOT_ENOUGH_REPLICAS otherwise, after reporting through
   * `needed` which (producerId, epoch) must be verified first.
   */
  verifier(transactionalId: string, topic: string, partition: number, needed?: (producerId: bigint, epoch: number) => void): TxnVerifier {
    if (this.isLocal(transactionalId)) return (producerId, epoch) => this.#host.verifyLocally(transactionalId, producerId, epoch, topic, partition);
    return (producerId, epoch) => {
      if (this.isVerified(topic, partition, producerId, epoch)) return ErrorCode.NONE;
      needed?.(producerId, epoch);
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    };
  }

  isVerified(topic: string, partition: number, producerId: bigint, epoch: number): boolean {
    const s = this.#slots.get(tpKey(topic, partition))?.get(producerId);
    return s !== undefined && s.verified && s.epoch === epoch;
  }

  /** A marker for the producer was appended to the partition: its verification there ends. */
  onMarker(topic: string, partition: number, producerId: bigint): void {
    const key = tpKey(topic, partition);
    const m = this.#slots.get(key);
    if (m === undefined) return;
    m.delete(producerId);
    if (m.size === 0) this.#slots.delete(key);
  }

  /**
   * Keeps the verifications of partitions for which `leads` holds: a partition led elsewhere gets
   * its markers there, so a verification kept here could outlive its transaction.
   */
  retain(leads: (topic: string, partition: number) => boolean): void {
    for (const key of [...this.#slots.keys()]) {
      const { topic, partition } = splitTp(key);
      if (!leads(topic, partition)) this.#slots.delete(key);
    }
  }

  /** Cached verifications (tests, diagnostics). */
  get size(): number {
    let n = 0;
    for (const m of this.#slots.values()) n += m.size;
    return n;
  }

  /**
   * Asks the coordinator (local or remote) whether the partition is in the producer's ongoing
   * transaction; resolves with the coordinator's error code, NOT_ENOUGH_REPLICAS when it cannot be
   * asked or a marker overtook the answer. Never rejects.
   */
  async verify(transactionalId: string, producerId: bigint, epoch: number, topic: string, partition: number): Promise<number> {
    const coordinator = this.#host.coordinatorOf(transactionalId);
    if (coordinator === null || coordinator < 0) return ErrorCode.NOT_ENOUGH_REPLICAS;
    if (coordinator === this.#host.nodeId) return this.#host.verifyLocally(transactionalId, producerId, epoch, topic, partition);
    const key = tpKey(topic, partition);
    this.#sweep();
    let m = this.#slots.get(key);
    if (m === undefined) this.#slots.set(key, m = new Map());
    const slot: Slot = { epoch, guard: {}, verified: false, at: this.#host.now() };
    m.set(producerId, slot);
    const code = await this.#ask(coordinator, transactionalId, producerId, epoch, topic, partition);
    const current = this.#slots.get(key)?.get(producerId);
    if (current?.guard !== slot.guard) return ErrorCode.NOT_ENOUGH_REPLICAS;
    if (code !== ErrorCode.NONE) {
      this.onMarker(topic, partition, producerId);
      return code;
    }
    slot.verified = true;
    return ErrorCode.NONE;
  }

  #ask(coordinator: number, transactionalId: string, producerId: bigint, epoch: number, topic: string, partition: number): Promise<number> {
    let batch = this.#batches.get(coordinator);
    const q = batch?.get(transactionalId);
    if (q !== undefined && (q.producerId !== producerId || q.epoch !== epoch)) {
      // Another producer of the same id in this turn: a request can carry an id once, so flush.
      this.#flush(coordinator);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = new Map();
      this.#batches.set(coordinator, batch);
      const b = batch;
      setImmediate(() => {
        if (this.#batches.get(coordinator) === b) this.#flush(coordinator);
      });
    }
    let question = batch.get(transactionalId);
    if (question === undefined) batch.set(transactionalId, question = { producerId, epoch, topics: new Map() });
    let parts = question.topics.get(topic);
    if (parts === undefined) question.topics.set(topic, parts = new Map());
    let waiters = parts.get(partition);
    if (waiters === undefined) parts.set(partition, waiters = []);
    return new Promise((resolve) => waiters.push(resolve));
  }

  #flush(coordinator: number): void {
    const batch = this.#batches.get(coordinator);
    this.#batches.delete(coordinator);
    if (batch === undefined || batch.size === 0) return;
    const request: AddPartitionsToTxnRequest = {
      transactions: [...batch].map(([transactionalId, q]) => ({
        transactionalId, producerId: q.producerId, producerEpoch: q.epoch, verifyOnly: true,
        topics: [...q.topics].map(([name, parts]) => ({ name, partitions: [...parts.keys()] })),
      })),
      v3AndBelowTransactionalId: '', v3AndBelowProducerId: 0n, v3AndBelowProducerEpoch: 0, v3AndBelowTopics: [],
    };
    const answer = (codeFor: (transactionalId: string, topic: string, partition: number) => number) => {
      for (const [transactionalId, q] of batch) {
        for (const [topic, parts] of q.topics) {
          for (const [partition, waiters] of parts) {
            const code = produceCodeOf(codeFor(transactionalId, topic, partition));
            for (const w of waiters) w(code);
          }
        }
      }
    };
    this.#host.send(coordinator, request).then((res) => {
      answer((transactionalId, topic, partition) => {
        if (res.errorCode !== ErrorCode.NONE) return res.errorCode;
        const r = res.resultsByTransaction.find((t) => t.transactionalId === transactionalId)
          ?.topicResults.find((t) => t.name === topic)?.resultsByPartition.find((p) => p.partitionIndex === partition);
        return r?.partitionErrorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      });
    }, () => answer(() => ErrorCode.NETWORK_EXCEPTION));
  }

  /** Drops verifications older than any transaction may be (their marker went to another leader). */
  #sweep(): void {
    const now = this.#host.now();
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    for (const [key, m] of this.#slots) {
      for (const [id, s] of m) if (now - s.at > SLOT_TTL_MS) m.delete(id);
      if (m.size === 0) this.#slots.delete(key);
    }
  }
}
