// KIP-447 with a real client: confluent-kafka-python 1.7.0 (librdkafka 2.0.2), driven by
// py/stable_consumer.py, joins a group whose offset for the partition is pending in an open
// transaction (a consume-transform-produce app that has not committed yet).
//
// What librdkafka does (seen in its debug log, and in the records the application receives): with
// isolation.level=read_committed (its default) it sends OffsetFetch v7 with require_stable=true; on a
// partition answered UNSTABLE_OFFSET_COMMIT it raises nothing to the application and sends the
// OffsetFetch again after retry.backoff.ms, again and again, without starting to fetch that
// partition. Once the transaction commits, the next OffsetFetch returns the transaction's offset and
// consumption starts there — the records the transaction consumed are not read a second time. With
// isolation.level=read_uncommitted it sends require_stable=false and starts at once from the last
// committed (older) offset.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { readJsonLines } from '../helpers/json-lines.ts';
import { createTopic, eventually, PYTHON } from './harness.ts';
import { Raw, batchOf } from './raw.ts';

const SCRIPT = fileURLToPath(new URL('./py/stable_consumer.py', import.meta.url));
const TOPIC = 'rsc-in';
const GROUP = 'rsc-group';

interface Event { event: string; offset?: number; value?: string; unstable?: number; result?: string; error?: string; records?: number }

/** stable_consumer.py as a process whose JSON-line events are collected as they come. */
class Consumer {
  readonly events: Event[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr = '';

  constructor(isolation: 'read_committed' | 'read_uncommitted', count: number) {
    const req = { bootstrap: b.bootstrap, topic: TOPIC, group: GROUP, isolation, count, timeout: 60 };
    this.child = spawn(PYTHON, [SCRIPT, JSON.stringify(req)], { stdio: ['ignore', 'pipe', 'pipe'] });
    readJsonLines<Event>(this.child.stdout!, (e) => this.events.push(e), (line) => {
      throw new Error(`stable_consumer.py printed a line that is not JSON: ${line}`);
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  of(event: string): Event[] {
    return this.events.filter((e) => e.event === event);
  }

  async until(pred: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    await eventually(() => {
      if (this.child.exitCode !== null && !pred()) throw new Error(`stable_consumer.py exited (${this.child.exitCode}) before: ${what}\n${this.stderr}`);
      return pred();
    }, timeoutMs, `${what}; events so far: ${JSON.stringify(this.events.slice(-8))}`);
  }

  async done(): Promise<Event[]> {
    await this.until(() => this.of('done').length > 0, 'done');
    assert.equal(await this.exited, 0, this.stderr);
    return this.of('record');
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

let b: TestBroker;
let raw: Raw;
before(async () => {
  b = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'transaction.state.log.num.partitions': '2', 'offsets.topic.num.partitions': '2' }, { quiet: true });
  raw = await Raw.connect(b.host, b.port);
  await createTopic(b.host, b.port, TOPIC, 1);
  await eventually(async () => (await raw.conn.send(10, 3, { key: GROUP, keyType: 0, coordinatorKeys: [] })).errorCode === 0, 10_000, 'group coordinator');
});
after(async () => {
  raw?.close();
  await b?.close();
});

test('librdkafka waits on UNSTABLE_OFFSET_COMMIT (retrying OffsetFetch) and starts from the transaction\'s offset once it commits', async () => {
  const values = Array.from({ length: 10 }, (_, i) => `v${i}`);
  assert.equal((await raw.produce(TOPIC, 0, batchOf(values))).errorCode, 0);
  // The group's last committed offset is 3; an open transaction consumed 3..6 and commits 7.
  const oc = await raw.conn.send(8, 8, {
    groupId: GROUP, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
    topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 3n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }] }],
  });
  assert.equal(oc.topics[0].partitions[0].errorCode, 0);
  const { errorCode, producerId: pid, producerEpoch: epoch } = await raw.initProducerId('rsc-app');
  assert.equal(errorCode, 0);
  assert.equal(await raw.addOffsets('rsc-app', pid, epoch, GROUP), 0);
  const toc = await raw.conn.send(28, 3, {
    transactionalId: 'rsc-app', groupId: GROUP, producerId: pid, producerEpoch: epoch, generationId: -1, memberId: '', groupInstanceId: null,
    topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 7n, committedLeaderEpoch: -1, committedMetadata: null }] }],
  });
  assert.equal(toc.topics[0].partitions[0].errorCode, 0);

  // Contrast: read_uncommitted asks without require_stable and starts from the committed 3 at once.
  const loose = new Consumer('read_uncommitted', 1);
  try {
    const [first] = await loose.done();
    assert.equal(first.offset, 3, 'without require_stable the last committed offset is used');
    assert.ok(loose.of('offset_fetch').every((e) => e.unstable === 0), JSON.stringify(loose.of('offset_fetch')));
  } finally {
    loose.kill();
  }

  const strict = new Consumer('read_committed', 3);
  try {
    await strict.until(() => strict.of('assigned').length > 0, 'partition assigned');
    // librdkafka keeps asking: several OffsetFetch answers with the partition unstable, no record, no error.
    await strict.until(() => strict.of('offset_fetch').filter((e) => (e.unstable ?? 0) > 0).length >= 3, 'three unstable OffsetFetch answers');
    assert.deepEqual(strict.of('record'), [], 'nothing is consumed while the offset is unstable');
    assert.deepEqual(strict.of('error'), [], 'UNSTABLE_OFFSET_COMMIT is not raised to the application');

    assert.equal(await raw.endTxn('rsc-app', pid, epoch, true), 0);
    const records = await strict.done();
    assert.deepEqual(records.map((r) => [r.offset, r.value]), [[7, 'v7'], [8, 'v8'], [9, 'v9']], 'starts at the transaction\'s offset: 3..6 are not read again');
    assert.deepEqual(strict.of('error'), []);
    const fetches = strict.of('offset_fetch');
    const last = fetches.at(-1)!;
    assert.equal(last.unstable, 0, `the answer that started consumption was stable: ${JSON.stringify(fetches.slice(-3))}`);
  } finally {
    strict.kill();
  }
});
