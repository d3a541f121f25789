// A consumer in a consumer group (classic protocol). A background loop keeps the membership:
// join and sync, then heartbeat every heartbeatIntervalMs; when the coordinator announces a
// rebalance it rejoins. Eager assignors (range) revoke everything before rejoining; with only
// cooperative assignors (KIP-429) the member keeps its partitions across the rebalance, revokes
// just those taken away, and rejoins once more so they can be handed over. Newly assigned
// partitions start at the group's committed offset, else at `defaultOffset`/autoOffsetReset.
// Offsets of records returned by poll() are committed every autoCommitIntervalMs, before
// partitions are revoked and on close (unless autoCommit is off: then call commit()).
import type { Client, ClientOptions } from '../client.ts';
import { Client as ClientClass } from '../client.ts';
import { BrokerUnreachableError, ClientClosedError, KafkaError, isRetriableError } from '../errors.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Consumer, type ConsumerOptions, type ConsumerRecord, type OffsetSpec, type TopicPartition } from '../consumer.ts';
import { tpKey } from '../list-offsets.ts';
import { commitOffsets, fetchOffsets } from '../admin-groups.ts';
import { ASSIGNORS, rebalanceProtocolOf, type Assignor } from './assignors.ts';
import type { Assignment } from './consumer-protocol.ts';
import { GroupMembership } from './membership.ts';

/** How long to wait before asking again for offsets a transaction still holds (retry.backoff.ms). */
const UNSTABLE_RETRY_MS = 100;

export interface GroupConsumerOptions extends ConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** Assignor names in order of preference. Default ['range', 'cooperative-sticky'] (Kafka's). */
  assignors?: readonly string[];
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  groupInstanceId?: string | null;
  rackId?: string | null;
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** Where partitions without a committed offset start (default: autoOffsetReset). */
  defaultOffset?: OffsetSpec;
  onAssigned?: (partitions: TopicPartition[]) => void;
  onRevoked?: (partitions: TopicPartition[]) => void;
}

/** Consecutive failed rebalances (about one per retry.backoff.max.ms) before giving up. */
const MAX_REJOIN_FAILURES = 30;

/** A commit refused because the group moved on: rejoin to get a current generation. */
const REJOIN_ON_COMMIT: ReadonlySet<number> = new Set([ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID]);

function flatten(a: Assignment): TopicPartition[] {
  return [...a].flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
}

export class GroupConsumer {
  readonly client: Client;
  readonly groupId: string;
  private readonly ownsClient: boolean;
  private readonly consumer: Consumer;
  private readonly membership: GroupMembership;
  private readonly assignors: Assignor[];
  private readonly o: GroupConsumerOptions & { heartbeatIntervalMs: number; autoCommitIntervalMs: number; autoCommit: boolean };
  private topics: string[];
  private owned: Assignment = new Map();
  /** The offset last committed per partition, so unchanged positions are not committed again. */
  private readonly committed = new Map<string, number>();
  private rejoin = true;
  private fatal: Error | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private lastCommit = Date.now();
  private joinedOnce: { resolve: () => void; promise: Promise<void> };

  constructor(client: Client | ClientOptions, opts: GroupConsumerOptions) {
    this.ownsClient = !(client instanceof ClientClass);
    this.client = client instanceof ClientClass ? client : new ClientClass(client);
    this.groupId = opts.groupId;
    this.topics = [...opts.topics];
    this.o = {
      ...opts,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 3000,
      autoCommitIntervalMs: opts.autoCommitIntervalMs ?? 5000,
      autoCommit: opts.autoCommit ?? true,
    };
    this.assignors = (opts.assignors ?? ['range', 'cooperative-sticky']).map((name) => {
      const a = ASSIGNORS.get(name);
      if (a === undefined) throw new Error(`unknown assignor '${name}' (known: ${[...ASSIGNORS.keys()].join(', ')})`);
      return a;
    });
    this.consumer = new Consumer(this.client, opts);
    this.membership = new GroupMembership(this.client, {
      groupId: opts.groupId,
      sessionTimeoutMs: opts.sessionTimeoutMs ?? 45_000,
      rebalanceTimeoutMs: opts.rebalanceTimeoutMs ?? 60_000,
      groupInstanceId: opts.groupInstanceId ?? null,
      assignors: this.assignors,
      rackId: opts.rackId ?? null,
    });
    let resolve!: () => void;
    this.joinedOnce = { promise: new Promise<void>((r) => (resolve = r)), resolve };
  }

  get memberId(): string {
    return this.membership.memberId;
  }

  get generationId(): number {
    return this.membership.generationId;
  }

  /** The assignor the coordinator chose for the current generation. */
  get protocol(): string | null {
    return this.membership.protocol;
  }

  assignment(): TopicPartition[] {
    return flatten(this.owned);
  }

  /** Starts the membership loop (poll() does it too); resolves once the first assignment is in. */
  async start(): Promise<void> {
    this.ensureRunning();
    await Promise.race([this.joinedOnce.promise, this.running]);
    if (this.fatal) throw this.fatal;
  }

  /** Changes the subscription; the member rejoins. */
  subscribe(topics: readonly string[]): void {
    this.topics = [...topics];
    this.requestRejoin();
  }

  async poll(opts: { maxRecords?: number; timeoutMs?: number } = {}): Promise<ConsumerRecord[]> {
    if (this.closed) throw new ClientClosedError('consumer');
    this.ensureRunning();
    if (this.fatal) throw this.fatal;
    const records = await this.consumer.poll(opts);
    if (this.fatal) throw this.fatal;
    return records;
  }

  seek(topic: string, partition: number, offset: OffsetSpec): void {
    this.consumer.seek(topic, partition, offset);
  }

  position(topic: string, partition: number): number | null {
    return this.consumer.position(topic, partition);
  }

  atEnd(topic: string, partition: number): boolean {
    return this.consumer.atEnd(topic, partition);
  }

  /**
   * Commits the offsets given, or else the position of every owned partition (the offset after
   * the last record poll() returned; Kafka's consumer commits the same) that changed since the
   * last commit.
   */
  async commit(offsets?: readonly (TopicPartition & { offset: number })[]): Promise<void> {
    const list = offsets ?? this.positions(flatten(this.owned)).filter((o) => this.committed.get(tpKey(o.topic, o.partition)) !== o.offset);
    if (list.length === 0) return;
    await commitOffsets(this.client, this.groupId, list, {
      generationId: this.membership.generationId,
      memberId: this.membership.memberId,
      groupInstanceId: this.o.groupInstanceId ?? null,
    });
    for (const o of list) this.committed.set(tpKey(o.topic, o.partition), o.offset);
  }

  /** Commits (with autoCommit), leaves the group and closes. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.wake?.();
      await this.running?.catch(() => {});
      if (this.o.autoCommit && this.fatal === null) await this.commit().catch(() => {});
      await this.membership.leave();
      await this.consumer.close();
      if (this.ownsClient) this.client.close();
    })();
    return this.closing;
  }

  // --- the membership loop --------------------------------------------------------------------

  private ensureRunning(): void {
    if (this.running !== null) return;
    this.running = this.loop().catch((e) => {
      this.fatal = e as Error;
      this.consumer.wakeup();
    });
  }

  private requestRejoin(): void {
    this.rejoin = true;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      if (this.rejoin) {
        try {
          await this.rebalance();
          failures = 0;
        } catch (e) {
          // Retried (the coordinator moves, the cluster restarts) for a bounded time, then fatal.
          if ((!isRetriableError(e) && !(e instanceof BrokerUnreachableError)) || ++failures > MAX_REJOIN_FAILURES) throw e;
          this.rejoin = true;
          await this.sleep(this.client.retryPolicy.backoffMaxMs);
          continue;
        }
        this.joinedOnce.resolve();
        continue;
      }
      await this.sleep(this.o.heartbeatIntervalMs);
      if (this.closed) break;
      if (this.o.autoCommit && Date.now() - this.lastCommit >= this.o.autoCommitIntervalMs) await this.autoCommit();
      let outcome;
      try {
        outcome = await this.membership.heartbeat();
      } catch (e) {
        if (e instanceof KafkaError && !e.retriable) throw e;
        continue;
      }
      if (outcome === 'rebalance') this.rejoin = true;
      else if (outcome === 'fenced') {
        // The coordinator dropped us: our partitions may already be someone else's.
        await this.revoke(flatten(this.owned), false);
        this.owned = new Map();
        this.membership.reset();
        this.rejoin = true;
      }
    }
  }

  private async rebalance(): Promise<void> {
    this.rejoin = false;
    const cooperative = rebalanceProtocolOf(this.assignors) === 'cooperative';
    if (!cooperative && this.owned.size > 0) {
      await this.revoke(flatten(this.owned), true);
      this.owned = new Map();
    }
    const gen = await this.membership.joinAndSync(this.topics, this.owned);
    const before = new Set(flatten(this.owned).map((p) => tpKey(p.topic, p.partition)));
    const after = flatten(gen.assignment);
    const afterKeys = new Set(after.map((p) => tpKey(p.topic, p.partition)));
    const revoked = flatten(this.owned).filter((p) => !afterKeys.has(tpKey(p.topic, p.partition)));
    const added = after.filter((p) => !before.has(tpKey(p.topic, p.partition)));
    if (revoked.length > 0) {
      await this.revoke(revoked, true);
      // KIP-429: rejoin so the revoked partitions can go to their new owner.
      if (cooperative) this.rejoin = true;
    }
    this.owned = gen.assignment;
    if (added.length > 0) await this.assign(added);
  }

  private async assign(added: TopicPartition[]): Promise<void> {
    const byTopic = new Map<string, number[]>();
    for (const p of added) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    let committed = await fetchOffsets(this.client, this.groupId, topics, { requireStable: true });
    // KIP-447: UNSTABLE_OFFSET_COMMIT means a transaction holds a commit for the partition; its
    // position is known once the transaction ends, so ask again (as Kafka's consumers do) rather
    // than start from the older offset or the reset policy.
    while (!this.closed && committed.some((c) => c.error?.code === ErrorCode.UNSTABLE_OFFSET_COMMIT)) {
      await new Promise((r) => setTimeout(r, UNSTABLE_RETRY_MS));
      committed = await fetchOffsets(this.client, this.groupId, topics, { requireStable: true });
    }
    const start = new Map(committed.filter((c) => c.error === null && c.offset >= 0).map((c) => [tpKey(c.topic, c.partition), c.offset]));
    for (const [key, offset] of start) this.committed.set(key, offset);
    this.consumer.addAssignment(added.map((p) => ({ ...p, offset: start.get(tpKey(p.topic, p.partition)) ?? this.o.defaultOffset })));
    this.o.onAssigned?.(added);
  }

  private async revoke(partitions: TopicPartition[], commitFirst: boolean): Promise<void> {
    if (commitFirst && this.o.autoCommit) {
      await this.commit(this.positions(partitions).filter((o) => this.committed.get(tpKey(o.topic, o.partition)) !== o.offset)).catch(() => {});
    }
    this.consumer.unassign(partitions);
    for (const p of partitions) this.committed.delete(tpKey(p.topic, p.partition));
    this.o.onRevoked?.(partitions);
  }

  /** Current positions of the partitions that have one (not those still being resolved). */
  private positions(partitions: readonly TopicPartition[]): (TopicPartition & { offset: number })[] {
    const out: (TopicPartition & { offset: number })[] = [];
    for (const p of partitions) {
      const offset = this.consumer.position(p.topic, p.partition);
      if (offset !== null) out.push({ ...p, offset });
    }
    return out;
  }

  private async autoCommit(): Promise<void> {
    this.lastCommit = Date.now();
    try {
      await this.commit();
    } catch (e) {
      if (e instanceof KafkaError && REJOIN_ON_COMMIT.has(e.code)) this.rejoin = true;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(t);
        if (self.wake === done) self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }
}
