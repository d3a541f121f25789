// KIP-890 VerificationGuard for TxnOffsetCommit, driven deterministically in memory: a real
// GroupCoordinator and TransactionCoordinator on MemoryLogs, the transaction coordinator's
// answer (remote path) or the group append (local path) held back while a COMMIT/ABORT marker of
// the producer lands in the group's __consumer_offsets partition. The commit must then be refused
// with INVALID_TXN_STATE (Kafka's UnifiedLog refusal), nothing transactional may follow the marker
// in the log, and OffsetFetch require_stable must not answer UNSTABLE_OFFSET_COMMIT (88) afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { GroupCoordinator, type CoordinatorHost } from '../../src/group/coordinator.ts';
import { TransactionCoordinator, type CoordinatorNetwork, type TxnCoordinatorConfig, type TxnCoordinatorHost, type TxnGroups } from '../../src/txn/coordinator.ts';
import type { MetadataImage } from '../../src/controller/image.ts';
import type { BrokerConfig } from '../../src/config/broker-config.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import type { ProducerStates } from '../../src/txn/producer-states.ts';
import type { ProducerIdManager } from '../../src/txn/producer-ids.ts';
import { createTxnOffsetCommitRequest } from '../../src/protocol/generated/txn-offset-commit-request.ts';
import { isControlBatch, isTransactionalBatch } from '../../src/protocol/record-batch.ts';
import { TEST_CONFIG } from '../group/harness.ts';
import { MemoryLog } from '../group/memory-log.ts';

const ME = 1;
const PID = 7000n;
const GROUP = 'g';
const TXN = 'tx';

function partitions(leader: number) {
  return new Map([[0, { leader, leaderEpoch: 0 }]]);
}

/** One broker (ME) leading __consumer_offsets-0 and `src`; __transaction_state-0 led by `txnLeader`. */
function image(txnLeader: number): MetadataImage {
  const topics = new Map<string, unknown>([
    ['__consumer_offsets', { id: 'co', name: '__consumer_offsets', partitions: partitions(ME) }],
    ['__transaction_state', { id: 'ts', name: '__transaction_state', partitions: partitions(txnLeader) }],
    ['src', { id: 'src', name: 'src', partitions: partitions(ME) }],
  ]);
  return { topics, topicsById: new Map(), brokers: new Map() } as unknown as MetadataImage;
}

const TXN_CONFIG: TxnCoordinatorConfig = {
  maxTimeoutMs: 900_000, numPartitions: 1, replicationFactor: 1, minIsr: 1, segmentBytes: 1 << 20,
  idExpirationMs: 3_600_000, abortIntervalMs: 60_000, expireIntervalMs: 60_000,
};

interface Setup {
  groups: GroupCoordinator;
  txn: TransactionCoordinator;
  offsetsLog: MemoryLog;
  /** The remote coordinator's verification answers, in the order asked. */
  verifications: { resolve: (code: number) => void }[];
}

function setup(txnLeader: number, wrap: (g: GroupCoordinator) => TxnGroups = (g) => g): Setup {
  const img = image(txnLeader);
  const offsetsLog = new MemoryLog();
  const txnLog = new MemoryLog();
  const groups = new GroupCoordinator({
    settings: { nodeId: ME, listenerName: 'PLAINTEXT', advertisedHost: 'localhost', advertisedPort: 9092, fsyncAcksAll: true },
    config: {} as BrokerConfig,
    image: img,
    controller: { createTopics: () => Promise.reject(new Error('no controller')) },
    leaderLog: () => ({ errorCode: 0, log: offsetsLog, leaderEpoch: 0 }),
    log: () => {},
  } satisfies CoordinatorHost, TEST_CONFIG);
  const verifications: Setup['verifications'] = [];
  const network: CoordinatorNetwork = {
    markers: {
      nodeId: ME,
      leaderOf: (topic) => (img.topics.has(topic) ? ME : null),
      appendLocal: (topic, partition, m) => topic === '__consumer_offsets'
        ? groups.completeTransaction(partition, m.producerId, m.producerEpoch, m.commit, m.coordinatorEpoch).then(() => 0)
        : Promise.resolve(0),
      sendMarkers: () => Promise.reject(new Error('single broker')),
    },
    verify: () => new Promise<number>((resolve) => verifications.push({ resolve })),
  };
  const host: TxnCoordinatorHost = {
    settings: { nodeId: ME, fsyncAcksAll: true },
    config: {} as BrokerConfig,
    image: img,
    controller: { createTopics: () => Promise.reject(new Error('no controller')) },
    leaderLog: () => ({ errorCode: 0, log: txnLog as unknown as PartitionLog, leaderEpoch: 0 }),
    log: () => {},
  };
  const ids = { next: async () => PID } as unknown as ProducerIdManager;
  const wrapped = wrap(groups);
  const txn = new TransactionCoordinator(host, () => wrapped, {} as ProducerStates, ids, network, TXN_CONFIG);
  return { groups, txn, offsetsLog, verifications };
}

function commitReq(offset: bigint) {
  return createTxnOffsetCommitRequest({
    transactionalId: TXN, groupId: GROUP, producerId: PID, producerEpoch: 0, generationId: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: 'src', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }],
  });
}

const codes = (r: { topics: { partitions: { errorCode: number }[] }[] }) => r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));

async function stable(groups: GroupCoordinator): Promise<[bigint, number]> {
  const r = await groups.fetchOffsets(GROUP, [{ name: 'src', partitionIndexes: [0] }], { requireStable: true });
  const p = r.topics[0].partitions[0];
  return [p.committedOffset, p.errorCode];
}

/** Kinds of the batches in the log, in order: 'txn' (transactional data), 'marker', 'plain'. */
function kinds(log: MemoryLog): string[] {
  return log.batches.map((b) => (isControlBatch(b, 0) ? 'marker' : isTransactionalBatch(b, 0) ? 'txn' : 'plain'));
}

/** Lets queued promise callbacks run (the coordinators are idle otherwise). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

test('remote coordinator: an answer overtaken by the ABORT marker is refused with INVALID_TXN_STATE, nothing stays pending', async () => {
  const s = setup(2);
  const answer = s.txn.txnOffsetCommit(commitReq(9n), 3);
  await settle();
  assert.equal(s.verifications.length, 1, 'the transaction coordinator was asked');
  // The transaction ends (timeout or EndTxn) and its marker reaches the group's partition first.
  await s.groups.completeTransaction(0, PID, 0, false, 0);
  s.verifications[0].resolve(ErrorCode.NONE); // the answer given just before the abort
  assert.deepEqual(codes(await answer), [ErrorCode.INVALID_TXN_STATE]);
  assert.deepEqual(kinds(s.offsetsLog), ['marker'], 'no transactional batch after the marker');
  assert.deepEqual(await stable(s.groups), [-1n, ErrorCode.NONE], 'require_stable: no UNSTABLE_OFFSET_COMMIT');
  await s.groups.close();
});

test('remote coordinator: without a marker in between the commit is written, pending until COMMIT', async () => {
  const s = setup(2);
  const first = s.txn.txnOffsetCommit(commitReq(5n), 3);
  await settle();
  s.verifications[0].resolve(ErrorCode.NONE);
  assert.deepEqual(codes(await first), [ErrorCode.NONE]);
  assert.deepEqual(await stable(s.groups), [-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT]);
  // A second commit of the same transaction, verified concurrently: shares the guard.
  const second = s.txn.txnOffsetCommit(commitReq(6n), 3);
  await settle();
  s.verifications[1].resolve(ErrorCode.NONE);
  assert.deepEqual(codes(await second), [ErrorCode.NONE]);
  await s.groups.completeTransaction(0, PID, 0, true, 0);
  assert.deepEqual(await stable(s.groups), [6n, ErrorCode.NONE]);
  assert.deepEqual(kinds(s.offsetsLog), ['txn', 'txn', 'marker']);

  // The next transaction: a verification that started before this COMMIT marker is refused.
  const late = s.txn.txnOffsetCommit(commitReq(8n), 3);
  await settle();
  await s.groups.completeTransaction(0, PID, 0, true, 0); // e.g. a retried marker
  s.verifications[2].resolve(ErrorCode.NONE);
  assert.deepEqual(codes(await late), [ErrorCode.INVALID_TXN_STATE]);
  assert.deepEqual(await stable(s.groups), [6n, ErrorCode.NONE]);
  await s.groups.close();
});

test('remote coordinator: a refusal of the coordinator passes through, NOT_ENOUGH_REPLICAS becomes COORDINATOR_NOT_AVAILABLE', async () => {
  const s = setup(2);
  const a = s.txn.txnOffsetCommit(commitReq(5n), 3);
  const b = s.txn.txnOffsetCommit(commitReq(5n), 3);
  await settle();
  s.verifications[0].resolve(ErrorCode.INVALID_TXN_STATE);
  s.verifications[1].resolve(ErrorCode.NOT_ENOUGH_REPLICAS);
  assert.deepEqual([codes(await a), codes(await b)], [[ErrorCode.INVALID_TXN_STATE], [ErrorCode.COORDINATOR_NOT_AVAILABLE]]);
  assert.deepEqual(kinds(s.offsetsLog), []);
  await s.groups.close();
});

test('local coordinator: a marker landing between the transaction check and the group append makes the append refuse', async () => {
  let beforeAppend: (() => void) | null = null;
  const s = setup(ME, (g) => ({
    partitionFor: (id) => g.partitionFor(id),
    ensureTopic: () => g.ensureTopic(),
    completeTransaction: (...a) => g.completeTransaction(...a),
    startTxnVerification: (id, pid) => g.startTxnVerification(id, pid),
    txnCommitOffsets: (req, version, guard) => {
      beforeAppend?.();
      return g.txnCommitOffsets(req, version, guard);
    },
  }));
  const init = await s.txn.initProducerId(TXN, 60_000, null);
  assert.equal(init.errorCode, ErrorCode.NONE);
  assert.equal(await s.txn.addOffsets(TXN, PID, 0, GROUP), ErrorCode.NONE);
  assert.deepEqual(codes(await s.txn.txnOffsetCommit(commitReq(4n), 3)), [ErrorCode.NONE], 'the ordinary case');
  assert.equal(await s.txn.endTxn(TXN, PID, 0, true), ErrorCode.NONE);
  assert.deepEqual(await stable(s.groups), [4n, ErrorCode.NONE]);

  // Next transaction: the check sees it Ongoing, then its ABORT marker lands before the append.
  assert.equal(await s.txn.addOffsets(TXN, PID, 0, GROUP), ErrorCode.NONE);
  beforeAppend = () => {
    beforeAppend = null;
    void s.groups.completeTransaction(0, PID, 0, false, 0);
  };
  assert.deepEqual(codes(await s.txn.txnOffsetCommit(commitReq(9n), 3)), [ErrorCode.INVALID_TXN_STATE]);
  assert.deepEqual(kinds(s.offsetsLog), ['txn', 'marker', 'marker'], 'nothing transactional after the marker');
  assert.deepEqual(await stable(s.groups), [4n, ErrorCode.NONE], 'require_stable: the committed offset, no 88');
  await s.txn.close();
  await s.groups.close();
});
