// Fetch sessions (KIP-227). A full fetch (epoch 0) opens a session whose partitions the broker
// remembers; later incremental fetches (epoch > 0) send only the partitions whose fetch position
// changed, plus the ones to forget, and the response carries only partitions with news (records,
// a moved high watermark / log start offset, or an error). Epoch -1 closes the session.

export interface SessionPartition {
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  // What the last response told the client, to decide whether an incremental response includes it.
  sentHighWatermark: number;
  sentLogStartOffset: number;
}

export class FetchSession {
  readonly id: number;
  epoch = 1; // the epoch the next incremental request must carry
  readonly partitions = new Map<string, SessionPartition>();
  lastUsed: number;

  constructor(id: number, now: number) {
    this.id = id;
    this.lastUsed = now;
  }
}

export const sessionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  private readonly maxSessions: number;
  private nextId = 1;

  constructor(maxSessions: number) {
    this.maxSessions = maxSessions;
  }

  create(now: number): FetchSession | null {
    if (this.sessions.size >= this.maxSessions) {
      // Evict the least recently used session (Map keeps insertion order; touch() re-inserts).
      const oldest = this.sessions.keys().next().value!;
      this.sessions.delete(oldest);
    }
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    const s = new FetchSession(id, now);
    this.sessions.set(id, s);
    return s;
  }

  get(id: number, now: number): FetchSession | undefined {
    const s = this.sessions.get(id);
    if (s !== undefined) {
      s.lastUsed = now;
      this.sessions.delete(id);
      this.sessions.set(id, s);
    }
    return s;
  }

  remove(id: number): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}
