// A GroupShard driven the way the runtime drives it — every record is encoded, decoded and
// replayed, answers are sent after — with a ManualTimer for time and counter-based member ids.
import { GroupShard, type RequestMeta, type TopicInfo } from '../../src/group/shard.ts';
import { ManualTimer } from '../../src/group/timer.ts';
import { DEFAULT_GROUP_CONFIG, type GroupConfig } from '../../src/group/group-config.ts';
import { decodeRecord, encodeRecord, type CoordinatorRecord } from '../../src/group/records.ts';
import type { Result } from '../../src/group/result.ts';
import { createJoinGroupRequest, type JoinGroupRequest } from '../../src/protocol/generated/join-group-request.ts';
import type { JoinGroupResponse } from '../../src/protocol/generated/join-group-response.ts';
import { createSyncGroupRequest, type SyncGroupRequest } from '../../src/protocol/generated/sync-group-request.ts';
import type { SyncGroupResponse } from '../../src/protocol/generated/sync-group-response.ts';
import { createHeartbeatRequest, type HeartbeatRequest } from '../../src/protocol/generated/heartbeat-request.ts';
import { createLeaveGroupRequest, type LeaveGroupRequest } from '../../src/protocol/generated/leave-group-request.ts';
import { createOffsetCommitRequest, type OffsetCommitRequest } from '../../src/protocol/generated/offset-commit-request.ts';
import { encodeSubscription } from '../../src/group/consumer-protocol.ts';

export const TEST_CONFIG: GroupConfig = { ...DEFAULT_GROUP_CONFIG, numPartitions: 1, initialRebalanceDelayMs: 0 };

/** A parked or answered request: `response` is set once the answer is sent. */
export interface Pending<T> {
  response: T | undefined;
  count: number;
}

export class Harness {
  readonly timer: ManualTimer;
  readonly config: GroupConfig;
  readonly topics = new Map<string, TopicInfo>();
  shard: GroupShard;
  /** Every record "appended", in order. */
  readonly log: CoordinatorRecord[] = [];
  readonly lines: string[] = [];
  #ids = 0;

  constructor(config: Partial<GroupConfig> = {}, topics: Record<string, number> = { t: 6, u: 3 }) {
    this.config = { ...TEST_CONFIG, ...config };
    this.timer = new ManualTimer();
    this.timer.sink = (r) => this.apply(r);
    for (const [name, n] of Object.entries(topics)) this.addTopic(name, n);
    this.shard = this.#newShard();
  }

  addTopic(name: string, numPartitions: number): TopicInfo {
    const id = `00000000-0000-0000-0000-${String(this.topics.size + 1).padStart(12, '0')}`;
    const t = { id, name, numPartitions };
    this.topics.set(name, t);
    return t;
  }

  #newShard(): GroupShard {
    return new GroupShard(0, {
      config: this.config,
      timer: this.timer,
      topics: {
        byName: (n) => this.topics.get(n),
        byId: (id) => [...this.topics.values()].find((t) => t.id === id),
      },
      newUuid: () => `uuid${++this.#ids}`,
      log: (l) => this.lines.push(l),
    });
  }

  /** What the runtime does with a result: append (here: encode/decode), replay, then answer. */
  apply<T>(r: Result<T>): T {
    for (const rec of r.records) {
      const enc = encodeRecord(rec);
      const dec = decodeRecord(enc.key, enc.value);
      if (dec === null) throw new Error(`record did not decode: ${rec.type}`);
      this.log.push(dec);
      this.shard.replay(dec);
    }
    for (const d of r.deliveries) d.send();
    return r.response;
  }

  /** A new shard rebuilt from the records appended so far (a coordinator failover or restart). */
  reload(): GroupShard {
    for (const k of this.timer.keys()) this.timer.cancel(k);
    this.shard = this.#newShard();
    for (const r of this.log) this.shard.replay(r);
    this.shard.onLoaded();
    return this.shard;
  }

  advance(ms: number): void {
    this.timer.advance(ms);
  }

  join(init: Partial<JoinGroupRequest> = {}, meta: Partial<RequestMeta> = {}): Pending<JoinGroupResponse> {
    const p: Pending<JoinGroupResponse> = { response: undefined, count: 0 };
    const req = createJoinGroupRequest({
      groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: encodeSubscription(['t']) }],
      ...init,
    });
    this.apply(this.shard.joinGroup(req, { version: 5, clientId: 'c', clientHost: '/127.0.0.1', ...meta }, (r) => {
      p.response = r;
      p.count++;
    }));
    return p;
  }

  /** Joins as a new dynamic member (two round trips from v4) and returns the member id. */
  joinNew(init: Partial<JoinGroupRequest> = {}, meta: Partial<RequestMeta> = {}): { memberId: string; join: Pending<JoinGroupResponse> } {
    const first = this.join(init, meta);
    const memberId = first.response!.memberId;
    return { memberId, join: this.join({ ...init, memberId }, meta) };
  }

  sync(init: Partial<SyncGroupRequest>, version = 3): Pending<SyncGroupResponse> {
    const p: Pending<SyncGroupResponse> = { response: undefined, count: 0 };
    const req = createSyncGroupRequest({ groupId: 'g', ...init });
    this.apply(this.shard.syncGroup(req, { version, clientId: 'c', clientHost: '/127.0.0.1' }, (r) => {
      p.response = r;
      p.count++;
    }));
    return p;
  }

  heartbeat(init: Partial<HeartbeatRequest>): number {
    return this.apply(this.shard.heartbeat(createHeartbeatRequest({ groupId: 'g', ...init }))).errorCode;
  }

  leave(init: Partial<LeaveGroupRequest>, version = 3) {
    return this.apply(this.shard.leaveGroup(createLeaveGroupRequest({ groupId: 'g', ...init }), { version, clientId: 'c', clientHost: '/127.0.0.1' }));
  }

  commit(init: Partial<OffsetCommitRequest>, version = 8) {
    return this.apply(this.shard.commitOffsets(createOffsetCommitRequest({ groupId: 'g', ...init }), { version, clientId: 'c', clientHost: '/127.0.0.1' }));
  }

  /** Commit one partition's offset; returns its error code. */
  commitOne(topic: string, partition: number, offset: bigint, init: Partial<OffsetCommitRequest> = {}, version = 8, extra: { metadata?: string | null; leaderEpoch?: number } = {}): number {
    const res = this.commit({
      ...init,
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: extra.leaderEpoch ?? -1, commitTimestamp: -1n, committedMetadata: extra.metadata === undefined ? '' : extra.metadata }] }],
    }, version);
    return res.topics[0].partitions[0].errorCode;
  }

  fetchOne(topic: string, partition: number, groupId = 'g') {
    return this.shard.fetchOffsets(groupId, [{ name: topic, partitionIndexes: [partition] }]).topics[0].partitions[0];
  }

  state(groupId = 'g'): string | undefined {
    return this.shard.groups.get(groupId)?.state;
  }

  /** A stable group of `n` dynamic members; returns their ids, leader first, and the generation. */
  stableGroup(n: number, init: Partial<JoinGroupRequest> = {}): { ids: string[]; generation: number; leader: string } {
    const joins: { memberId: string; join: Pending<JoinGroupResponse> }[] = [];
    for (let i = 0; i < n; i++) {
      const j = this.joinNew(init);
      joins.push(j);
      // Earlier members must rejoin for the new generation.
      for (const prev of joins.slice(0, -1)) {
        if (prev.join.response !== undefined && this.state() === 'PreparingRebalance') prev.join = this.join({ ...init, memberId: prev.memberId });
      }
    }
    const r = joins[0].join.response!;
    const leader = r.leader;
    const ids = [leader, ...joins.map((j) => j.memberId).filter((id) => id !== leader)];
    const assignments = ids.map((memberId, i) => ({ memberId, assignment: Buffer.from(`a${i}`) }));
    const syncs = ids.map((memberId) => (memberId === leader ? null : this.sync({ memberId, generationId: r.generationId })));
    this.sync({ memberId: leader, generationId: r.generationId, assignments });
    for (const s of syncs) if (s !== null && s.response?.errorCode !== 0) throw new Error('follower sync failed');
    return { ids, generation: r.generationId, leader };
  }
}

import { createConsumerGroupHeartbeatRequest, type ConsumerGroupHeartbeatRequest } from '../../src/protocol/generated/consumer-group-heartbeat-request.ts';
import type { ConsumerGroupHeartbeatResponse } from '../../src/protocol/generated/consumer-group-heartbeat-response.ts';

/** partition lists by topic name, from a KIP-848 assignment (topic ids resolved through the harness). */
export function byName(h: Harness, tps: readonly { topicId: string; partitions: number[] }[] | undefined | null): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const tp of tps ?? []) {
    const name = [...h.topics.values()].find((t) => t.id === tp.topicId)?.name ?? tp.topicId;
    out[name] = [...tp.partitions].sort((a, b) => a - b);
  }
  return out;
}

/** A KIP-848 member driven by hand: joins, heartbeats reporting what it owns, leaves. */
export class CgMember {
  readonly h: Harness;
  memberId = '';
  epoch = 0;
  owned: { topicId: string; partitions: number[] }[] = [];
  last: ConsumerGroupHeartbeatResponse | undefined;
  readonly init: Partial<ConsumerGroupHeartbeatRequest>;

  constructor(h: Harness, init: Partial<ConsumerGroupHeartbeatRequest> = {}) {
    this.h = h;
    this.init = init;
  }

  send(init: Partial<ConsumerGroupHeartbeatRequest>): ConsumerGroupHeartbeatResponse {
    const req = createConsumerGroupHeartbeatRequest({ groupId: 'cg', ...init });
    const r = this.h.apply(this.h.shard.consumerGroupHeartbeat(req, { version: 0, clientId: 'cg-client', clientHost: '/127.0.0.1' }));
    this.last = r;
    if (r.errorCode === 0) {
      if (r.memberId !== null) this.memberId = r.memberId;
      this.epoch = r.memberEpoch;
      // The client owns what it was last given (it revokes and assigns at once here).
      if (r.assignment !== null) this.owned = r.assignment.topicPartitions.map((tp) => ({ topicId: tp.topicId, partitions: [...tp.partitions] }));
    }
    return r;
  }

  join(extra: Partial<ConsumerGroupHeartbeatRequest> = {}): ConsumerGroupHeartbeatResponse {
    return this.send({ memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ['t'], topicPartitions: [], ...this.init, ...extra });
  }

  heartbeat(extra: Partial<ConsumerGroupHeartbeatRequest> = {}): ConsumerGroupHeartbeatResponse {
    return this.send({ memberId: this.memberId, memberEpoch: this.epoch, topicPartitions: this.owned, ...this.init, ...extra, ...('subscribedTopicNames' in extra ? {} : { subscribedTopicNames: null }) });
  }

  leave(epoch = -1): ConsumerGroupHeartbeatResponse {
    return this.send({ memberId: this.memberId, memberEpoch: epoch, instanceId: this.init.instanceId ?? null });
  }

  partitions(topic = 't'): number[] {
    return byName(this.h, this.owned)[topic] ?? [];
  }
}
