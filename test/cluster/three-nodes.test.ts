// Three `brook serve` processes (broker + controller each) form a KRaft quorum over TCP. Checked:
// clients see three brokers; a 6-partition RF 1 topic gets two leaders per broker and local logs
// where they belong; kcat produces to and consumes from every partition; a non-leader answers
// NOT_LEADER_OR_FOLLOWER; admin requests to any node are forwarded to the active controller.
// Then the active controller is killed with SIGKILL: a new leader is elected (the time is
// reported), topic creation keeps working, the dead broker is fenced after its session timeout,
// and the restarted node catches up from a snapshot (the leader compacted its log meanwhile).
// Finally SIGTERM: a controlled shutdown fences the node at once, before any session timeout.
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildRecordBatch } from '../../src/protocol/record-batch.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';
import { KCAT, runOk } from '../clients/util.ts';
import { createTopic, eventually, metadata, quorumLeader, request, startCluster, type TestCluster } from './cluster-helper.ts';

const SESSION_TIMEOUT_MS = 3000;
let cluster: TestCluster;

before(async () => {
  cluster = await startCluster({
    set: {
      'controller.quorum.election.timeout.ms': '500',
      'controller.quorum.fetch.timeout.ms': '1000',
      'broker.heartbeat.interval.ms': '300',
      'broker.session.timeout.ms': String(SESSION_TIMEOUT_MS),
      // Small, so that a few topic creations make the leader snapshot and compact its log.
      'metadata.log.max.record.bytes.between.snapshots': '2048',
      'num.partitions': '1',
    },
  });
});

after(async () => {
  await cluster?.destroy();
});

/** A test whose failure carries what the nodes printed. */
function ctest(name: string, fn: (t: TestContext) => Promise<void>): void {
  test(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      throw new Error(`${(e as Error)?.message ?? e}\n${cluster.outputs()}`, { cause: e });
    }
  });
}

async function activeController(ids: number[]): Promise<{ leaderId: number; epoch: number }> {
  return eventually('an active controller', 15_000, async () => {
    for (const id of ids) {
      const q = await quorumLeader(cluster.member(id));
      if (q !== null && q.leaderId === id) return q;
    }
    return undefined;
  });
}

function leadersOf(md: Awaited<ReturnType<typeof metadata>>, topic: string): Map<number, number> {
  const t = md.topics.find((x) => x.name === topic);
  assert.ok(t !== undefined, `topic ${topic} in metadata`);
  return new Map(t.partitions.map((p) => [p.partitionIndex, p.leaderId]));
}

ctest('clients see three brokers and the active controller in Metadata', async () => {
  const { leaderId } = await activeController([1, 2, 3]);
  for (const m of cluster.members) {
    const md = await metadata(m.port);
    assert.deepEqual(md.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
    assert.deepEqual(md.brokers.map((b) => b.port).sort(), cluster.members.map((x) => x.port).sort());
    assert.equal(md.controllerId, leaderId);
  }
});

ctest('a topic created through a non-controller spreads 6 leaders over the three brokers, and each hosts its logs', async () => {
  const { leaderId } = await activeController([1, 2, 3]);
  const via = cluster.members.find((m) => m.id !== leaderId)!;
  const res = await createTopic(via.port, 'spread', 6);
  assert.equal(res.topics[0].errorCode, 0, res.topics[0].errorMessage ?? '');
  for (const m of cluster.members) {
    const leaders = leadersOf(await metadata(m.port, ['spread']), 'spread');
    assert.equal(leaders.size, 6);
    const perBroker = [1, 2, 3].map((id) => [...leaders.values()].filter((l) => l === id).length);
    assert.deepEqual(perBroker, [2, 2, 2], `leaders ${[...leaders]}`);
    for (const [p, l] of leaders) {
      // Each broker creates the logs of the partitions it hosts, and only those.
      const dir = join(cluster.member(l).dataDir, `spread-${p}`);
      await eventually(`log ${dir}`, 5000, async () => (existsSync(dir) ? true : undefined));
      for (const other of cluster.members) if (other.id !== l) assert.ok(!existsSync(join(other.dataDir, `spread-${p}`)));
    }
  }
});

ctest('kcat produces to and consumes from every partition; clients are routed to the leaders', async () => {
  for (let p = 0; p < 6; p++) {
    const values = Array.from({ length: 5 }, (_, i) => `p${p}-m${i}`);
    await runOk(KCAT, ['-b', cluster.bootstrap, '-P', '-t', 'spread', '-p', String(p), '-X', 'message.timeout.ms=15000'], {
      input: values.join('\n') + '\n', timeoutMs: 30_000,
    });
    const out = await runOk(KCAT, ['-b', cluster.bootstrap, '-C', '-t', 'spread', '-p', String(p), '-o', 'beginning', '-c', '5', '-e', '-q'], {
      timeoutMs: 30_000,
    });
    assert.deepEqual(out.stdout.toString().trim().split('\n'), values);
  }
});

ctest('a broker that does not lead a partition answers NOT_LEADER_OR_FOLLOWER', async () => {
  const leaders = leadersOf(await metadata(cluster.members[0].port, ['spread']), 'spread');
  const [partition, leader] = [...leaders][0];
  const other = cluster.members.find((m) => m.id !== leader)!;
  const records = buildRecordBatch({ records: [{ key: null, value: Buffer.from('x') }] });
  const res = await request(other.port, (c) => c.send(0, 7, {
    transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'spread', partitionData: [{ index: partition, records }] }],
  }));
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
});

ctest('Metadata auto-creates a topic through a non-controller', async () => {
  const { leaderId } = await activeController([1, 2, 3]);
  const via = cluster.members.find((m) => m.id !== leaderId)!;
  const md = await request(via.port, (c) => c.send(3, 4, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: 'auto-made' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }));
  assert.equal(md.topics[0].errorCode, 0);
  assert.equal(md.topics[0].partitions.length, 1);
});

let killed = -1;

ctest('kill -9 of the active controller: a new leader is elected and topic creation keeps working', async (t) => {
  const old = await activeController([1, 2, 3]);
  killed = old.leaderId;
  const survivors = [1, 2, 3].filter((id) => id !== killed);
  const t0 = performance.now();
  await cluster.kill(killed);
  const next = await activeController(survivors);
  const electionMs = Math.round(performance.now() - t0);
  t.diagnostic(`election after kill -9 of node ${killed}: node ${next.leaderId} leads epoch ${next.epoch} after ${electionMs} ms`);
  assert.ok(next.epoch > old.epoch);
  assert.notEqual(next.leaderId, killed);

  const res = await createTopic(cluster.member(survivors[0]).port, 'after-failover', 2);
  assert.equal(res.topics[0].errorCode, 0, res.topics[0].errorMessage ?? '');
  // Enough metadata for the leader to write snapshots and compact its log past the dead node.
  for (let i = 0; i < 12; i++) {
    const r = await createTopic(cluster.member(survivors[i % 2]).port, `filler-${i}`, 1);
    assert.equal(r.topics[0].errorCode, 0, r.topics[0].errorMessage ?? '');
  }
  for (const id of survivors) {
    const names = (await metadata(cluster.member(id).port)).topics.map((x) => x.name);
    assert.ok(names.includes('after-failover') && names.includes('filler-11'), `node ${id} sees the new topics`);
  }
});

ctest('the dead broker is fenced after broker.session.timeout.ms and its partitions lose their leader', async () => {
  const survivor = cluster.members.find((m) => m.id !== killed)!;
  const md = await eventually('the dead broker fenced', SESSION_TIMEOUT_MS + 10_000, async () => {
    const r = await metadata(survivor.port, ['spread']);
    return r.brokers.some((b) => b.nodeId === killed) ? undefined : r;
  });
  assert.deepEqual(md.brokers.map((b) => b.nodeId).sort(), [1, 2, 3].filter((id) => id !== killed));
  const t = md.topics[0];
  // RF 1: the only replica is gone, and an unclean election is not allowed.
  for (const p of t.partitions) if (p.replicaNodes[0] === killed) assert.equal(p.leaderId, -1);
});

ctest('the restarted node catches up from a snapshot fetched from the leader', async () => {
  await cluster.start(killed);
  const m = cluster.member(killed);
  const md = await metadata(m.port);
  const names = md.topics.map((x) => x.name);
  for (const name of ['spread', 'after-failover', 'filler-11']) assert.ok(names.includes(name), `${name} after restart`);
  assert.deepEqual(md.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
  assert.match(m.proc!.output(), /installed snapshot fetched from the leader/);
  // Unfenced again: it leads its partitions again, and what was written before the crash is there.
  const leaders = leadersOf(await metadata(m.port, ['spread']), 'spread');
  assert.equal([...leaders.values()].filter((l) => l === killed).length, 2);
  const p = [...leaders].find(([, l]) => l === killed)![0];
  const out = await runOk(KCAT, ['-b', cluster.bootstrap, '-C', '-t', 'spread', '-p', String(p), '-o', 'beginning', '-c', '5', '-e', '-q'], { timeoutMs: 30_000 });
  assert.equal(out.stdout.toString().trim().split('\n').length, 5);
});

ctest('SIGTERM: a controlled shutdown fences the node and moves its leaderships before it exits', async () => {
  const { leaderId } = await activeController([1, 2, 3]);
  const victim = [1, 2, 3].find((id) => id !== leaderId)!;
  const code = await cluster.stop(victim);
  assert.equal(code, 0);
  // At once, not a session timeout later.
  const md = await metadata(cluster.member(leaderId).port, ['spread']);
  assert.ok(!md.brokers.some((b) => b.nodeId === victim), 'fenced when it exited');
  for (const p of md.topics[0].partitions) assert.notEqual(p.leaderId, victim);
});
