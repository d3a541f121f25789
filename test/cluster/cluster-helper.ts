// Spawns an N-node Brook cluster of `brook serve` child processes on free ports (every node
// broker + controller, node ids 1..N, each with a PLAINTEXT and a CONTROLLER listener), for tests
// that kill -9 and restart nodes. Also small protocol helpers the cluster tests share.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/broker/server.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { spawnBroker, type SpawnedBroker } from '../helpers/broker.ts';

export interface ClusterMember {
  readonly id: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  proc: SpawnedBroker | null;
}

export interface TestCluster {
  readonly members: ClusterMember[];
  readonly bootstrap: string;
  member(id: number): ClusterMember;
  /** (Re)starts a member with its data directory and ports; resolves once it is listening. */
  start(id: number): Promise<void>;
  /** kill -9. */
  kill(id: number): Promise<void>;
  /** SIGTERM and wait for exit (controlled shutdown). */
  stop(id: number): Promise<number | null>;
  /** Kills every running member and removes the data directories. */
  destroy(): Promise<void>;
  /** The last lines each running member printed (for failure messages). */
  outputs(lines?: number): string;
}

async function startClusterOnce(opts: { nodes?: number; set?: Record<string, string> } = {}): Promise<TestCluster> {
  const n = opts.nodes ?? 3;
  const members: ClusterMember[] = [];
  // The kernel may hand the same free port out twice in a row: insist on distinct ones.
  const taken = new Set<number>();
  const distinctPort = async (): Promise<number> => {
    for (;;) {
      const p = await freePort('127.0.0.1');
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  for (let id = 1; id <= n; id++) {
    members.push({
      id,
      port: await distinctPort(),
      controllerPort: await distinctPort(),
      dataDir: await mkdtemp(join(tmpdir(), `brook-cluster-${id}-`)),
      proc: null,
    });
  }
  const voters = members.map((m) => `${m.id}@127.0.0.1:${m.controllerPort}`).join(',');
  const member = (id: number) => {
    const m = members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  };
  const start = async (id: number) => {
    const m = member(id);
    m.proc = await spawnBroker({
      dataDir: m.dataDir,
      port: m.port,
      set: {
        'process.roles': 'broker,controller',
        'node.id': String(m.id),
        'controller.quorum.voters': voters,
        'listeners': `PLAINTEXT://127.0.0.1:${m.port},CONTROLLER://127.0.0.1:${m.controllerPort}`,
        'controller.listener.names': 'CONTROLLER',
        ...opts.set,
      },
    });
  };
  const cluster: TestCluster = {
    members,
    bootstrap: members.map((m) => `127.0.0.1:${m.port}`).join(','),
    member,
    start,
    async kill(id) {
      const m = member(id);
      await m.proc?.kill();
      m.proc = null;
    },
    async stop(id) {
      const m = member(id);
      const code = (await m.proc?.stop()) ?? null;
      m.proc = null;
      return code;
    },
    outputs(lines = 40) {
      return members.map((m) => `--- node ${m.id}${m.proc === null ? ' (not running)' : ''}\n${(m.proc?.output() ?? '').split('\n').slice(-lines).join('\n')}`).join('\n');
    },
    async destroy() {
      await Promise.all(members.map(async (m) => {
        await m.proc?.kill().catch(() => undefined);
        m.proc = null;
      }));
      await Promise.all(members.map((m) => rm(m.dataDir, { recursive: true, force: true })));
    },
  };
  // All at once: a node waits for a quorum before it listens for clients. Every start is settled
  // before cleaning up, so a node that started while another failed is killed too.
  const results = await Promise.allSettled(members.map((m) => start(m.id)));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await cluster.destroy();
    throw (failed as PromiseRejectedResult).reason;
  }
  return cluster;
}

/**
 * Starts a cluster on free ports. Ports are picked before the nodes bind them, so a port can be
 * taken meanwhile by a test running in parallel: a failed start is retried on fresh ports.
 */
export async function startCluster(opts: { nodes?: number; set?: Record<string, string> } = {}): Promise<TestCluster> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startClusterOnce(opts);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/** Sends one request on a fresh connection and closes it. */
export async function request<R>(port: number, fn: (c: KafkaConnection) => Promise<R>): Promise<R> {
  const c = await KafkaConnection.connect('127.0.0.1', port, { clientId: 'cluster-test', timeoutMs: 5000 });
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** DescribeQuorum on a node's controller listener: its view if it leads, else null. */
export async function quorumLeader(m: ClusterMember): Promise<{ leaderId: number; epoch: number; highWatermark: number } | null> {
  try {
    const r = await request(m.controllerPort, (c) => c.send(55, 1, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] }));
    const p = r.topics[0]?.partitions[0];
    if (r.errorCode !== 0 || p === undefined || p.errorCode !== 0) return null;
    return { leaderId: p.leaderId, epoch: p.leaderEpoch, highWatermark: Number(p.highWatermark) };
  } catch {
    return null;
  }
}

/** Polls until `fn` returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function metadata(port: number, topics: string[] | null = null) {
  return request(port, (c) => c.send(3, 12, {
    topics: topics === null ? null : topics.map((name) => ({ topicId: '00000000-0000-0000-0000-000000000000', name })),
    allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
  }));
}

export function createTopic(port: number, name: string, numPartitions: number, replicationFactor = 1) {
  return request(port, (c) => c.send(19, 7, {
    topics: [{ name, numPartitions, replicationFactor, assignments: [], configs: [] }], timeoutMs: 30_000, validateOnly: false,
  }));
}
