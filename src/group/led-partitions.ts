// The partitions of an internal topic this node leads, each with a runtime loaded from its log:
// what the group coordinator (__consumer_offsets) and the transaction coordinator
// (__transaction_state) both keep. A runtime is started for every led partition and dropped when
// the leadership (or its epoch) moves; a request for a partition whose runtime is missing waits
// once for the next metadata update (its topic may just have been created).
import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { lastOffsetOf, splitBatches } from '../protocol/record-batch.ts';
import type { MetadataImage } from '../controller/image.ts';

/** How long a request waits for the metadata that creates a just-created topic's logs. */
const METADATA_WAIT_MS = 2000;

export type RuntimeState = 'loading' | 'active' | 'failed' | 'closed';

/** The error a request gets from a runtime in `state`, or null when it can serve it. */
export function unavailableIn(state: RuntimeState): KafkaError | null {
  switch (state) {
    case 'active': return null;
    case 'loading': return new KafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    case 'failed': return new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    case 'closed': return new KafkaError(ErrorCode.NOT_COORDINATOR);
  }
}

const LOAD_CHUNK_BYTES = 1 << 20;

/** What a runtime reads its state from (PartitionLog provides it). */
export interface LoadableLog {
  readonly logStartOffset: number;
  readonly highWatermark: number;
  read(offset: number, maxBytes: number, opts: { maxOffset: number; minOneBatch: boolean }): Promise<{ records: Buffer }>;
}

/**
 * Loading a runtime: every batch from the log start to the high watermark as it was when loading
 * began, in order, read in chunks; stops early once `loading()` turns false (the runtime closed).
 */
export async function forEachLoadedBatch(log: LoadableLog, loading: () => boolean, onBatch: (records: Buffer, pos: number, size: number) => void): Promise<void> {
  let offset = log.logStartOffset;
  const end = log.highWatermark;
  while (offset < end && loading()) {
    const { records } = await log.read(offset, LOAD_CHUNK_BYTES, { maxOffset: end, minOneBatch: true });
    if (records.length === 0) break;
    for (const { pos, size } of splitBatches(records, true)) {
      offset = lastOffsetOf(records, pos) + 1;
      onBatch(records, pos, size);
    }
  }
}

export interface PartitionRuntime {
  readonly leaderEpoch: number;
  readonly state: string;
  readonly loaded: Promise<void>;
  close(): void;
  /** Why requests can't be served now (loading, failed, closed), or null when active. */
  unavailable(): KafkaError | null;
}

export interface LedPartitionsHost {
  readonly image: MetadataImage;
  readonly settings: { nodeId: number };
}

export class LedPartitions<R extends PartitionRuntime> {
  readonly #topic: string;
  readonly #host: LedPartitionsHost;
  /** Creates (not registers) the runtime of a led partition; null while its log does not exist yet. */
  readonly #start: (partition: number) => R | null;
  readonly #runtimes = new Map<number, R>();
  #metadataWaiters: (() => void)[] = [];
  #closed = false;

  constructor(topic: string, host: LedPartitionsHost, start: (partition: number) => R | null) {
    this.#topic = topic;
    this.#host = host;
    this.#start = start;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get(partition: number): R | undefined {
    return this.#runtimes.get(partition);
  }

  values(): IterableIterator<R> {
    return this.#runtimes.values();
  }

  entries(): IterableIterator<[number, R]> {
    return this.#runtimes.entries();
  }

  /** Forgets `rt` (a failed runtime) if it is still the partition's; the next reconcile or request starts a new one. */
  drop(partition: number, rt: R): void {
    if (this.#runtimes.get(partition) === rt) this.#runtimes.delete(partition);
  }

  /** The partition's runtime, started now if this node leads it and its log exists. */
  getOrStart(partition: number): R | undefined {
    return this.#runtimes.get(partition) ?? this.#startLoad(partition);
  }

  /** Wakes requests waiting for metadata, then reconciles. Call after each metadata change. */
  onMetadata(): void {
    for (const w of this.#metadataWaiters.splice(0)) w();
    this.reconcile();
  }

  /** Starts runtimes for led partitions without one (new, or dropped after a failure); closes the others. */
  reconcile(): void {
    if (this.#closed) return;
    const topic = this.#host.image.topics.get(this.#topic);
    for (const [p, rt] of this.#runtimes) {
      const part = topic?.partitions.get(p);
      if (part === undefined || part.leader !== this.#host.settings.nodeId || part.leaderEpoch !== rt.leaderEpoch) {
        rt.close();
        this.#runtimes.delete(p);
      }
    }
    if (topic === undefined) return;
    for (const [p, part] of topic.partitions) {
      if (part.leader === this.#host.settings.nodeId && !this.#runtimes.has(p)) this.#startLoad(p);
    }
  }

  close(): void {
    this.#closed = true;
    for (const rt of this.#runtimes.values()) rt.close();
    this.#runtimes.clear();
  }

  /** The loaded runtime of `partition`, waiting for a load in progress; throws a KafkaError otherwise. */
  async runtimeFor(partition: number): Promise<R> {
    if (this.#closed) throw new KafkaError(ErrorCode.NOT_COORDINATOR);
    let rt = this.#runtimes.get(partition);
    if (rt === undefined) {
      const part = this.#host.image.topics.get(this.#topic)?.partitions.get(partition);
      if (part === undefined || part.leader !== this.#host.settings.nodeId) throw new KafkaError(ErrorCode.NOT_COORDINATOR);
      rt = this.#startLoad(partition);
      if (rt === undefined) {
        // The topic was just created: its logs appear once the broker applies the new metadata.
        await this.#nextMetadata(METADATA_WAIT_MS);
        rt = this.getOrStart(partition);
        if (rt === undefined) throw new KafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
      }
    }
    if (rt.state === 'loading') await rt.loaded.catch(() => {});
    const err = rt.unavailable();
    if (err !== null) throw err;
    return rt;
  }

  #startLoad(partition: number): R | undefined {
    const rt = this.#start(partition);
    if (rt === null) return undefined;
    this.#runtimes.set(partition, rt);
    return rt;
  }

  #nextMetadata(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.#metadataWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
