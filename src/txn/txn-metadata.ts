// A transactional id's state as the transaction coordinator keeps it, and its record in
// __transaction_state (Kafka's TransactionLogKey v0 / TransactionLogValue v0, each prefixed by its
// int16 version; a null value is the tombstone of an expired id). Kafka 3.9 does not persist the
// previous producer id/epoch (the KIP-360 retry fields): like Kafka, a reload forgets them.
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import { decodeTransactionLogKey, encodeTransactionLogKey } from '../protocol/generated/coordinator/transaction-log-key.ts';
import { decodeTransactionLogValue, encodeTransactionLogValue } from '../protocol/generated/coordinator/transaction-log-value.ts';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/** TransactionState ids as written in TransactionLogValue.TransactionStatus. */
export const TxnState = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnStateId = (typeof TxnState)[keyof typeof TxnState];

/** The names DescribeTransactions / ListTransactions use (KIP-664). */
export const TXN_STATE_NAMES: readonly string[] = [
  'Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence',
];

export const NO_PRODUCER_ID = -1n;
export const NO_EPOCH = -1;
/** Kafka's TransactionMetadata.isEpochExhausted: the last epochs are kept for fencing. */
export const MAX_EPOCH = 32767;
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= MAX_EPOCH - 1;
}

/** One topic partition of a transaction, `topic\u0000partition` in sets. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
export function splitTp(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}

export interface TxnMetadata {
  readonly transactionalId: string;
  producerId: bigint;
  /** In memory only (as in Kafka 3.9): the id/epoch before the last InitProducerId bump. */
  lastProducerId: bigint;
  producerEpoch: number;
  lastProducerEpoch: number;
  timeoutMs: number;
  state: TxnStateId;
  partitions: ReadonlySet<string>;
  startTimestamp: number;
  lastUpdateTimestamp: number;
}

/** A state change of one transactional id; `next` null removes it (expiration tombstone). */
export interface TxnRecord {
  transactionalId: string;
  next: TxnMetadata | null;
}

const KEY_VERSION = 0;
const VALUE_VERSION = 0;

function partitionsOf(keys: ReadonlySet<string>): { topic: string; partitionIds: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const k of keys) {
    const { topic, partition } = splitTp(k);
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic].map(([topic, ids]) => ({ topic, partitionIds: ids.sort((a, b) => a - b) }));
}

export function encodeTxnRecord(r: TxnRecord): { key: Buffer; value: Buffer | null } {
  const kw = new Writer(32 + r.transactionalId.length);
  kw.writeInt16(KEY_VERSION);
  encodeTransactionLogKey(kw, { transactionalId: r.transactionalId }, KEY_VERSION);
  const m = r.next;
  if (m === null) return { key: kw.toBuffer(), value: null };
  const vw = new Writer(64);
  vw.writeInt16(VALUE_VERSION);
  encodeTransactionLogValue(vw, {
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    transactionTimeoutMs: m.timeoutMs,
    transactionStatus: m.state,
    // Kafka writes no partitions for Empty and the Complete states.
    transactionPartitions: m.state === TxnState.Empty || m.state === TxnState.CompleteCommit || m.state === TxnState.CompleteAbort ? [] : partitionsOf(m.partitions),
    transactionLastUpdateTimestampMs: BigInt(m.lastUpdateTimestamp),
    transactionStartTimestampMs: BigInt(m.startTimestamp),
  }, VALUE_VERSION);
  return { key: kw.toBuffer(), value: vw.toBuffer() };
}

/** Decodes one __transaction_state record; null for a key version this coordinator does not know. */
export function decodeTxnRecord(key: Buffer, value: Buffer | null): TxnRecord | null {
  const kr = new Reader(key);
  const kv = kr.readInt16();
  if (kv !== KEY_VERSION) return null;
  const transactionalId = decodeTransactionLogKey(kr, kv).transactionalId;
  if (value === null) return { transactionalId, next: null };
  const vr = new Reader(value);
  const version = vr.readInt16();
  const v = decodeTransactionLogValue(vr, version);
  const partitions = new Set<string>();
  for (const t of v.transactionPartitions ?? []) for (const p of t.partitionIds) partitions.add(tpKey(t.topic, p));
  if (v.transactionStatus < 0 || v.transactionStatus > TxnState.PrepareEpochFence) throw new Error(`unknown transaction state ${v.transactionStatus}`);
  return {
    transactionalId,
    next: {
      transactionalId,
      producerId: v.producerId,
      lastProducerId: NO_PRODUCER_ID,
      producerEpoch: v.producerEpoch,
      lastProducerEpoch: NO_EPOCH,
      timeoutMs: v.transactionTimeoutMs,
      state: v.transactionStatus as TxnStateId,
      partitions,
      startTimestamp: Number(v.transactionStartTimestampMs),
      lastUpdateTimestamp: Number(v.transactionLastUpdateTimestampMs),
    },
  };
}
