// The produce path's KIP-890 window (src/txn/verified-append.ts): the coordinator's answer has been
// accepted, and before the waiting append runs the producer's ABORT marker is appended to the
// partition. The append must not go through on that answer (it would open a transaction no marker
// ever closes — a hanging transaction pinning the LSO): the verification is checked again in the
// same synchronous turn as the log append, finds it dropped by the marker, and asks again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { buildRecordBatch } from '../../src/protocol/record-batch.ts';
import { appendToPartition, type AppendOutcome } from '../../src/broker/produce.ts';
import type { TopicSettings } from '../../src/broker/topic-settings.ts';
import type { AddPartitionsToTxnRequest } from '../../src/protocol/generated/add-partitions-to-txn-request.ts';
import type { AddPartitionsToTxnResponse } from '../../src/protocol/generated/add-partitions-to-txn-response.ts';
import { ProducerStates } from '../../src/txn/producer-states.ts';
import { TxnVerification } from '../../src/txn/remote-verify.ts';
import { VerifiedAppends } from '../../src/txn/verified-append.ts';
import { config, memEnv } from '../storage/helpers.ts';

const NOW = 1_700_000_000_000;
const PID = 7n;

/** A TxnVerification that runs `afterAnswer` once an answer is accepted, before the caller resumes. */
class Delayed extends TxnVerification {
  afterAnswer: (() => void) | null = null;

  override async verify(transactionalId: string, producerId: bigint, epoch: number, topic: string, partition: number): Promise<number> {
    const code = await super.verify(transactionalId, producerId, epoch, topic, partition);
    const hook = this.afterAnswer;
    this.afterAnswer = null;
    hook?.();
    return code;
  }
}

test('a marker appended after the answer was accepted but before the waiting append: verified again, not appended on the stale answer', async () => {
  const env = memEnv();
  const m = await env.open();
  const log = await m.create('t', 0, 'tid', config());
  const ps = new ProducerStates({ log: () => {}, now: () => NOW });
  const sent: { request: AddPartitionsToTxnRequest; answer: (code: number) => void }[] = [];
  const v = new Delayed({
    nodeId: 1, coordinatorOf: () => 2, verifyLocally: () => ErrorCode.NONE, now: () => NOW,
    send: (_brokerId, request) => new Promise<AddPartitionsToTxnResponse>((resolve) => sent.push({
      request,
      answer: (code) => resolve({
        throttleTimeMs: 0, errorCode: 0, resultsByTopicV3AndBelow: [],
        resultsByTransaction: request.transactions.map((t) => ({
          transactionalId: t.transactionalId,
          topicResults: t.topics.map((tp) => ({ name: tp.name, resultsByPartition: tp.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: code })) })),
        })),
      }),
    })),
  });
  const appends = new VerifiedAppends(v, () => 0);
  const settings: TopicSettings = {
    maxMessageBytes: 1 << 20, timestampType: 'CreateTime', timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER, timestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
    compacted: false, minInsyncReplicas: 1, logConfig: config(),
  };
  const records = buildRecordBatch({ records: [{ key: null, value: Buffer.from('late'), timestamp: NOW }], producerId: PID, producerEpoch: 0, baseSequence: 0, transactional: true });
  const tick = () => new Promise((r) => setImmediate(r));

  const outcome = appends.append('app', 't', 0, records,
    (verify) => appendToPartition(log, records, { settings, apiVersion: 9, acks: -1, leaderEpoch: 0, fsyncAcksAll: false, now: NOW, producers: ps, verify }),
    (errorCode, errorMessage): AppendOutcome => ({ errorCode, errorMessage, baseOffset: -1, logAppendTime: -1, logStartOffset: 0, done: null }));
  assert.ok(outcome instanceof Promise);
  await tick();
  assert.equal(sent.length, 1);

  // The coordinator vouched for the transaction; it is aborted (marker appended as
  // appendMarkerLocally does: the log append, then onMarker in the same turn) before the append runs.
  v.afterAnswer = () => {
    void ps.appendMarker(log, { producerId: PID, producerEpoch: 0, commit: false, coordinatorEpoch: 0, leaderEpoch: 0, sync: false });
    v.onMarker('t', 0, PID);
  };
  sent[0].answer(ErrorCode.NONE);
  await tick();
  await tick(); // the second question is flushed on the turn after it is asked
  assert.equal(sent.length, 2, 'asked again: the answer it had no longer holds');
  assert.equal(log.logEndOffset, 1, 'only the marker is in the log');

  sent[1].answer(ErrorCode.INVALID_TXN_STATE); // the transaction is over
  const o = await outcome;
  assert.equal(o.errorCode, ErrorCode.INVALID_TXN_STATE);
  assert.equal(log.logEndOffset, 1);
  assert.equal(ps.lastStableOffset(log), log.highWatermark, 'no transaction left open in the partition');
  await m.close();
});
