// Turns the positions people ask for into offsets, with ListOffsets at each partition's leader:
// earliest (the log start), latest (the high watermark, or the last stable offset under
// read_committed), N before the end (never before the log start), and a time (the first offset
// whose timestamp is at or after it; the end when no record is that recent).
import type { Client } from './client.ts';
import { EARLIEST, LATEST, listOffsets, tpKey, type OffsetQuery } from './list-offsets.ts';

/** earliest, latest, an absolute offset, a time (first offset at or after it), or N before the end. */
export type OffsetSpec = 'earliest' | 'latest' | number | { timestamp: number } | { fromEnd: number };

export interface PositionRequest {
  topic: string;
  partition: number;
  spec: OffsetSpec;
}

const needsLatest = (s: OffsetSpec): boolean => s === 'latest' || (typeof s === 'number' && s < 0 && s !== EARLIEST) || typeof s === 'object';
const needsEarliest = (s: OffsetSpec): boolean => s === 'earliest' || s === EARLIEST || (typeof s === 'object' && 'fromEnd' in s);

/** The offset to start at for each request, keyed by tpKey(topic, partition). */
export async function resolveOffsets(client: Client, requests: readonly PositionRequest[], readCommitted: boolean): Promise<Map<string, number>> {
  const ask = (pick: (r: PositionRequest) => boolean, timestamp: (r: PositionRequest) => number): Promise<Map<string, { offset: number }>> => {
    const qs: OffsetQuery[] = requests.filter(pick).map((r) => ({ topic: r.topic, partition: r.partition, timestamp: timestamp(r) }));
    return qs.length > 0 ? listOffsets(client, qs, readCommitted) : Promise.resolve(new Map());
  };
  const isTime = (r: PositionRequest): boolean => typeof r.spec === 'object' && 'timestamp' in r.spec;
  const [latest, earliest, byTime] = await Promise.all([
    ask((r) => needsLatest(r.spec), () => LATEST),
    ask((r) => needsEarliest(r.spec), () => EARLIEST),
    ask(isTime, (r) => (r.spec as { timestamp: number }).timestamp),
  ]);
  const out = new Map<string, number>();
  for (const r of requests) {
    const key = tpKey(r.topic, r.partition);
    const end = latest.get(key)?.offset ?? 0;
    const start = earliest.get(key)?.offset ?? 0;
    const s = r.spec;
    let offset: number;
    if (typeof s === 'number') offset = s >= 0 ? s : s === EARLIEST ? start : end;
    else if (s === 'earliest') offset = start;
    else if (s === 'latest') offset = end;
    else if ('fromEnd' in s) offset = Math.max(start, end - s.fromEnd);
    else {
      const t = byTime.get(key)?.offset ?? -1;
      offset = t < 0 ? end : t;
    }
    out.set(key, offset);
  }
  return out;
}
