// The transaction coordinator's state machine (src/txn/txn-shard.ts) driven by hand: every
// operation returns a record and an answer, state changes only on replay, and replaying the encoded
// records (a reload) gives the same transactions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { TxnShard, type TxnOp } from '../../src/txn/txn-shard.ts';
import { MAX_EPOCH, TxnState, decodeTxnRecord, encodeTxnRecord, tpKey, type TxnRecord } from '../../src/txn/txn-metadata.ts';

const T = 'app-1';
const P0 = tpKey('out', 0);
const P1 = tpKey('out', 1);

/** A shard plus the log of what it wrote; `run` applies an operation as the runtime would. */
class Harness {
  readonly shard = new TxnShard(0);
  readonly log: TxnRecord[] = [];
  now = 1_000;
  run<R>(op: TxnOp<R>): R {
    if (op.record !== null) {
      this.log.push(op.record);
      this.shard.replay(op.record);
    }
    return op.response;
  }
  init(expected: { producerId: bigint; epoch: number } | null = null, fresh: bigint | null = 100n, timeoutMs = 60_000) {
    return this.run(this.shard.initProducerId(T, timeoutMs, expected, fresh, this.now));
  }
  get m() {
    return this.shard.txns.get(T)!;
  }
}

test('InitProducerId: a new id gets a producer id at epoch 0, each later call bumps the epoch', () => {
  const h = new Harness();
  assert.equal(h.shard.needsProducerId(T), true);
  assert.deepEqual(h.init(), { errorCode: ErrorCode.NONE, producerId: 100n, producerEpoch: 0 });
  assert.equal(h.shard.needsProducerId(T), false);
  assert.deepEqual(h.init(null, null), { errorCode: ErrorCode.NONE, producerId: 100n, producerEpoch: 1 });
  assert.equal(h.m.state, TxnState.Empty);
  assert.equal(h.log.length, 2);
});

test('KIP-360: InitProducerId with the current id/epoch bumps it; a retry with the previous epoch gets the same epoch; anything else is fenced', () => {
  const h = new Harness();
  h.init();
  h.init(null, null); // epoch 1
  assert.deepEqual(h.init({ producerId: 100n, epoch: 1 }, null), { errorCode: ErrorCode.NONE, producerId: 100n, producerEpoch: 2 });
  assert.deepEqual(h.init({ producerId: 100n, epoch: 1 }, null), { errorCode: ErrorCode.NONE, producerId: 100n, producerEpoch: 2 }, 'the lost answer, again');
  assert.equal(h.init({ producerId: 100n, epoch: 0 }, null).errorCode, ErrorCode.PRODUCER_FENCED);
  assert.equal(h.init({ producerId: 55n, epoch: 2 }, null).errorCode, ErrorCode.PRODUCER_FENCED);
});

test('an exhausted epoch rotates to a new producer id', () => {
  const h = new Harness();
  h.init();
  h.shard.replay({ transactionalId: T, next: { ...h.m, producerEpoch: MAX_EPOCH - 1 } });
  assert.equal(h.shard.needsProducerId(T), true);
  assert.deepEqual(h.init(null, 200n), { errorCode: ErrorCode.NONE, producerId: 200n, producerEpoch: 0 });
  assert.equal(h.m.lastProducerId, 100n);
});

test('AddPartitionsToTxn: checks the producer, starts the transaction, and a repeat of known partitions writes nothing', () => {
  const h = new Harness();
  assert.equal(h.run(h.shard.addPartitions(T, 100n, 0, [P0], h.now)), ErrorCode.INVALID_PRODUCER_ID_MAPPING, 'unknown id');
  h.init();
  assert.equal(h.run(h.shard.addPartitions(T, 101n, 0, [P0], h.now)), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.equal(h.run(h.shard.addPartitions(T, 100n, 1, [P0], h.now)), ErrorCode.PRODUCER_FENCED);
  h.now = 5_000;
  assert.equal(h.run(h.shard.addPartitions(T, 100n, 0, [P0], h.now)), ErrorCode.NONE);
  assert.equal(h.m.state, TxnState.Ongoing);
  assert.equal(h.m.startTimestamp, 5_000);
  const before = h.log.length;
  h.now = 6_000;
  assert.equal(h.run(h.shard.addPartitions(T, 100n, 0, [P0], h.now)), ErrorCode.NONE);
  assert.equal(h.log.length, before, 'nothing new to write');
  h.run(h.shard.addPartitions(T, 100n, 0, [P1], h.now));
  assert.deepEqual([...h.m.partitions].sort(), [P0, P1]);
  assert.equal(h.m.startTimestamp, 5_000, 'the start time stays');
  h.shard.pending.add(T);
  assert.equal(h.run(h.shard.addPartitions(T, 100n, 0, [tpKey('out', 2)], h.now)), ErrorCode.CONCURRENT_TRANSACTIONS);
});

test('EndTxn: Ongoing → Prepare* (complete) → Complete*; retries of the same decision succeed, the other one is INVALID_TXN_STATE', () => {
  const h = new Harness();
  h.init();
  assert.equal(h.run(h.shard.endTxn(T, 100n, 0, true, h.now)), ErrorCode.INVALID_TXN_STATE, 'nothing to commit yet');
  h.run(h.shard.addPartitions(T, 100n, 0, [P0, P1], h.now));
  const op = h.shard.endTxn(T, 100n, 0, true, h.now);
  assert.equal(op.complete, true);
  h.run(op);
  assert.equal(h.m.state, TxnState.PrepareCommit);
  assert.deepEqual(h.shard.preparing(), [T]);
  assert.equal(h.run(h.shard.endTxn(T, 100n, 0, true, h.now)), ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal(h.run(h.shard.endTxn(T, 100n, 0, false, h.now)), ErrorCode.INVALID_TXN_STATE);
  assert.equal(h.run(h.shard.addPartitions(T, 100n, 0, [P0], h.now)), ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal(h.init(null, null).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
  h.shard.replay(h.shard.complete(T, h.now)!);
  assert.equal(h.m.state, TxnState.CompleteCommit);
  assert.equal(h.m.partitions.size, 0);
  assert.equal(h.shard.complete(T, h.now), null);
  assert.equal(h.run(h.shard.endTxn(T, 100n, 0, true, h.now)), ErrorCode.NONE);
  assert.equal(h.run(h.shard.endTxn(T, 100n, 0, false, h.now)), ErrorCode.INVALID_TXN_STATE);
  assert.equal(h.run(h.shard.endTxn(T, 100n, 1, true, h.now)), ErrorCode.PRODUCER_FENCED);
});

test('InitProducerId over an open transaction aborts it with the epoch bumped (fencing the old producer) and asks the new one to retry', () => {
  const h = new Harness();
  h.init();
  h.run(h.shard.addPartitions(T, 100n, 0, [P0], h.now));
  const op = h.shard.initProducerId(T, 60_000, null, null, h.now);
  assert.equal(op.response.errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal(op.complete, true);
  h.run(op);
  assert.equal(h.m.state, TxnState.PrepareAbort);
  assert.equal(h.m.producerEpoch, 1);
  assert.deepEqual([...h.m.partitions], [P0], 'the abort markers go to the transaction\'s partitions');
  assert.equal(h.shard.verify(T, 100n, 0, P0), ErrorCode.INVALID_PRODUCER_EPOCH, 'the old producer may no longer write');
  assert.equal(h.run(h.shard.endTxn(T, 100n, 0, true, h.now)), ErrorCode.PRODUCER_FENCED);
  h.shard.replay(h.shard.complete(T, h.now)!);
  assert.deepEqual(h.init(null, null), { errorCode: ErrorCode.NONE, producerId: 100n, producerEpoch: 2 });
});

test('transaction.timeout.ms: an open transaction past its timeout is aborted with the epoch bumped; others are left alone', () => {
  const h = new Harness();
  h.init(null, 100n, 1_000);
  h.run(h.shard.addPartitions(T, 100n, 0, [P0], 10_000));
  assert.deepEqual(h.shard.timeOut(10_999), []);
  assert.deepEqual(h.shard.timeOut(11_000), []);
  const [rec] = h.shard.timeOut(11_001);
  assert.equal(rec.next!.state, TxnState.PrepareAbort);
  assert.equal(rec.next!.producerEpoch, 1);
  h.shard.pending.add(T);
  assert.deepEqual(h.shard.timeOut(20_000), [], 'not while a change is being written');
});

test('produce verification: only the current producer, only Ongoing, only added partitions', () => {
  const h = new Harness();
  h.init();
  assert.equal(h.shard.verify(T, 100n, 0, P0), ErrorCode.INVALID_TXN_STATE);
  h.run(h.shard.addPartitions(T, 100n, 0, [P0], h.now));
  assert.equal(h.shard.verify(T, 100n, 0, P0), ErrorCode.NONE);
  assert.equal(h.shard.verify(null, 100n, 0, P0), ErrorCode.NONE, 'found by producer id too');
  assert.equal(h.shard.verify(T, 100n, 0, P1), ErrorCode.INVALID_TXN_STATE);
  assert.equal(h.shard.verify(T, 7n, 0, P0), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
});

test('expiration tombstones idle ids without a transaction', () => {
  const h = new Harness();
  h.init();
  assert.deepEqual(h.shard.expire(h.now + 999, 1_000), []);
  const recs = h.shard.expire(h.now + 1_000, 1_000);
  assert.deepEqual(recs, [{ transactionalId: T, next: null }]);
  h.shard.replay(recs[0]);
  assert.equal(h.shard.txns.size, 0);
  assert.equal(h.shard.describe(T).errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
});

test('records round-trip through TransactionLogKey/Value; replaying them rebuilds the same transactions', () => {
  const h = new Harness();
  h.init();
  h.run(h.shard.addPartitions(T, 100n, 0, [P1, P0, tpKey('other.topic', 3)], h.now));
  const reloaded = new TxnShard(0);
  for (const r of h.log) {
    const { key, value } = encodeTxnRecord(r);
    const back = decodeTxnRecord(key, value)!;
    reloaded.replay(back);
  }
  const live = h.m;
  const again = reloaded.txns.get(T)!;
  assert.deepEqual({ ...again, lastProducerEpoch: 0, lastProducerId: 0n }, { ...live, lastProducerEpoch: 0, lastProducerId: 0n });
  assert.deepEqual(reloaded.describe(T).topics, [{ topic: 'out', partitions: [0, 1] }, { topic: 'other.topic', partitions: [3] }]);
  const tomb = encodeTxnRecord({ transactionalId: T, next: null });
  assert.deepEqual(decodeTxnRecord(tomb.key, tomb.value), { transactionalId: T, next: null });
});

test('ListTransactions filters by state, producer id and duration', () => {
  const h = new Harness();
  h.init();
  h.run(h.shard.addPartitions(T, 100n, 0, [P0], 1_000));
  h.run(h.shard.initProducerId('idle', 1000, null, 300n, 1_000));
  const ids = (states: string[], pids: bigint[], dur: number, now: number) => h.shard.list(new Set(states), new Set(pids), dur, now).map((t) => t.transactionalId).sort();
  assert.deepEqual(ids([], [], -1, 0), ['app-1', 'idle']);
  assert.deepEqual(ids(['Ongoing'], [], -1, 0), ['app-1']);
  assert.deepEqual(ids([], [300n], -1, 0), ['idle']);
  assert.deepEqual(ids([], [], 5_000, 5_999), []);
  assert.deepEqual(ids([], [], 5_000, 6_000), ['app-1']);
});
