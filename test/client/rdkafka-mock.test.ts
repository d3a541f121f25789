// Interop with librdkafka's in-memory mock cluster (C, librdkafka 2.0.2): Brook's producer,
// consumer, group consumer and admin against a Kafka implementation that is not ours. The mock
// runs three brokers, so partition leaders are spread and requests must be routed. It is built
// by ../shared/tools/rdkafka-perf/build.sh (gcc and Debian's librdkafka-dev); the test is skipped,
// saying why, only when those build tools are missing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/broker.ts';
import { Client } from '../../src/client/client.ts';
import { Producer } from '../../src/client/producer.ts';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.ts';
import { GroupConsumer } from '../../src/client/group/group-consumer.ts';
import { Admin } from '../../src/client/admin.ts';
import { partitionForKey } from '../../src/client/partitioner.ts';
import { runOk, KCAT } from '../clients/util.ts';

const buildDir = process.env.BROOK_RDKAFKA_PERF_DIR ?? join(repoRoot, '.rdkafka-perf');
const buildScript = join(repoRoot, '..', 'shared', 'tools', 'rdkafka-perf', 'build.sh');
const mockBinary = join(buildDir, 'mock_cluster');

/** The mock_cluster binary, building it when possible; otherwise why it cannot be had. */
function ensureMock(): { path: string } | { skip: string } {
  if (existsSync(mockBinary)) return { path: mockBinary };
  if (!existsSync('/usr/include/librdkafka/rdkafka_mock.h')) return { skip: 'librdkafka-dev is not installed (needed to build mock_cluster)' };
  if (spawnSync('gcc', ['--version']).status !== 0) return { skip: 'gcc is not installed (needed to build mock_cluster)' };
  if (!existsSync(buildScript)) return { skip: `${buildScript} is missing` };
  const r = spawnSync('bash', [buildScript, buildDir], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0 || !existsSync(mockBinary)) throw new Error(`building mock_cluster failed:\n${r.stderr}`);
  return { path: mockBinary };
}

const mock = ensureMock();

async function drain(poll: () => Promise<ConsumerRecord[]>, n: number): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + 20_000;
  while (out.length < n && Date.now() < deadline) out.push(...(await poll()));
  return out;
}

describe('interop with librdkafka\'s mock cluster', { skip: 'skip' in mock ? mock.skip : false }, () => {
  let child: ChildProcess;
  let bootstrap: string;
  let client: Client;

  before(async () => {
    child = spawn((mock as { path: string }).path, ['3'], { stdio: ['ignore', 'pipe', 'ignore'] });
    bootstrap = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('mock_cluster printed no address')), 10_000);
      child.stdout!.on('data', (d: Buffer) => {
        const m = /\d+\.\d+\.\d+\.\d+:\d+(,\d+\.\d+\.\d+\.\d+:\d+)*/.exec(d.toString());
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      });
    });
    client = new Client({ brokers: bootstrap });
    await client.connect();
  });
  after(() => {
    client?.close();
    child?.kill('SIGTERM');
  });

  test('the mock has three brokers and spreads partition leaders over them', async () => {
    assert.equal(client.metadata.brokers.size, 3);
    const [t] = await client.topics(['spread'], { autoCreate: true });
    assert.ok(t.partitions.length >= 2);
    assert.ok(new Set(t.partitions.map((p) => p.leader)).size >= 2, 'leaders on more than one broker');
  });

  test('an idempotent, compressed producer and a plain consumer', async () => {
    const producer = new Producer(client, { compression: 'gzip', lingerMs: 10 });
    const sent = await Promise.all(Array.from({ length: 300 }, (_, i) => producer.send({ topic: 'interop', key: `key-${i}`, value: `value-${i}`, headers: { i: String(i) } })));
    assert.equal(producer.isIdempotent, true, 'the mock advertises InitProducerId');
    const [topic] = await new Admin(client).describeTopics(['interop']);
    const n = topic.partitions.length;
    sent.forEach((m, i) => assert.equal(m.partition, partitionForKey(Buffer.from(`key-${i}`), n)));
    for (let p = 0; p < n; p++) {
      const offsets = sent.filter((m) => m.partition === p).map((m) => m.offset);
      assert.deepEqual(offsets, offsets.map((_, i) => i), `partition ${p}: contiguous offsets from 0`);
    }
    const consumer = new Consumer(client);
    consumer.assign(topic.partitions.map((p) => ({ topic: 'interop', partition: p.partition, offset: 'earliest' })));
    const got = await drain(() => consumer.poll({ timeoutMs: 200 }), 300);
    await consumer.close();
    assert.equal(got.length, 300);
    const values = new Map(got.map((r) => [r.key!.toString(), [r.value!.toString(), r.headers[0]?.value?.toString()]]));
    for (let i = 0; i < 300; i++) assert.deepEqual(values.get(`key-${i}`), [`value-${i}`, String(i)]);
  });

  test('two group members split the partitions and commit what they read', async () => {
    const opts = { groupId: 'interop-group', topics: ['interop'], autoOffsetReset: 'earliest' as const, heartbeatIntervalMs: 200 };
    const a = new GroupConsumer({ brokers: bootstrap }, opts);
    const b = new GroupConsumer({ brokers: bootstrap }, opts);
    await Promise.all([a.start(), b.start()]);
    const got = await drain(async () => (await Promise.all([a.poll({ timeoutMs: 100 }), b.poll({ timeoutMs: 100 })])).flat(), 300);
    const parts = [...a.assignment(), ...b.assignment()].map((p) => p.partition).sort();
    const n = (await client.topic('interop')).partitions.length;
    assert.deepEqual(parts, Array.from({ length: n }, (_, i) => i), 'every partition assigned once');
    assert.ok(a.assignment().length > 0 && b.assignment().length > 0);
    assert.equal(new Set(got.map((r) => `${r.partition}/${r.offset}`)).size, 300);
    // Commit while both are members: closing them together lets one leave (the mock then starts a
    // rebalance and refuses the other's commit on close, which close() does not report).
    await Promise.all([a.commit(), b.commit()]);
    await Promise.all([a.close(), b.close()]);
    const committed = await new Admin(client).fetchOffsets('interop-group', [{ topic: 'interop', partitions: parts }]);
    const total = committed.reduce((s, c) => s + c.offset, 0);
    assert.equal(total, 300, 'the committed offsets add up to every record');
  });

  test('keys go where librdkafka\'s murmur2 partitioner (kcat) puts them', { skip: existsSync(KCAT) ? false : 'kcat is not installed' }, async () => {
    const n = (await client.topic('kcat-keys', { autoCreate: true })).partitions.length;
    const lines = Array.from({ length: 60 }, (_, i) => `user-${i * 7}:v${i}`).join('\n') + '\n';
    await runOk(KCAT, ['-P', '-b', bootstrap, '-t', 'kcat-keys', '-K', ':', '-X', 'partitioner=murmur2_random'], { input: lines, timeoutMs: 20_000 });
    const consumer = new Consumer(client);
    consumer.assign(Array.from({ length: n }, (_, partition) => ({ topic: 'kcat-keys', partition, offset: 'earliest' })));
    const got = await drain(() => consumer.poll({ timeoutMs: 200 }), 60);
    await consumer.close();
    assert.equal(got.length, 60);
    for (const r of got) assert.equal(r.partition, partitionForKey(r.key!, n), r.key!.toString());
  });
});
