// KIP-890 verification as a partition leader asks it (src/txn/remote-verify.ts) and the produce
// path that waits for it (src/txn/verified-append.ts), on real partition logs with the
// coordinator's answers scripted: batching per coordinator, the cache until the next marker, the
// guard against a marker overtaking the answer, error mapping, and per-producer append order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { buildRecordBatch } from '../../src/protocol/record-batch.ts';
import { appendToPartition, type AppendOutcome } from '../../src/broker/produce.ts';
import type { TopicSettings } from '../../src/broker/topic-settings.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import type { AddPartitionsToTxnRequest } from '../../src/protocol/generated/add-partitions-to-txn-request.ts';
import type { AddPartitionsToTxnResponse } from '../../src/protocol/generated/add-partitions-to-txn-response.ts';
import { ProducerStates } from '../../src/txn/producer-states.ts';
import { TxnVerification, produceCodeOf, type VerifyHost } from '../../src/txn/remote-verify.ts';
import { VerifiedAppends, firstProducerId } from '../../src/txn/verified-append.ts';
import { config, memEnv, readAll, settle } from '../storage/helpers.ts';

const NOW = 1_700_000_000_000;

interface Sent {
  brokerId: number;
  request: AddPartitionsToTxnRequest;
  answer(codes: number | ((txn: string, topic: string, p: number) => number)): void;
  fail(): void;
}

/** A verification host whose coordinator (node 2 unless `coordinator` says) answers when the test says. */
function fakeHost(opts: { coordinator?: (id: string) => number | null; local?: (id: string, pid: bigint, epoch: number, topic: string, p: number) => number } = {}) {
  const sent: Sent[] = [];
  const host: VerifyHost = {
    nodeId: 1,
    coordinatorOf: opts.coordinator ?? (() => 2),
    verifyLocally: opts.local ?? (() => ErrorCode.NONE),
    now: () => NOW,
    send: (brokerId, request) => new Promise<AddPartitionsToTxnResponse>((resolve, reject) => {
      sent.push({
        brokerId, request,
        answer: (codes) => resolve({
          throttleTimeMs: 0, errorCode: 0, resultsByTopicV3AndBelow: [],
          resultsByTransaction: request.transactions.map((t) => ({
            transactionalId: t.transactionalId,
            topicResults: t.topics.map((tp) => ({
              name: tp.name,
              resultsByPartition: tp.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: typeof codes === 'number' ? codes : codes(t.transactionalId, tp.name, p) })),
            })),
          })),
        }),
        fail: () => reject(new Error('unreachable')),
      });
    }),
  };
  return { host, sent };
}

const tick = () => new Promise((r) => setImmediate(r));

test('a remote verification: batched per coordinator, cached until the producer\'s next marker in the partition', async () => {
  const { host, sent } = fakeHost();
  const v = new TxnVerification(host);
  let needed: [bigint, number] | null = null;
  const check = v.verifier('app', 't', 0, (id, e) => { needed = [id, e]; });
  assert.equal(check(7n, 3), ErrorCode.NOT_ENOUGH_REPLICAS);
  assert.deepEqual(needed, [7n, 3]);

  const a = v.verify('app', 7n, 3, 't', 0);
  const b = v.verify('app', 7n, 3, 't', 1);
  const c = v.verify('other', 8n, 0, 'u', 0);
  await tick();
  assert.equal(sent.length, 1, 'one request for everything asked in the same turn');
  assert.equal(sent[0].brokerId, 2);
  assert.deepEqual(sent[0].request.transactions.map((t) => [t.transactionalId, t.producerId, t.producerEpoch, t.verifyOnly, t.topics.map((x) => [x.name, x.partitions])]), [
    ['app', 7n, 3, true, [['t', [0, 1]]]],
    ['other', 8n, 0, true, [['u', [0]]]],
  ]);
  sent[0].answer((txn, topic, p) => (topic === 't' && p === 1 ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE));
  assert.deepEqual(await Promise.all([a, b, c]), [ErrorCode.NONE, ErrorCode.INVALID_TXN_STATE, ErrorCode.NONE]);
  assert.equal(check(7n, 3), ErrorCode.NONE, 'cached');
  assert.equal(check(7n, 4), ErrorCode.NOT_ENOUGH_REPLICAS, 'only for the epoch verified');
  assert.equal(v.isVerified('t', 1, 7n, 3), false, 'a refusal is not cached');
  assert.equal(v.size, 2);
  v.onMarker('t', 0, 7n);
  assert.equal(check(7n, 3), ErrorCode.NOT_ENOUGH_REPLICAS, 'the marker ended it');
  assert.equal(v.size, 1);
  v.retain((topic) => topic !== 'u');
  assert.equal(v.size, 0, 'a partition no longer led here drops its verifications');
});

test('a marker that overtakes the answer voids it; a local coordinator answers at once; no coordinator: NOT_ENOUGH_REPLICAS', async () => {
  const { host, sent } = fakeHost({ coordinator: (id) => (id === 'here' ? 1 : id === 'nowhere' ? -1 : id === 'unknown' ? null : 2), local: (id, pid) => (pid === 5n ? ErrorCode.INVALID_PRODUCER_EPOCH : ErrorCode.NONE) });
  const v = new TxnVerification(host);
  const a = v.verify('app', 7n, 0, 't', 0);
  await tick();
  v.onMarker('t', 0, 7n);
  sent[0].answer(ErrorCode.NONE);
  assert.equal(await a, ErrorCode.NOT_ENOUGH_REPLICAS);
  assert.equal(v.isVerified('t', 0, 7n, 0), false);

  assert.equal(v.isLocal('here'), true);
  assert.equal(await v.verify('here', 5n, 0, 't', 0), ErrorCode.INVALID_PRODUCER_EPOCH);
  assert.equal(v.verifier('here', 't', 0)(6n, 0), ErrorCode.NONE);
  assert.equal(await v.verify('nowhere', 7n, 0, 't', 0), ErrorCode.NOT_ENOUGH_REPLICAS);
  assert.equal(await v.verify('unknown', 7n, 0, 't', 0), ErrorCode.NOT_ENOUGH_REPLICAS);
  assert.equal(sent.length, 1, 'nothing sent for a local or missing coordinator');
});

test('coordinator answers become produce-path codes; an unreachable coordinator is NOT_ENOUGH_REPLICAS', async () => {
  assert.equal(produceCodeOf(ErrorCode.PRODUCER_FENCED), ErrorCode.INVALID_PRODUCER_EPOCH);
  for (const c of [ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.CONCURRENT_TRANSACTIONS]) {
    assert.equal(produceCodeOf(c), ErrorCode.NOT_ENOUGH_REPLICAS);
  }
  for (const c of [ErrorCode.INVALID_TXN_STATE, ErrorCode.INVALID_PRODUCER_ID_MAPPING, ErrorCode.INVALID_PRODUCER_EPOCH]) assert.equal(produceCodeOf(c), c);
  const { host, sent } = fakeHost();
  const v = new TxnVerification(host);
  const a = v.verify('app', 7n, 0, 't', 0);
  await tick();
  sent[0].fail();
  assert.equal(await a, ErrorCode.NOT_ENOUGH_REPLICAS);
  const b = v.verify('app', 7n, 0, 't', 0);
  await tick();
  sent[1].answer(ErrorCode.PRODUCER_FENCED);
  assert.equal(await b, ErrorCode.INVALID_PRODUCER_EPOCH);
});

// --- the produce path -------------------------------------------------------------------------------

function settings(): TopicSettings {
  return {
    maxMessageBytes: 1 << 20, timestampType: 'CreateTime', timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER, timestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
    compacted: false, minInsyncReplicas: 1, logConfig: config(),
  };
}

function txnBatch(pid: bigint, seq: number, value: string, epoch = 0): Buffer {
  return buildRecordBatch({ records: [{ key: null, value: Buffer.from(value), timestamp: NOW }], producerId: pid, producerEpoch: epoch, baseSequence: seq, transactional: true });
}

async function setup(leaderEpoch: () => number | null = () => 0) {
  const env = memEnv();
  const m = await env.open();
  const log = await m.create('t', 0, 'tid', config());
  const ps = new ProducerStates({ log: () => {}, now: () => NOW });
  const { host, sent } = fakeHost();
  const v = new TxnVerification(host);
  const appends = new VerifiedAppends(v, () => leaderEpoch());
  const produce = (records: Buffer) => appends.append('app', 't', 0, records,
    (verify) => appendToPartition(log, records, { settings: settings(), apiVersion: 9, acks: -1, leaderEpoch: 0, fsyncAcksAll: false, now: NOW, producers: ps, verify }),
    (errorCode, errorMessage): AppendOutcome => ({ errorCode, errorMessage, baseOffset: -1, logAppendTime: -1, logStartOffset: 0, done: null }));
  return { m, log, ps, v, appends, sent, produce };
}

test('the first transactional batch waits for the coordinator; the producer\'s later requests queue behind it and keep their order', async () => {
  const { m, log, appends, sent, produce, v } = await setup();
  const first = produce(txnBatch(7n, 0, 'a'));
  assert.ok(first instanceof Promise, 'waits for the verification');
  const second = produce(txnBatch(7n, 1, 'b'));
  const third = produce(txnBatch(7n, 2, 'c'));
  assert.ok(second instanceof Promise && third instanceof Promise);
  assert.equal(appends.waiting, 3);
  assert.equal(log.logEndOffset, 0, 'nothing appended before the answer');
  await tick();
  assert.equal(sent.length, 1);
  sent[0].answer(ErrorCode.NONE);
  const outcomes = await Promise.all([first, second, third]);
  assert.deepEqual(outcomes.map((o) => [o.errorCode, o.baseOffset]), [[0, 0], [0, 1], [0, 2]]);
  assert.equal(appends.waiting, 0);
  // Verified now: the next request is appended synchronously.
  const fourth = produce(txnBatch(7n, 3, 'd'));
  assert.ok(!(fourth instanceof Promise));
  assert.equal(fourth.baseOffset, 3);
  await settle();
  assert.deepEqual((await readAll(log)).map((r) => r.value), ['a', 'b', 'c', 'd']);
  // After the producer's marker the next transaction is verified again.
  v.onMarker('t', 0, 7n);
  assert.ok(produce(txnBatch(7n, 4, 'e')) instanceof Promise);
  await tick();
  assert.equal(sent.length, 2);
  await m.close();
});

test('a refused verification fails that request only; the next queued one asks again', async () => {
  const { m, log, sent, produce } = await setup();
  const first = produce(txnBatch(7n, 0, 'a'));
  const second = produce(txnBatch(7n, 0, 'a-retry'));
  await tick();
  sent[0].answer(ErrorCode.INVALID_TXN_STATE);
  const o1 = await first;
  assert.equal(o1.errorCode, ErrorCode.INVALID_TXN_STATE);
  await tick();
  assert.equal(sent.length, 2, 'the queued request is verified on its own');
  sent[1].answer(ErrorCode.NONE);
  const o2 = await second;
  assert.deepEqual([o2.errorCode, o2.baseOffset], [0, 0]);
  assert.equal(log.logEndOffset, 1);
  await m.close();
});

test('another producer is not held up, a non-verifying refusal is answered at once, and a leadership change while waiting refuses the append', async () => {
  let epoch: number | null = 0;
  const { m, log, sent, produce, v } = await setup(() => epoch);
  const waiting = produce(txnBatch(7n, 0, 'a'));
  assert.ok(waiting instanceof Promise);
  // Producer 8 was verified before: appended at once, while producer 7 waits. (The same
  // transactional id with another producer id cannot share a request: producer 7's went at once.)
  const of = (pid: bigint) => sent.find((x) => x.request.transactions[0].producerId === pid)!;
  const p8 = v.verify('app', 8n, 0, 't', 0);
  await tick();
  assert.equal(sent.length, 2);
  of(8n).answer(ErrorCode.NONE);
  assert.equal(await p8, ErrorCode.NONE);
  const other = produce(txnBatch(8n, 0, 'x'));
  assert.ok(!(other instanceof Promise));
  assert.deepEqual([other.errorCode, other.baseOffset], [0, 0]);
  // A batch the producer state refuses before any verification is answered synchronously.
  const bad = produce(txnBatch(8n, 5, 'y'));
  assert.ok(!(bad instanceof Promise));
  assert.equal(bad.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  epoch = 1;
  of(7n).answer(ErrorCode.NONE);
  assert.equal((await waiting).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(log.logEndOffset, 1);
  await m.close();
});

test('firstProducerId reads the first batch carrying one', () => {
  assert.equal(firstProducerId(null), null);
  assert.equal(firstProducerId(txnBatch(11n, 0, 'a')), 11n);
  const plain = buildRecordBatch({ records: [{ key: null, value: Buffer.from('p'), timestamp: NOW }] });
  assert.equal(firstProducerId(plain), null);
  assert.equal(firstProducerId(Buffer.concat([plain, txnBatch(12n, 0, 'b')])), 12n);
  assert.equal(firstProducerId(Buffer.alloc(10)), null);
});
