// Transaction markers across brokers (src/txn/markers.ts): the coordinator appends the markers of
// partitions it leads and sends one WriteTxnMarkers per other leader; a leader appends a marker to
// a real partition log (ending the producer's transaction, the LSO moves past it), fences an older
// coordinator, and answers per-partition codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';
import { buildRecordBatch } from '../../src/protocol/record-batch.ts';
import { appendToPartition } from '../../src/broker/produce.ts';
import type { TopicSettings } from '../../src/broker/topic-settings.ts';
import type { WriteTxnMarkersRequest } from '../../src/protocol/generated/write-txn-markers-request.ts';
import type { WriteTxnMarkersResponse } from '../../src/protocol/generated/write-txn-markers-response.ts';
import { ProducerStates } from '../../src/txn/producer-states.ts';
import { appendMarkerLocally, writeMarkers, type LocalMarkerHost, type MarkerFields, type MarkerRouting } from '../../src/txn/markers.ts';
import { tpKey } from '../../src/txn/txn-metadata.ts';
import { config, memEnv } from '../storage/helpers.ts';

const NOW = 1_700_000_000_000;
const FIELDS: MarkerFields = { producerId: 7n, producerEpoch: 0, commit: true, coordinatorEpoch: 3 };

function okResponse(req: WriteTxnMarkersRequest, code: (topic: string, p: number) => number = () => 0): WriteTxnMarkersResponse {
  return { markers: req.markers.map((m) => ({ producerId: m.producerId, topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, errorCode: code(t.name, p) })) })) })) };
}

function routing(leaders: Record<string, number | null>, opts: { remoteCode?: (topic: string, p: number) => number; localCode?: number } = {}) {
  const local: string[] = [];
  const sent: { brokerId: number; request: WriteTxnMarkersRequest }[] = [];
  const r: MarkerRouting = {
    nodeId: 1,
    leaderOf: (topic, p) => leaders[`${topic}-${p}`] ?? null,
    appendLocal: async (topic, p) => {
      local.push(`${topic}-${p}`);
      return opts.localCode ?? ErrorCode.NONE;
    },
    sendMarkers: async (brokerId, request) => {
      sent.push({ brokerId, request });
      return okResponse(request, opts.remoteCode);
    },
  };
  return { r, local, sent };
}

test('markers of led partitions are appended here, the others go to their leaders in one request each; a deleted topic is skipped', async () => {
  const { r, local, sent } = routing({ 'a-0': 1, 'a-1': 2, 'a-2': 3, 'b-0': 2, '__consumer_offsets-4': 3, 'c-0': 1 });
  await writeMarkers(r, { ...FIELDS, partitions: [tpKey('a', 0), tpKey('a', 1), tpKey('a', 2), tpKey('b', 0), tpKey('__consumer_offsets', 4), tpKey('c', 0), tpKey('gone', 0)] });
  assert.deepEqual(local.sort(), ['a-0', 'c-0']);
  assert.deepEqual(sent.map((s) => s.brokerId).sort(), [2, 3]);
  const to2 = sent.find((s) => s.brokerId === 2)!.request;
  assert.deepEqual(to2.markers.map((m) => [m.producerId, m.producerEpoch, m.transactionResult, m.coordinatorEpoch]), [[7n, 0, true, 3]]);
  assert.deepEqual(to2.markers[0].topics, [{ name: 'a', partitionIndexes: [1] }, { name: 'b', partitionIndexes: [0] }]);
  assert.deepEqual(sent.find((s) => s.brokerId === 3)!.request.markers[0].topics, [{ name: 'a', partitionIndexes: [2] }, { name: '__consumer_offsets', partitionIndexes: [4] }]);
});

test('a partition error from a leader, a leaderless partition or a failed local append rejects the set (the caller retries it)', async () => {
  const remote = routing({ 'a-0': 2, 'a-1': 2 }, { remoteCode: (_t, p) => (p === 1 ? ErrorCode.NOT_LEADER_OR_FOLLOWER : 0) });
  await assert.rejects(writeMarkers(remote.r, { ...FIELDS, partitions: [tpKey('a', 0), tpKey('a', 1)] }), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const leaderless = routing({ 'a-0': -1 });
  await assert.rejects(writeMarkers(leaderless.r, { ...FIELDS, partitions: [tpKey('a', 0)] }), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.LEADER_NOT_AVAILABLE);
  const local = routing({ 'a-0': 1 }, { localCode: ErrorCode.KAFKA_STORAGE_ERROR });
  await assert.rejects(writeMarkers(local.r, { ...FIELDS, partitions: [tpKey('a', 0)] }), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.KAFKA_STORAGE_ERROR);
  const unreachable: MarkerRouting = { ...routing({ 'a-0': 2 }).r, sendMarkers: () => Promise.reject(new Error('unreachable')) };
  await assert.rejects(writeMarkers(unreachable, { ...FIELDS, partitions: [tpKey('a', 0)] }), /unreachable/);
});

function settings(): TopicSettings {
  return {
    maxMessageBytes: 1 << 20, timestampType: 'CreateTime', timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER, timestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
    compacted: false, minInsyncReplicas: 1, logConfig: config(),
  };
}

test('a leader appends the marker to its log: the transaction ends (LSO past the marker), a verification ends, an older coordinator is fenced', async () => {
  const env = memEnv();
  const m = await env.open();
  const log = await m.create('t', 0, 'tid', config());
  const ps = new ProducerStates({ log: () => {}, now: () => NOW });
  const records = buildRecordBatch({ records: [{ key: null, value: Buffer.from('v'), timestamp: NOW }], producerId: 7n, producerEpoch: 0, baseSequence: 0, transactional: true });
  const o = appendToPartition(log, records, { settings: settings(), apiVersion: 9, acks: -1, leaderEpoch: 0, fsyncAcksAll: false, now: NOW, producers: ps, verify: () => ErrorCode.NONE });
  assert.equal(o.errorCode, 0);
  await o.done;
  assert.equal(ps.lastStableOffset(log), 0, 'the open transaction holds the LSO');
  const ended: string[] = [];
  const groupCalls: unknown[][] = [];
  let groupError: KafkaError | null = null;
  const host: LocalMarkerHost = {
    leaderLog: (topic, p) => (topic === 't' && p === 0 ? { errorCode: 0, log, leaderEpoch: 0 }
      : topic === 't' ? { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, log: null, leaderEpoch: 1 }
      : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, log: null, leaderEpoch: -1 }),
    fsyncAcksAll: false,
    completeGroupTransaction: async (...args) => {
      groupCalls.push(args);
      if (groupError !== null) throw groupError;
    },
    onMarker: (topic, p, pid) => ended.push(`${topic}-${p}:${pid}`),
  };
  assert.equal(await appendMarkerLocally(host, ps, 't', 0, FIELDS), ErrorCode.NONE);
  assert.equal(log.logEndOffset, 2);
  assert.equal(ps.lastStableOffset(log), 2);
  assert.deepEqual(ended, ['t-0:7']);
  assert.equal(await appendMarkerLocally(host, ps, 't', 0, { ...FIELDS, coordinatorEpoch: 2 }), ErrorCode.TRANSACTION_COORDINATOR_FENCED);
  assert.equal(log.logEndOffset, 2, 'nothing appended for a fenced coordinator');
  assert.equal(await appendMarkerLocally(host, ps, 't', 1, FIELDS), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(await appendMarkerLocally(host, ps, 'nope', 0, FIELDS), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

  assert.equal(await appendMarkerLocally(host, ps, '__consumer_offsets', 4, FIELDS), ErrorCode.NONE);
  assert.deepEqual(groupCalls, [[4, 7n, 0, true, 3]]);
  assert.deepEqual(ended, ['t-0:7', '__consumer_offsets-4:7']);
  groupError = new KafkaError(ErrorCode.NOT_COORDINATOR);
  assert.equal(await appendMarkerLocally(host, ps, '__consumer_offsets', 4, FIELDS), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  groupError = new KafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(await appendMarkerLocally(host, ps, '__consumer_offsets', 4, FIELDS), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  await m.close();
});
