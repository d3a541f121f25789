// TxnOffsetCommit through the group coordinator: offsets committed inside a transaction stay
// invisible to OffsetFetch until the COMMIT marker reaches the group's __consumer_offsets partition,
// vanish with ABORT, survive a broker restart while pending (both coordinators reload them), and
// are refused outside a transaction (no AddOffsetsToTxn) or from a fenced producer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { createTopic } from './harness.ts';
import { Raw } from './raw.ts';

const PROPS = { 'transaction.state.log.num.partitions': '2', 'offsets.topic.num.partitions': '2' };

async function committed(raw: Raw, group: string, topic: string): Promise<bigint> {
  const r = await raw.conn.send(9, 7, { groupId: group, topics: [{ name: topic, partitionIndexes: [0] }], groups: [], requireStable: false });
  assert.equal(r.errorCode, 0);
  return r.topics[0].partitions[0].committedOffset;
}

async function txnCommit(raw: Raw, txnId: string, pid: bigint, epoch: number, group: string, topic: string, offset: bigint): Promise<number> {
  const r = await raw.conn.send(28, 3, {
    transactionalId: txnId, groupId: group, producerId: pid, producerEpoch: epoch, generationId: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: 'm' }] }],
  });
  return r.topics[0].partitions[0].errorCode;
}

test('transactional offset commits: pending until COMMIT, gone on ABORT, kept pending across a restart', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'brook-txn-offsets-'));
  let b: TestBroker | null = await startTestBroker(PROPS, { dataDir, quiet: true });
  let raw = await Raw.connect(b.host, b.port);
  try {
    await createTopic(b.host, b.port, 'src', 1);
    const { producerId: pid } = await raw.initProducerId('to-1');
    assert.equal(await txnCommit(raw, 'to-1', pid, 0, 'g1', 'src', 3n), ErrorCode.INVALID_TXN_STATE, 'no AddOffsetsToTxn yet');
    assert.equal(await raw.addOffsets('to-1', pid, 0, 'g1'), 0);
    assert.equal(await txnCommit(raw, 'to-1', pid, 1, 'g1', 'src', 3n), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(await txnCommit(raw, 'to-1', pid + 1n, 0, 'g1', 'src', 3n), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(await txnCommit(raw, 'to-1', pid, 0, 'g1', 'src', 5n), 0);
    assert.equal(await committed(raw, 'g1', 'src'), -1n, 'pending: invisible');

    // Restart with the commit pending: both the transaction and the pending offsets are reloaded.
    raw.close();
    await b.stop();
    b = await startTestBroker(PROPS, { dataDir, quiet: true });
    raw = await Raw.connect(b.host, b.port);
    assert.equal(await committed(raw, 'g1', 'src'), -1n, 'still pending after the restart');
    assert.equal((await raw.conn.send(65, 0, { transactionalIds: ['to-1'] })).transactionStates[0].transactionState, 'Ongoing');
    assert.equal(await raw.endTxn('to-1', pid, 0, true), 0);
    assert.equal(await committed(raw, 'g1', 'src'), 5n, 'visible with the COMMIT marker');

    assert.equal(await raw.addOffsets('to-1', pid, 0, 'g1'), 0);
    assert.equal(await txnCommit(raw, 'to-1', pid, 0, 'g1', 'src', 9n), 0);
    // KIP-447: a commit naming a member is checked against the group like OffsetCommit.
    const named = await raw.conn.send(28, 3, {
      transactionalId: 'to-1', groupId: 'g1', producerId: pid, producerEpoch: 0, generationId: 4, memberId: 'ghost', groupInstanceId: null,
      topics: [{ name: 'src', partitions: [{ partitionIndex: 0, committedOffset: 11n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    assert.equal(named.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(await raw.endTxn('to-1', pid, 0, false), 0);
    assert.equal(await committed(raw, 'g1', 'src'), 5n, 'the aborted commit never shows');

    // The markers are in __consumer_offsets: a reload replays them to the same result.
    raw.close();
    await b.stop();
    b = await startTestBroker(PROPS, { dataDir, quiet: true });
    raw = await Raw.connect(b.host, b.port);
    assert.equal(await committed(raw, 'g1', 'src'), 5n);
  } finally {
    raw.close();
    await b?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
