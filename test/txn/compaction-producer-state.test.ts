// Compaction and idempotence: the cleaner keeps each producer's last data batch (empty if all its
// records were superseded), so a producer state rebuilt by replaying the compacted log (no snapshot)
// still knows the producer's epoch and last sequence: a retry of its last batch is a duplicate
// answered with the original offset, and a gap is out of order — instead of an unknown producer
// whose retry would be appended twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { buildRecordBatch } from '../../src/protocol/record-batch.ts';
import { appendToPartition, type AppendOutcome } from '../../src/broker/produce.ts';
import type { TopicSettings } from '../../src/broker/topic-settings.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import { ProducerStates } from '../../src/txn/producer-states.ts';
import { config, memEnv, readAll } from '../storage/helpers.ts';

const NOW = 1_700_000_000_000;
const quiet = { log: () => {}, now: () => NOW };
const CFG = config({ segmentBytes: 400, cleanupPolicy: 'compact', minCleanableDirtyRatio: 0.01 });

function produce(log: PartitionLog, ps: ProducerStates, key: string, value: string, pid: bigint, seq: number): AppendOutcome {
  const settings: TopicSettings = {
    maxMessageBytes: 1 << 20, timestampType: 'CreateTime', timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER, timestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
    compacted: true, minInsyncReplicas: 1, logConfig: CFG,
  };
  const records = buildRecordBatch({ records: [{ key: Buffer.from(key), value: Buffer.from(value), timestamp: NOW }], producerId: pid, producerEpoch: pid < 0n ? -1 : 0, baseSequence: seq });
  return appendToPartition(log, records, { settings, apiVersion: 9, acks: -1, leaderEpoch: 0, fsyncAcksAll: true, now: NOW, producers: ps, verify: null });
}

async function ok(o: AppendOutcome): Promise<number> {
  assert.equal(o.errorCode, 0, o.errorMessage ?? '');
  await o.done;
  return o.baseOffset;
}

for (const hooked of [true, false]) {
  test(`a producer whose every record was compacted away is still known after a replay of the log (${hooked ? "last batches from the producer state" : 'last batches found by the cleaner scan'})`, async () => {
    const env = memEnv(CFG);
    env.clock.wall = NOW;
    let m = await env.open();
    let log = await m.create('t', 0, 'tid', CFG);
    let ps = new ProducerStates(quiet);
    await ps.loadAll([log]);
    const P = 42n;
    await ok(produce(log, ps, 'a', 'a-p0', P, 0));
    const lastOffset = await ok(produce(log, ps, 'b', 'b-p1', P, 1));
    await ok(produce(log, ps, 'a', 'a-plain', -1n, -1));
    await ok(produce(log, ps, 'b', 'b-plain', -1n, -1));
    for (let i = 0; i < 14; i++) await ok(produce(log, ps, `f${i}`, 'x', -1n, -1));
    if (!hooked) log.producerLastOffsets = () => null;
    assert.equal(await m.runCleaner(), log);
    const values = (await readAll(log)).map((r) => r.value);
    assert.ok(!values.includes('a-p0') && !values.includes('b-p1'), "P's records were superseded");
    await m.close();
    // No snapshot: the state comes from replaying the compacted log alone.
    for (const n of await env.fs.readdir(log.dir)) if (n.endsWith('.snapshot')) await env.fs.unlink(`${log.dir}/${n}`);

    m = await env.open();
    log = m.get('t', 0)!;
    ps = new ProducerStates(quiet);
    await ps.loadAll(m.all());
    const end = log.logEndOffset;
    const retry = produce(log, ps, 'b', 'b-p1', P, 1);
    assert.equal(retry.errorCode, 0);
    assert.equal(retry.baseOffset, lastOffset, 'the retry of the last batch is answered with its original offset');
    assert.equal(log.logEndOffset, end, 'and not appended again');
    assert.equal(produce(log, ps, 'c', 'gap', P, 5).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    await ok(produce(log, ps, 'c', 'c-p2', P, 2));
    await m.close();
  });
}
