// Produce (key 0), versions 0–11.
// v0–2 carry magic 0/1 message sets, converted to one v2 batch before the append; v3+ carry v2
// record batches, validated (CRC32C, sizes, counts) and appended as received with the base offset
// and leader epoch patched in place. Every partition is appended synchronously, in request order —
// except a transactional batch this leader must first verify with a remote transaction coordinator
// (KIP-890): that partition's append waits, and the producer's later batches there queue behind it.
// acks=0 gets no response, but the request counts as in flight until its bytes are written (its
// frame's pooled memory is reused only then); acks=1 is answered once the bytes are written,
// acks=-1 once they are also fdatasync'ed (brook.fsync.acks.all, group commit). Batches with a
// producer id are de-duplicated and checked (epoch, sequence; transactional batches only into
// partitions added to the producer's ongoing transaction) against the partition's producer state.
// Not yet: replication to followers (single replica).
import { CLOSE_CONNECTION, defineHandler } from '../handler.ts';
import { isInternalTopic } from '../../config/topic-name.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { appendToPartition, type AppendOutcome } from '../produce.ts';
import {
  createProduceResponse, createTopicProduceResponse, createPartitionProduceResponse,
  type PartitionProduceResponse,
} from '../../protocol/generated/produce-response.ts';


function toResponse(index: number, o: AppendOutcome): PartitionProduceResponse {
  return createPartitionProduceResponse({
    index,
    errorCode: o.errorCode,
    errorMessage: o.errorMessage,
    baseOffset: BigInt(o.baseOffset),
    logAppendTimeMs: BigInt(o.logAppendTime),
    logStartOffset: BigInt(o.logStartOffset),
  });
}

export default defineHandler(0, 0, 11, (req, ctx) => {
  const broker = ctx.broker;
  const acks = req.acks;
  const now = broker.now();
  const pending: Promise<void>[] = [];
  const responses = req.topicData.map((topic) => createTopicProduceResponse({
    name: topic.name,
    partitionResponses: topic.partitionData.map((pd) => {
      let outcome: AppendOutcome;
      if (acks !== 0 && acks !== 1 && acks !== -1) {
        outcome = { errorCode: ErrorCode.INVALID_REQUIRED_ACKS, errorMessage: null, baseOffset: -1, logAppendTime: -1, logStartOffset: -1, done: null };
      } else if (isInternalTopic(topic.name)) {
        outcome = { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: `clients may not write to the internal topic ${topic.name}`, baseOffset: -1, logAppendTime: -1, logStartOffset: -1, done: null };
      } else {
        const target = broker.leaderLog(topic.name, pd.index);
        if (target.log === null || target.topic === null) {
          outcome = { errorCode: target.errorCode, errorMessage: null, baseOffset: -1, logAppendTime: -1, logStartOffset: -1, done: null };
        } else {
          const log = target.log;
          const opts = {
            settings: broker.topicSettings(target.topic),
            apiVersion: ctx.apiVersion,
            acks,
            leaderEpoch: target.leaderEpoch,
            fsyncAcksAll: broker.settings.fsyncAcksAll,
            now,
            producers: broker.txn.producers,
            verify: null,
          };
          if (req.transactionalId === null) {
            outcome = appendToPartition(log, pd.records, opts);
          } else {
            // transactions across brokers (KIP-890): may wait for the coordinator's verification.
            const r = broker.txn.appendTransactional(req.transactionalId, topic.name, pd.index, pd.records,
              (verify) => appendToPartition(log, pd.records, { ...opts, verify }),
              (errorCode, errorMessage): AppendOutcome => ({ errorCode, errorMessage, baseOffset: -1, logAppendTime: -1, logStartOffset: log.logStartOffset, done: null }));
            if (r instanceof Promise) {
              const resp = toResponse(pd.index, { errorCode: 0, errorMessage: null, baseOffset: -1, logAppendTime: -1, logStartOffset: -1, done: null });
              pending.push(r.then((o) => {
                Object.assign(resp, toResponse(pd.index, o));
                return o.done ?? undefined;
              }).catch((e) => {
                broker.log(`append to ${topic.name}-${pd.index} failed: ${e?.message ?? e}`);
                Object.assign(resp, { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: 'the log directory failed to write the records', baseOffset: -1n });
              }));
              return resp;
            }
            outcome = r;
          }
        }
      }
      const resp = toResponse(pd.index, outcome);
      if (outcome.done !== null) {
        pending.push(outcome.done.catch((e) => {
          broker.log(`append to ${topic.name}-${pd.index} failed: ${e?.message ?? e}`);
          resp.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
          resp.errorMessage = 'the log directory failed to write the records';
          resp.baseOffset = -1n;
        }));
      }
      return resp;
    }),
  }));
  if (acks === 0) {
    // acks=0 gets no response; a refused record is signalled by closing the connection, as Kafka
    // does, so the producer notices (it reconnects and refreshes its metadata).
    const refused = responses.some((t) => t.partitionResponses.some((p) => p.errorCode !== 0));
    const result = refused ? CLOSE_CONNECTION : null;
    // Settles once the bytes are written: the connection may reuse the request's memory only then,
    // and a client sending faster than the disk writes is held back by the in-flight cap.
    return pending.length === 0 ? result : Promise.all(pending).then(() => result);
  }
  const response = createProduceResponse({ responses });
  if (pending.length === 0) return response;
  return Promise.all(pending).then(() => response);
});
