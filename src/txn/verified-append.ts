// The produce path of a transactional batch whose coordinator is on another broker (KIP-890 part
// 1). The append is tried synchronously first, as every other append: it goes through when the
// producer's verification in this partition is cached (or the batch is refused for another reason,
// or is a retry). Only when the check needs the coordinator's answer does the partition's append
// for that request wait for it.
//
// Appends of one producer to one partition stay in arrival order: while a request of the producer
// waits, its later requests for the partition queue behind it (a client pipelines up to 5), and
// each is appended, in order, once the ones before it are done. Other producers' appends and the
// non-transactional path do not wait.
//
// The coordinator's answer is never trusted across a turn of the event loop: it only marks the
// verification cached, and the append itself asks the cache again (`isVerified`, through the
// verifier `run` hands to checkProduce) in the same synchronous turn as the log append. A marker's
// append drops the cache in its own turn (appendMarkerLocally → onMarker), so a marker landing
// between the answer and the append makes the request verify again (Kafka's VerificationGuard).
import { ErrorCode } from '../protocol/errors.ts';
import { MAGIC, PRODUCER_ID, batchSizeAt } from '../protocol/record-batch.ts';
import type { TxnVerifier } from './produce-check.ts';
import type { TxnVerification } from './remote-verify.ts';

/** What the produce path learns about one partition's append (src/broker/produce.ts's AppendOutcome). */
export interface AppendResult {
  errorCode: number;
  errorMessage: string | null;
}

interface Waiting<R> {
  run: (verify: TxnVerifier) => R;
  /** The partition's leader epoch when the request arrived: the append is refused once it changed. */
  leaderEpoch: number | null;
  resolve: (r: R) => void;
  attempts: number;
}

/** Most verification round trips one request makes before it is answered NOT_ENOUGH_REPLICAS (retriable). */
const MAX_ATTEMPTS = 2;

/** The producer id of the first batch with one, or null (also for legacy message sets). */
export function firstProducerId(records: Buffer | null): bigint | null {
  if (records === null) return null;
  for (let pos = 0; pos + 61 <= records.length; pos += batchSizeAt(records, pos)) {
    if (records.readInt8(pos + MAGIC) !== 2) return null;
    const id = records.readBigInt64BE(pos + PRODUCER_ID);
    if (id >= 0n) return id;
    if (batchSizeAt(records, pos) <= 0) return null;
  }
  return null;
}

export class VerifiedAppends {
  readonly #verification: TxnVerification;
  readonly #leaderEpoch: (topic: string, partition: number) => number | null;
  /** `${topic}\0${partition}` → producer id → requests waiting, oldest first */
  readonly #queues = new Map<string, Map<bigint, Waiting<any>[]>>();

  /** `leaderEpoch`: the partition's leader epoch while this node leads it, else null. */
  constructor(verification: TxnVerification, leaderEpoch: (topic: string, partition: number) => number | null) {
    this.#verification = verification;
    this.#leaderEpoch = leaderEpoch;
  }

  /**
   * Appends through `run` (which calls appendToPartition with the verifier it is given) now, or —
   * when the producer must first be verified by a remote coordinator, or earlier requests of the
   * producer wait — later, returning a promise of the result. `failed` builds the answer for an
   * append refused before `run` is called.
   */
  append<R extends AppendResult>(
    transactionalId: string, topic: string, partition: number, records: Buffer | null,
    run: (verify: TxnVerifier) => R, failed: (errorCode: number, message: string) => R,
  ): R | Promise<R> {
    if (this.#verification.isLocal(transactionalId)) return run(this.#verification.verifier(transactionalId, topic, partition));
    const producerId = firstProducerId(records);
    if (producerId === null) return run(this.#verification.verifier(transactionalId, topic, partition));
    const key = `${topic}\u0000${partition}`;
    const queue = this.#queues.get(key)?.get(producerId);
    if (queue !== undefined) {
      return new Promise<R>((resolve) => queue.push({ run, resolve, attempts: 0, leaderEpoch: this.#leaderEpoch(topic, partition) }));
    }
    let needed: { producerId: bigint; epoch: number } | null = null;
    const now = run(this.#verification.verifier(transactionalId, topic, partition, (id, epoch) => {
      needed ??= { producerId: id, epoch };
    }));
    if (needed === null) return now;
    const ask: { producerId: bigint; epoch: number } = needed;
    return new Promise<R>((resolve) => {
      let byProducer = this.#queues.get(key);
      if (byProducer === undefined) this.#queues.set(key, byProducer = new Map());
      const q: Waiting<R>[] = [{ run, resolve, attempts: 0, leaderEpoch: this.#leaderEpoch(topic, partition) }];
      byProducer.set(producerId, q);
      this.#verify(transactionalId, topic, partition, producerId, q, ask, failed);
    });
  }

  /** Requests waiting (tests, diagnostics). */
  get waiting(): number {
    let n = 0;
    for (const m of this.#queues.values()) for (const q of m.values()) n += q.length;
    return n;
  }

  #verify<R extends AppendResult>(
    transactionalId: string, topic: string, partition: number, producerId: bigint, q: Waiting<R>[],
    ask: { producerId: bigint; epoch: number }, failed: (errorCode: number, message: string) => R,
  ): void {
    const head = q[0];
    head.attempts++;
    void this.#verification.verify(transactionalId, ask.producerId, ask.epoch, topic, partition).then((code) => {
      if (code !== ErrorCode.NONE && (code !== ErrorCode.NOT_ENOUGH_REPLICAS || head.attempts >= MAX_ATTEMPTS)) {
        q.shift();
        head.resolve(failed(code, `the transaction coordinator did not verify producer ${ask.producerId} for ${topic}-${partition} (${code})`));
      }
      this.#drain(transactionalId, topic, partition, producerId, q, failed);
    });
  }

  /** Appends the queued requests in order until one needs (another) verification. */
  #drain<R extends AppendResult>(
    transactionalId: string, topic: string, partition: number, producerId: bigint, q: Waiting<R>[],
    failed: (errorCode: number, message: string) => R,
  ): void {
    while (q.length > 0) {
      const head = q[0];
      const epoch = this.#leaderEpoch(topic, partition);
      if (epoch === null || epoch !== head.leaderEpoch) {
        q.shift();
        head.resolve(failed(ErrorCode.NOT_LEADER_OR_FOLLOWER, `the leadership of ${topic}-${partition} moved while the transaction was verified`));
        continue;
      }
      let needed: { producerId: bigint; epoch: number } | null = null;
      let result: R;
      try {
        result = head.run(this.#verification.verifier(transactionalId, topic, partition, (id, e) => {
          needed ??= { producerId: id, epoch: e };
        }));
      } catch (err) {
        q.shift();
        head.resolve(failed(ErrorCode.UNKNOWN_SERVER_ERROR, (err as Error)?.message ?? String(err)));
        continue;
      }
      if (needed !== null) {
        this.#verify(transactionalId, topic, partition, producerId, q, needed, failed);
        return;
      }
      q.shift();
      head.resolve(result);
    }
    const key = `${topic}\u0000${partition}`;
    const byProducer = this.#queues.get(key);
    if (byProducer?.get(producerId) === q) byProducer.delete(producerId);
    if (byProducer?.size === 0) this.#queues.delete(key);
  }
}
