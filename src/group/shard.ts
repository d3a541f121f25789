// One __consumer_offsets partition's worth of groups: a deterministic state machine. Each
// operation reads the current state and returns the records to append plus the answers to send
// once they are durable; state changes when the runtime replays those records (replay), which is
// also how the state is rebuilt from the log at load time. Time and randomness come from `env`,
// so tests drive it with a ManualTimer and fixed ids.
import { ErrorCode } from '../protocol/errors.ts';
import type { JoinGroupRequest } from '../protocol/generated/join-group-request.ts';
import type { JoinGroupResponse } from '../protocol/generated/join-group-response.ts';
import type { SyncGroupRequest } from '../protocol/generated/sync-group-request.ts';
import type { SyncGroupResponse } from '../protocol/generated/sync-group-response.ts';
import type { HeartbeatRequest } from '../protocol/generated/heartbeat-request.ts';
import type { HeartbeatResponse } from '../protocol/generated/heartbeat-response.ts';
import type { LeaveGroupRequest } from '../protocol/generated/leave-group-request.ts';
import type { LeaveGroupResponse } from '../protocol/generated/leave-group-response.ts';
import type { OffsetCommitRequest } from '../protocol/generated/offset-commit-request.ts';
import type { OffsetCommitResponse } from '../protocol/generated/offset-commit-response.ts';
import type { OffsetFetchResponseGroup } from '../protocol/generated/offset-fetch-response.ts';
import type { OffsetDeleteRequest } from '../protocol/generated/offset-delete-request.ts';
import type { OffsetDeleteResponse } from '../protocol/generated/offset-delete-response.ts';
import type { DescribedGroup } from '../protocol/generated/describe-groups-response.ts';
import type { ListedGroup } from '../protocol/generated/list-groups-response.ts';
import type { ConsumerGroupHeartbeatRequest } from '../protocol/generated/consumer-group-heartbeat-request.ts';
import type { ConsumerGroupHeartbeatResponse } from '../protocol/generated/consumer-group-heartbeat-response.ts';
import type { DescribedGroup as ConsumerDescribedGroup } from '../protocol/generated/consumer-group-describe-response.ts';
import { ClassicGroup, ClassicState, newClassicMember } from './classic-group.ts';
import { ConsumerGroup } from './consumer-group.ts';
import { joinGroup } from './classic-join.ts';
import { heartbeat, leaveGroup, syncGroup } from './classic-members.ts';
import { joinError, scheduleSession, syncError } from './classic-rebalance.ts';
import { commitOffsets, deleteOffsets, expireOffsets, fetchOffsets, type FetchOffsetsOptions } from './offset-ops.ts';
import { describeClassicGroup, listGroups, deleteGroup } from './group-admin.ts';
import { consumerGroupHeartbeat, scheduleConsumerSessions } from './consumer-heartbeat.ts';
import { describeConsumerGroup } from './consumer-describe.ts';
import { consumerGroupTombstones, replayConsumerGroupRecord } from './consumer-replay.ts';
import { OffsetStore } from './offset-store.ts';
import { PendingTxnOffsets } from './txn-offsets.ts'; // transactions (issue 6)
import type { GroupConfig } from './group-config.ts';
import type { CoordinatorRecord, GroupMetadataValue } from './records.ts';
import { deliver, type Delivery, type Reply, type Result } from './result.ts';
import type { CoordinatorTimer } from './timer.ts';

export interface TopicInfo {
  id: string;
  name: string;
  numPartitions: number;
}

/** The topics of the cluster, as the metadata image has them. */
export interface TopicResolver {
  byName(name: string): TopicInfo | undefined;
  byId(id: string): TopicInfo | undefined;
}

export interface ShardEnv {
  config: GroupConfig;
  timer: CoordinatorTimer;
  topics: TopicResolver;
  /** Member ids are `<client or instance id>-<uuid>`; injected so tests get fixed ids. */
  newUuid(): string;
  log(line: string): void;
}

export interface RequestMeta {
  version: number;
  clientId: string;
  clientHost: string;
}

export type Group = ClassicGroup | ConsumerGroup;

const RETENTION_TIMER = 'expire-offsets';

export class GroupShard {
  readonly partition: number;
  readonly env: ShardEnv;
  readonly groups = new Map<string, Group>();
  readonly offsets = new OffsetStore();
  /** Offset commits of open transactions (issue 6): see txn-offsets.ts. */
  readonly txnOffsets = new PendingTxnOffsets();

  constructor(partition: number, env: ShardEnv) {
    this.partition = partition;
    this.env = env;
  }

  classicGroup(groupId: string): ClassicGroup | undefined {
    const g = this.groups.get(groupId);
    return g?.type === 'classic' ? g : undefined;
  }

  consumerGroup(groupId: string): ConsumerGroup | undefined {
    const g = this.groups.get(groupId);
    return g?.type === 'consumer' ? g : undefined;
  }

  // --- operations (no state change here: see replay) ----------------------------------------------

  joinGroup(req: JoinGroupRequest, meta: RequestMeta, reply: Reply<JoinGroupResponse>): Result<void> {
    return joinGroup(this, req, meta, reply);
  }

  syncGroup(req: SyncGroupRequest, meta: RequestMeta, reply: Reply<SyncGroupResponse>): Result<void> {
    return syncGroup(this, req, meta, reply);
  }

  heartbeat(req: HeartbeatRequest): Result<HeartbeatResponse> {
    return heartbeat(this, req);
  }

  leaveGroup(req: LeaveGroupRequest, meta: RequestMeta): Result<LeaveGroupResponse> {
    return leaveGroup(this, req, meta);
  }

  commitOffsets(req: OffsetCommitRequest, meta: RequestMeta): Result<OffsetCommitResponse> {
    return commitOffsets(this, req, meta.version);
  }

  fetchOffsets(groupId: string, topics: readonly { name: string; partitionIndexes: number[] }[] | null, opts: FetchOffsetsOptions = {}): OffsetFetchResponseGroup {
    return fetchOffsets(this, groupId, topics, opts);
  }

  deleteOffsets(req: OffsetDeleteRequest): Result<OffsetDeleteResponse> {
    return deleteOffsets(this, req);
  }

  expireOffsets(): Result<void> {
    return expireOffsets(this);
  }

  describeGroup(groupId: string, includeAuthorizedOperations = false): DescribedGroup {
    return describeClassicGroup(this, groupId, includeAuthorizedOperations);
  }

  listGroups(statesFilter: readonly string[] = [], typesFilter: readonly string[] = []): ListedGroup[] {
    return listGroups(this, statesFilter, typesFilter);
  }

  deleteGroup(groupId: string): Result<number> {
    return deleteGroup(this, groupId);
  }

  consumerGroupHeartbeat(req: ConsumerGroupHeartbeatRequest, meta: RequestMeta): Result<ConsumerGroupHeartbeatResponse> {
    return consumerGroupHeartbeat(this, req, meta);
  }

  describeConsumerGroup(groupId: string, includeAuthorizedOperations = false): ConsumerDescribedGroup {
    return describeConsumerGroup(this, groupId, includeAuthorizedOperations);
  }

  /** Records that delete every trace of a group but its offsets. */
  groupTombstones(groupId: string): CoordinatorRecord[] {
    const g = this.groups.get(groupId);
    if (g?.type === 'consumer') return consumerGroupTombstones(g);
    return [{ type: 'group-metadata', groupId, value: null }];
  }

  // --- replay ---------------------------------------------------------------------------------

  replay(r: CoordinatorRecord): void {
    switch (r.type) {
      case 'offset-commit': {
        const { group, topic, partition } = r.key;
        if (r.value === null) {
          this.offsets.delete(group, topic, partition);
          // As Kafka's OffsetMetadataManager: a tombstone also ends the partition's pending
          // transactional commits, so a later COMMIT marker cannot restore a deleted offset.
          this.txnOffsets.drop(group, topic, partition);
          return;
        }
        // A commit outside group management (generation -1) makes a "simple" group exist.
        if (!this.groups.has(group)) this.groups.set(group, new ClassicGroup(group, Number(r.value.commitTimestamp)));
        this.offsets.set(group, topic, partition, {
          offset: r.value.offset,
          leaderEpoch: r.value.leaderEpoch,
          metadata: r.value.metadata,
          commitTimestamp: Number(r.value.commitTimestamp),
          expireTimestamp: Number(r.value.expireTimestamp),
        });
        return;
      }
      case 'group-metadata':
        if (r.value === null) {
          if (this.groups.get(r.groupId)?.type === 'classic') this.groups.delete(r.groupId);
          this.#keepGroupOfOffsets(r.groupId);
        } else {
          this.#replayClassic(r.groupId, r.value);
        }
        return;
      default:
        replayConsumerGroupRecord(this, r);
        if (r.type === 'consumer-group-metadata' && r.value === null) this.#keepGroupOfOffsets(r.groupId);
    }
  }

  /**
   * Committed offsets always belong to a group: when a group's records are deleted but offsets
   * remain (the group changed protocol), it lives on as an empty simple group.
   */
  #keepGroupOfOffsets(groupId: string): void {
    if (!this.groups.has(groupId) && this.offsets.has(groupId)) this.groups.set(groupId, new ClassicGroup(groupId, this.env.timer.now()));
  }

  /**
   * A GroupMetadata record is the settled view of a generation: its members with their
   * assignments. Live, the group already has those members (the operation that wrote the record
   * admitted them); at load time they are created from it.
   */
  #replayClassic(groupId: string, v: GroupMetadataValue): void {
    let g = this.groups.get(groupId);
    const ts = v.currentStateTimestamp >= 0n ? Number(v.currentStateTimestamp) : this.env.timer.now();
    if (g === undefined || g.type !== 'classic') {
      g = new ClassicGroup(groupId, ts);
      this.groups.set(groupId, g);
    }
    g.protocolType = v.protocolType;
    g.generationId = v.generation;
    g.protocolName = v.protocol;
    const keep = new Set(v.members.map((m) => m.memberId));
    for (const id of [...g.members.keys()]) if (!keep.has(id)) g.remove(id);
    for (const rm of v.members) {
      let m = g.members.get(rm.memberId);
      if (m === undefined) {
        m = newClassicMember({
          memberId: rm.memberId, groupInstanceId: rm.groupInstanceId, clientId: rm.clientId, clientHost: rm.clientHost,
          rebalanceTimeoutMs: rm.rebalanceTimeout, sessionTimeoutMs: rm.sessionTimeout,
          protocols: [{ name: v.protocol ?? '', metadata: Buffer.from(rm.subscription) }],
        });
        g.add(m);
      }
      m.assignment = Buffer.from(rm.assignment);
    }
    g.leaderId = v.leader;
    g.state = g.members.size === 0 ? ClassicState.EMPTY : ClassicState.STABLE;
    g.stateTimestamp = ts;
  }

  // --- lifecycle --------------------------------------------------------------------------------

  /** After the log is replayed: start the session timers of loaded members and offset expiration. */
  onLoaded(): void {
    for (const g of this.groups.values()) {
      if (g.type === 'classic') for (const m of g.members.values()) scheduleSession(this, g, m);
    }
    scheduleConsumerSessions(this);
    this.#scheduleRetention();
  }

  #scheduleRetention(): void {
    this.env.timer.schedule(RETENTION_TIMER, this.env.config.offsetsRetentionCheckIntervalMs, () => {
      this.#scheduleRetention();
      return this.expireOffsets();
    });
  }

  /** The partition moved away (or the broker stops): parked requests are told to find the new coordinator. */
  unload(): Delivery[] {
    const out: Delivery[] = [];
    for (const g of this.groups.values()) {
      if (g.type !== 'classic') continue;
      for (const m of g.members.values()) {
        if (m.awaitingJoin !== null) out.push(deliver(m.awaitingJoin.reply, joinError(ErrorCode.NOT_COORDINATOR, m.memberId, m.awaitingJoin.version)));
        if (m.awaitingSync !== null) out.push(deliver(m.awaitingSync, syncError(ErrorCode.NOT_COORDINATOR)));
        m.awaitingJoin = null;
        m.awaitingSync = null;
      }
    }
    return out;
  }
}
