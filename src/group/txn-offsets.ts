// Transactional offset commits (issue 6, KIP-98/KIP-447), written by the transactions helper as a
// small extension of the group coordinator.
//
// TxnOffsetCommit writes ordinary OffsetCommit records, but in a transactional batch carrying the
// producer's id and epoch; they stay pending — invisible to OffsetFetch — until the transaction
// coordinator writes the transaction's marker into this __consumer_offsets partition: COMMIT
// applies them (in order, as if just committed), ABORT drops them. Loading the partition replays
// the same way, so a restart between the commit and the marker keeps them pending, and the
// coordinator's re-sent marker then decides.
//
// KIP-447: OffsetFetch with require_stable (v7+; librdkafka sets it when isolation.level is
// read_committed, its default) answers UNSTABLE_OFFSET_COMMIT (88, retriable) on each partition an
// open transaction holds a commit for — offset -1, no metadata — so a consumer taking over a
// partition waits for the transaction's outcome instead of starting from the older offset and
// re-reading what the transaction consumed. Without the flag the last committed offset is answered.
//
// KIP-890 part 1, VerificationGuard: a TxnOffsetCommit is appended only after the transaction
// coordinator said the group's partition is in the producer's ongoing transaction. That answer can
// be overtaken by the transaction's marker (COMMIT/ABORT written here between the answer and the
// append); offsets appended then would stay pending for ever (require_stable answering 88 for
// ever). So a guard is taken from this shard BEFORE asking the coordinator; the marker drops it,
// and the append (same synchronous turn as the check) is refused with INVALID_TXN_STATE when the
// producer has no pending commit here and its guard is no longer the one taken — Kafka's
// UnifiedLog check `!hasOngoingTransaction && batchMissingRequiredVerification`.
//
// Deletion (Kafka's OffsetMetadataManager): a non-transactional offset tombstone also drops every
// pending transactional commit of that group/topic/partition, live and at load, so OffsetDelete
// and DeleteGroups write a tombstone for a partition that has a committed OR a pending offset, and
// a later COMMIT marker cannot bring a deleted offset back.
import { ErrorCode } from '../protocol/errors.ts';
import {
  PRODUCER_ID, buildRecordBatch, decodeRecords, isControlBatch,
} from '../protocol/record-batch.ts';
import { ControlType, controlTypeOf, endTxnMarkerRecord } from '../protocol/records.ts';
import type { TxnOffsetCommitRequest } from '../protocol/generated/txn-offset-commit-request.ts';
import type { TxnOffsetCommitResponse } from '../protocol/generated/txn-offset-commit-response.ts';
import { validateMemberEpoch } from './offset-ops.ts';
import { createOffsetCommitValue, decodeRecord, encodeRecord, offsetCommitRecord, type CoordinatorRecord } from './records.ts';
import { result, type Result } from './result.ts';
import type { GroupShard } from './shard.ts';

/**
 * One producer's verification of this shard's partition (Kafka's VerificationGuard): valid until a
 * marker of that producer is applied here. Compared by identity.
 */
export class TxnOffsetGuard {
  readonly producerId: bigint;
  readonly shard: GroupShard;
  readonly createdAt: number;

  constructor(producerId: bigint, shard: GroupShard, createdAt: number) {
    this.producerId = producerId;
    this.shard = shard;
    this.createdAt = createdAt;
  }
}

/** How long an unused guard is kept (longer than transaction.max.timeout.ms's default, 15 min). */
const GUARD_TTL_MS = 30 * 60_000;

/** Offset commits of open transactions, per producer id, in commit order. */
export class PendingTxnOffsets {
  readonly #byProducer = new Map<bigint, CoordinatorRecord[]>();
  /** The verification guard of each producer verifying (or verified in) this partition. */
  readonly #guards = new Map<bigint, TxnOffsetGuard>();
  #sweptAt = 0;
  /**
   * How many pending commits name each group/topic/partition, across producers: OffsetFetch with
   * require_stable (KIP-447) asks this for every partition it answers, so it must not scan.
   */
  readonly #pendingPerPartition = new Map<string, number>();

  add(producerId: bigint, r: CoordinatorRecord): void {
    let list = this.#byProducer.get(producerId);
    if (list === undefined) this.#byProducer.set(producerId, (list = []));
    list.push(r);
    const k = partitionKey(r);
    if (k !== null) this.#pendingPerPartition.set(k, (this.#pendingPerPartition.get(k) ?? 0) + 1);
  }

  /** Ends the producer's transaction: on commit, `apply` each pending record in order. */
  complete(producerId: bigint, commit: boolean, apply: (r: CoordinatorRecord) => void): void {
    // The marker ends any verification of the producer here (its transaction is over).
    this.#guards.delete(producerId);
    const list = this.#byProducer.get(producerId);
    this.#byProducer.delete(producerId);
    if (list === undefined) return;
    for (const r of list) {
      const k = partitionKey(r);
      if (k === null) continue;
      const n = (this.#pendingPerPartition.get(k) ?? 0) - 1;
      if (n > 0) this.#pendingPerPartition.set(k, n);
      else this.#pendingPerPartition.delete(k);
    }
    if (commit) for (const r of list) apply(r);
  }

  /**
   * Takes the producer's guard before its transaction is verified with the coordinator; concurrent
   * verifications of one producer share it (as Kafka's VerificationStateEntry does).
   */
  startVerification(producerId: bigint, shard: GroupShard, now: number): TxnOffsetGuard {
    this.#sweep(now);
    let g = this.#guards.get(producerId);
    if (g === undefined || g.shard !== shard) this.#guards.set(producerId, g = new TxnOffsetGuard(producerId, shard, now));
    return g;
  }

  /**
   * Whether a verified TxnOffsetCommit may be appended now: yes while the producer already has a
   * pending commit here (its transaction is open: no marker since), else only with the guard it
   * was verified under; INVALID_TXN_STATE when a marker came in between (KIP-890).
   */
  guardError(producerId: bigint, guard: TxnOffsetGuard): number {
    if (this.#byProducer.has(producerId)) return ErrorCode.NONE;
    return this.#guards.get(producerId) === guard ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
  }

  /**
   * Drops the pending commits of one group/topic/partition (an offset tombstone was written:
   * OffsetDelete, DeleteGroups), so no later COMMIT marker restores them.
   */
  drop(group: string, topic: string, partition: number): void {
    const k = `${group}\u0000${topic}\u0000${partition}`;
    if (!this.#pendingPerPartition.has(k)) return;
    this.#pendingPerPartition.delete(k);
    for (const [producerId, list] of this.#byProducer) {
      const kept = list.filter((r) => partitionKey(r) !== k);
      if (kept.length === list.length) continue;
      // A producer left with nothing pending keeps its open transaction in the coordinator only;
      // its next commit here is checked against its guard again.
      if (kept.length === 0) this.#byProducer.delete(producerId);
      else this.#byProducer.set(producerId, kept);
    }
  }

  /** Topic/partitions of a group that have a pending commit (DeleteGroups). */
  pendingPartitionsOf(group: string): { topic: string; partition: number }[] {
    const prefix = `${group}\u0000`;
    const out: { topic: string; partition: number }[] = [];
    for (const k of this.#pendingPerPartition.keys()) {
      if (!k.startsWith(prefix)) continue;
      const rest = k.slice(prefix.length);
      const at = rest.lastIndexOf('\u0000');
      out.push({ topic: rest.slice(0, at), partition: Number(rest.slice(at + 1)) });
    }
    return out;
  }

  /** Guards unused for longer than any transaction may last (their verification failed or was abandoned). */
  #sweep(now: number): void {
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    for (const [id, g] of this.#guards) if (now - g.createdAt > GUARD_TTL_MS && !this.#byProducer.has(id)) this.#guards.delete(id);
  }

  /** Verification guards held (tests, diagnostics). */
  get guards(): number {
    return this.#guards.size;
  }

  /** Whether an open transaction holds a commit for this partition (OffsetFetch require_stable, KIP-447). */
  has(group: string, topic: string, partition: number): boolean {
    return this.#pendingPerPartition.has(`${group}\u0000${topic}\u0000${partition}`);
  }

  get size(): number {
    return this.#byProducer.size;
  }
}

function partitionKey(r: CoordinatorRecord): string | null {
  return r.type === 'offset-commit' ? `${r.key.group}\u0000${r.key.topic}\u0000${r.key.partition}` : null;
}

/**
 * KIP-447: a commit naming a member (v3+) is checked like OffsetCommit (unknown member, stale
 * generation, fenced static member); an anonymous one (generation -1, no member) is accepted.
 */
function validateTxnCommit(shard: GroupShard, req: TxnOffsetCommitRequest): number {
  if (req.generationId < 0 && req.memberId === '' && req.groupInstanceId === null) return ErrorCode.NONE;
  const g = shard.groups.get(req.groupId);
  if (g === undefined) return ErrorCode.ILLEGAL_GENERATION;
  if (g.type === 'consumer') return validateMemberEpoch(g, req.memberId, req.generationId);
  if (req.groupInstanceId !== null) {
    const owner = g.staticMembers.get(req.groupInstanceId);
    if (owner !== undefined && owner !== req.memberId) return ErrorCode.FENCED_INSTANCE_ID;
  }
  if (!g.members.has(req.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (req.generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
  return ErrorCode.NONE;
}

/** TxnOffsetCommit (key 28) against one shard: the records to write transactionally, and the answer. */
export function txnCommitOffsets(shard: GroupShard, req: TxnOffsetCommitRequest, version: number): Result<TxnOffsetCommitResponse> {
  const { config, timer, topics } = shard.env;
  const groupError = validateTxnCommit(shard, req);
  const now = BigInt(timer.now());
  const records: CoordinatorRecord[] = [];
  const response: TxnOffsetCommitResponse = { throttleTimeMs: 0, topics: [] };
  for (const t of req.topics) {
    const topic = topics.byName(t.name);
    response.topics.push({
      name: t.name,
      partitions: t.partitions.map((p) => {
        let errorCode: number = groupError;
        if (errorCode === ErrorCode.NONE) {
          if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.numPartitions) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          else if (p.committedMetadata !== null && Buffer.byteLength(p.committedMetadata) > config.offsetMetadataMaxBytes) errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        }
        if (errorCode === ErrorCode.NONE) {
          records.push(offsetCommitRecord(req.groupId, t.name, p.partitionIndex, createOffsetCommitValue({
            offset: p.committedOffset,
            leaderEpoch: version >= 2 ? p.committedLeaderEpoch : -1,
            metadata: p.committedMetadata ?? '',
            commitTimestamp: now,
            expireTimestamp: -1n,
          })));
        }
        return { partitionIndex: p.partitionIndex, errorCode };
      }),
    });
  }
  return result(response, records);
}

/** The transactional batch that carries a TxnOffsetCommit's records. */
export function txnOffsetBatch(records: readonly CoordinatorRecord[], producerId: bigint, producerEpoch: number, now: number): Buffer {
  return buildRecordBatch({
    records: records.map((r) => ({ ...encodeRecord(r), timestamp: now })),
    producerId, producerEpoch, baseSequence: -1, transactional: true, baseTimestamp: now,
  });
}

/** The COMMIT/ABORT control batch for this partition. */
export function txnMarkerBatch(producerId: bigint, producerEpoch: number, commit: boolean, coordinatorEpoch: number, now: number): Buffer {
  return buildRecordBatch({
    records: [endTxnMarkerRecord(commit, coordinatorEpoch, now)],
    producerId, producerEpoch, baseSequence: -1, transactional: true, control: true, baseTimestamp: now,
  });
}

/** Load-time replay of a transactional batch (offset commits) or a marker (its decision). */
export function replayTransactionalBatch(shard: GroupShard, pending: PendingTxnOffsets, batch: Buffer): void {
  const producerId = batch.readBigInt64BE(PRODUCER_ID);
  if (isControlBatch(batch, 0)) {
    for (const rec of decodeRecords(batch)) {
      const type = controlTypeOf(rec.key);
      if (type === ControlType.Commit || type === ControlType.Abort) pending.complete(producerId, type === ControlType.Commit, (r) => shard.replay(r));
    }
    return;
  }
  for (const rec of decodeRecords(batch)) {
    if (rec.key === null) continue;
    const r = decodeRecord(rec.key, rec.value);
    if (r !== null) pending.add(producerId, r);
  }
}
