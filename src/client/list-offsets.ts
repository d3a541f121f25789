// ListOffsets for many partitions at once, sent to each partition's leader: the earliest offset
// (timestamp -2), the latest (-1: the high watermark, or the last stable offset under
// read_committed from v2, KIP-98), the offset of the largest timestamp (-3, v7+, KIP-734), or the
// first offset whose timestamp is at or after a given time (v1+; -1 when there is none).
// v0 answers in old_style_offsets. Leadership errors are retried after a metadata refresh.
import { ApiKey } from '../protocol/generated/api-index.ts';
import { ErrorCode, isRetriable } from '../protocol/errors.ts';
import type { ListOffsetsResponse } from '../protocol/generated/list-offsets-response.ts';
import { ProtocolError } from '../protocol/reader.ts';
import type { Client } from './client.ts';
import { KafkaError, responseError } from './errors.ts';

export const LATEST = -1;
export const EARLIEST = -2;
export const MAX_TIMESTAMP = -3;

export interface OffsetQuery {
  topic: string;
  partition: number;
  /** LATEST, EARLIEST, MAX_TIMESTAMP, or a time in ms. */
  timestamp: number;
}

export interface OffsetAnswer {
  /** -1 when no record has a timestamp at or after the one asked for. */
  offset: number;
  timestamp: number;
}

function answersMatch(res: ListOffsetsResponse, asked: ReadonlyMap<string, OffsetQuery[]>): boolean {
  for (const t of res.topics) {
    const qs = asked.get(t.name);
    if (qs === undefined || t.partitions.some((p) => !qs.some((q) => q.partition === p.partitionIndex))) return false;
  }
  return true;
}

export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export async function listOffsets(client: Client, queries: readonly OffsetQuery[], readCommitted = false): Promise<Map<string, OffsetAnswer>> {
  const results = new Map<string, OffsetAnswer>();
  let remaining = [...queries];
  await client.retry(async () => {
    const byLeader = new Map<number, OffsetQuery[]>();
    for (const q of remaining) {
      const p = await client.partition(q.topic, q.partition);
      if (p.leader < 0) throw responseError(ErrorCode.LEADER_NOT_AVAILABLE, `${q.topic}-${q.partition}`);
      let list = byLeader.get(p.leader);
      if (list === undefined) byLeader.set(p.leader, (list = []));
      list.push(q);
    }
    const retry: OffsetQuery[] = [];
    let firstRetriable: KafkaError | null = null;
    await Promise.all([...byLeader].map(async ([leader, qs]) => {
      const topics = new Map<string, OffsetQuery[]>();
      for (const q of qs) {
        let l = topics.get(q.topic);
        if (l === undefined) topics.set(q.topic, (l = []));
        l.push(q);
      }
      let version = 0;
      const conn = client.node(leader);
      const ask = (): Promise<ListOffsetsResponse> => conn.send(ApiKey.ListOffsets, (v) => {
        version = v;
        return {
          replicaId: -1,
          isolationLevel: readCommitted ? 1 : 0,
          topics: [...topics].map(([name, ps]) => ({
            name,
            partitions: ps.map((q) => ({ partitionIndex: q.partition, currentLeaderEpoch: -1, timestamp: BigInt(q.timestamp), maxNumOffsets: 1 })),
          })),
        };
      });
      let res: ListOffsetsResponse;
      try {
        res = await ask();
        if (!answersMatch(res, topics)) throw new ProtocolError('ListOffsets answer does not match the request');
      } catch (e) {
        // librdkafka's mock cluster (2.0) writes leader_epoch as an int64 from v4 on, which
        // garbles every partition after the first: ask that node with v3 (no leader epoch).
        if (!(e instanceof ProtocolError) || version < 4) throw e;
        conn.capVersion(ApiKey.ListOffsets, 3);
        res = await ask();
      }
      for (const t of res.topics) {
        for (const p of t.partitions) {
          const q = qs.find((x) => x.topic === t.name && x.partition === p.partitionIndex);
          if (q === undefined) continue;
          if (p.errorCode !== 0) {
            const e = responseError(p.errorCode, `${t.name}-${p.partitionIndex}`);
            if (!isRetriable(p.errorCode)) throw e;
            firstRetriable ??= e;
            retry.push(q);
            continue;
          }
          const offset = version === 0 ? Number(p.oldStyleOffsets[0] ?? -1n) : Number(p.offset);
          results.set(tpKey(t.name, p.partitionIndex), { offset, timestamp: Number(p.timestamp) });
        }
      }
    }));
    remaining = retry;
    if (firstRetriable !== null) throw firstRetriable;
  }, async () => {
    await client.refreshMetadata([...new Set(remaining.map((q) => q.topic))], { autoCreate: false });
  });
  return results;
}
