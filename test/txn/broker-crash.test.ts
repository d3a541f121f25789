// kill -9 of the broker (a child process) with transactions and idempotent producers in flight,
// then a restart on the same data: a transaction is completed or aborted, never half-visible; the
// LSO does not stay stuck; acknowledged records are all there once; and a retry of a batch written
// before the crash is still answered with its original offset (producer state rebuilt by replay).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { spawnBroker, type SpawnedBroker } from '../helpers/broker.ts';
import { check, summary, type TxnOutcome, type Write } from './checker.ts';
import { createTopic, eventually, PyClient, readBack, reservedPort } from './harness.ts';
import { Raw, batchOf } from './raw.ts';

const SET = {
  'transaction.state.log.num.partitions': '4',
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200',
};

async function withBroker(fn: (start: () => Promise<SpawnedBroker>, dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'brook-txn-crash-'));
  const running: SpawnedBroker[] = [];
  const port = await reservedPort();
  const start = async () => {
    const sb = await spawnBroker({ dataDir, port, set: SET });
    running.push(sb);
    return sb;
  };
  try {
    await fn(start, dataDir);
  } finally {
    for (const sb of running) if (sb.child.exitCode === null && sb.child.signalCode === null) await sb.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Waits until no transaction holds any partition of `topic` (LSO = HW everywhere). */
async function settled(raw: Raw, topic: string, partitions: number, timeoutMs: number): Promise<void> {
  await eventually(async () => {
    for (let p = 0; p < partitions; p++) if (await raw.latest(topic, p, 1) !== await raw.latest(topic, p, 0)) return false;
    return true;
  }, timeoutMs, `${topic}: open transactions resolved`);
}

function historyOf(events: { event: string; value?: string; txn?: string; outcome?: TxnOutcome }[]): { writes: Write[]; txns: Map<string, TxnOutcome> } {
  const writes: Write[] = events.filter((e) => e.event === 'write').map((e) => ({ value: e.value!, status: 'info', txn: e.txn }));
  const txns = new Map<string, TxnOutcome>();
  for (const e of events) if (e.event === 'txn') txns.set(e.txn!, e.outcome!);
  return { writes, txns };
}

test('kill -9 with a transaction open: after the restart it is aborted, never half-visible, and the committed ones are intact', async () => {
  await withBroker(async (start) => {
    let sb = await start();
    const [host, port] = ['127.0.0.1', sb.port];
    const topic = 'crash-open';
    await createTopic(host, port, topic, 3);
    const client = new PyClient('txn', { bootstrap: sb.bootstrap, topic, partitions: 3, transactional_id: 'crash-1', txns: 5, per_txn: 6, hang_in: 3, prefix: 'c', transaction_timeout_ms: 3000 });
    await client.waitFor('hanging', 60_000);
    await sb.kill();
    await client.kill();
    sb = await start();
    const raw = await Raw.connect(host, port);
    try {
      const { writes, txns } = historyOf(client.events);
      assert.deepEqual([...txns.values()], ['committed', 'committed', 'committed']);
      // Right after the restart the open one is still undecided: it must not be visible in part.
      const early = check({ writes, txns, reads: await readBack(sb.bootstrap, topic, 3) });
      assert.ok(early.ok, summary(early));
      await settled(raw, topic, 3, 20_000);
      // The markers are durable (LSO = HW) before the coordinator records CompleteAbort: wait for it.
      const state = async () => (await raw.conn.send(65, 0, { transactionalIds: ['crash-1'] })).transactionStates[0].transactionState;
      await eventually(async () => (await state()) === 'CompleteAbort', 10_000, 'the timed-out transaction to be CompleteAbort');
      txns.set('c-t3', 'aborted');
      const r = check({ writes, txns, reads: await readBack(sb.bootstrap, topic, 3) });
      assert.ok(r.ok, summary(r));
      assert.equal(r.counts.acknowledged, 18);
    } finally {
      raw.close();
    }
  });
});

test('kill -9 twice during a stream of transactions, restart under the client: 0 lost, 0 duplicates, 0 aborted reads, nothing half-visible', async () => {
  await withBroker(async (start) => {
    let sb = await start();
    const [host, port] = ['127.0.0.1', sb.port];
    const topic = 'crash-stream';
    await createTopic(host, port, topic, 2);
    const client = new PyClient('txn', {
      bootstrap: sb.bootstrap, topic, partitions: 2, transactional_id: 'crash-2', txns: 400, per_txn: 3, abort_every: 4, prefix: 's',
      transaction_timeout_ms: 5000, config: { 'reconnect.backoff.ms': 20, 'reconnect.backoff.max.ms': 200 },
    });
    for (const done of [15, 40]) {
      await eventually(() => client.of('txn').length >= done || client.child.exitCode !== null, 60_000, `${done} transactions done`);
      await sb.kill();
      sb = await start();
    }
    // The client either rides through the restart or fails its current transaction; give it a while.
    await Promise.race([client.exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (client.child.exitCode === null) await client.kill();
    const raw = await Raw.connect(host, port);
    try {
      await settled(raw, topic, 2, 30_000);
      const { writes, txns } = historyOf(client.events);
      assert.ok(txns.size >= 40, `${txns.size} transactions`);
      const r = check({ writes, txns, reads: await readBack(sb.bootstrap, topic, 2) });
      assert.ok(r.ok, summary(r));
      assert.ok(r.counts.acknowledged > 0);
    } finally {
      raw.close();
    }
  });
});

test('de-duplication survives kill -9: a retry of a batch written before the crash gets its original offset', async () => {
  await withBroker(async (start) => {
    let sb = await start();
    const [host, port] = ['127.0.0.1', sb.port];
    const topic = 'crash-dedup';
    await createTopic(host, port, topic, 1);
    let raw = await Raw.connect(host, port);
    const { producerId } = await raw.initProducerId(null);
    const batches = Array.from({ length: 6 }, (_, i) => batchOf([`a${i}`, `b${i}`], { producerId, epoch: 0, seq: i * 2 }));
    const offsets: number[] = [];
    for (const batch of batches) {
      const r = await raw.produce(topic, 0, Buffer.from(batch));
      assert.equal(r.errorCode, 0);
      offsets.push(r.baseOffset);
    }
    raw.close();
    await sb.kill();
    sb = await start();
    raw = await Raw.connect(host, port);
    try {
      for (let i = 1; i < 6; i++) {
        const again = await raw.produce(topic, 0, Buffer.from(batches[i]));
        assert.deepEqual(again, { errorCode: 0, baseOffset: offsets[i] }, `batch ${i} answered from the rebuilt state`);
      }
      assert.equal(await raw.latest(topic, 0, 0), 12, 'nothing appended twice');
      assert.equal((await raw.produce(topic, 0, batchOf(['gap'], { producerId, epoch: 0, seq: 13 }))).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      assert.deepEqual(await raw.produce(topic, 0, batchOf(['next'], { producerId, epoch: 0, seq: 12 })), { errorCode: 0, baseOffset: 12 });
      // A fresh producer id never repeats one handed out before the crash (blocks come from the metadata log).
      const { producerId: after } = await raw.initProducerId(null);
      assert.ok(after > producerId, `${after} > ${producerId}`);
    } finally {
      raw.close();
    }
  });
});
