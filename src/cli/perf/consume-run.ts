// The read loop of `brook perf consume`: polls until N records arrived or none came for
// `timeoutMs`, counting records, key+value bytes (what kafka-consumer-perf-test counts) and the
// Fetch requests the consumer sent. Time is measured from the start (after joining the group, when
// there is one) to the last record received, so the final quiet wait is not counted.
import type { Client } from '../../client/client.ts';
import type { Consumer } from '../../client/consumer.ts';
import { GroupConsumer } from '../../client/group/group-consumer.ts';
import { ApiKey } from '../../protocol/generated/api-index.ts';

export interface ConsumeLoad {
  /** Stop after this many records (Infinity: until the timeout). */
  records: number;
  /** Stop when no record arrived for this long. */
  timeoutMs: number;
  /** Called about every `windowMs` with the totals so far. */
  onWindow?: (records: number, bytes: number, seconds: number) => void;
  windowMs?: number;
}

export interface ConsumeResult {
  records: number;
  bytes: number;
  /** From the first poll to the last record received. */
  seconds: number;
  recordsPerSecond: number;
  mibPerSecond: number;
  /** Fetch requests sent (prefetching starts as soon as partitions are assigned). */
  fetches: number;
  /** Polls that returned records. */
  polls: number;
  /** The wait for the group's first assignment (0 without a group). */
  joinMs: number;
  /** Whether the run ended on the timeout before `records` were read. */
  timedOut: boolean;
}

const MIB = 1024 * 1024;

/**
 * Counts the Fetch requests sent through `client`'s node connections. The consumer does not count
 * them itself, so each connection the client hands out gets its send() wrapped, once.
 */
export function countFetches(client: Client): { readonly count: number } {
  const counter = { count: 0 };
  const wrapped = new WeakSet<object>();
  const node = client.node.bind(client);
  client.node = (nodeId) => {
    const conn = node(nodeId);
    if (!wrapped.has(conn)) {
      wrapped.add(conn);
      const send = conn.send.bind(conn);
      conn.send = ((apiKey, build, opts) => {
        if (apiKey === ApiKey.Fetch) counter.count++;
        return send(apiKey, build, opts);
      }) as typeof conn.send;
    }
    return conn;
  };
  return counter;
}

export async function runConsumeLoad(source: Consumer | GroupConsumer, fetches: { readonly count: number }, load: ConsumeLoad): Promise<ConsumeResult> {
  let joinMs = 0;
  const joinStart = performance.now();
  if (source instanceof GroupConsumer) {
    await source.start();
    joinMs = performance.now() - joinStart;
  }
  const start = performance.now();
  let lastAt = start;
  let records = 0;
  let bytes = 0;
  let polls = 0;
  const windowMs = load.windowMs ?? 5000;
  const timer = load.onWindow === undefined ? null : setInterval(() => load.onWindow!(records, bytes, (performance.now() - start) / 1000), windowMs);
  try {
    while (records < load.records) {
      const quiet = performance.now() - lastAt;
      if (quiet >= load.timeoutMs) break;
      const batch = await source.poll({ maxRecords: Math.min(load.records - records, 100_000), timeoutMs: Math.min(load.timeoutMs - quiet, 500) });
      if (batch.length === 0) continue;
      lastAt = performance.now();
      polls++;
      records += batch.length;
      for (const r of batch) bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
    }
  } finally {
    if (timer !== null) clearInterval(timer);
  }
  const seconds = (lastAt - start) / 1000;
  return {
    records, bytes, seconds,
    recordsPerSecond: seconds > 0 ? records / seconds : 0,
    mibPerSecond: seconds > 0 ? bytes / MIB / seconds : 0,
    fetches: fetches.count,
    polls, joinMs, timedOut: records < load.records && Number.isFinite(load.records),
  };
}
