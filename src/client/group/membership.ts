// One member's side of the classic group protocol: JoinGroup (blocks at the coordinator until the
// rebalance completes, so its timeout is the rebalance timeout plus slack), the leader's assignment,
// SyncGroup, Heartbeat and LeaveGroup. Version rules: JoinGroup v4+ first answers a new member with
// MEMBER_ID_REQUIRED and the id to rejoin with (KIP-394); v5+ carries group.instance.id (static
// membership, KIP-345); v9 may tell a static leader to skip the assignment (KIP-814); SyncGroup v5
// repeats the protocol type and name; LeaveGroup v3+ names members in a list.
import { ApiKey } from '../../protocol/generated/api-index.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { CoordinatorType, type Client } from '../client.ts';
import { KafkaError, UnsupportedApiError, responseError } from '../errors.ts';
import type { Assignor, MemberSubscription } from './assignors.ts';
import {
  CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, type Assignment,
} from './consumer-protocol.ts';
import { isCoordinatorMoved } from './coordinator-call.ts';

export interface MembershipOptions {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  groupInstanceId: string | null;
  assignors: readonly Assignor[];
  rackId: string | null;
}

export interface Generation {
  generationId: number;
  memberId: string;
  protocol: string;
  leader: boolean;
  assignment: Assignment;
}

/** Errors after which the member must rejoin under a fresh identity (its partitions are lost). */
const FENCED: ReadonlySet<number> = new Set([ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.ILLEGAL_GENERATION, ErrorCode.FENCED_INSTANCE_ID]);

export type HeartbeatOutcome = 'ok' | 'rebalance' | 'fenced';

export class GroupMembership {
  memberId = '';
  generationId = -1;
  protocol: string | null = null;
  private readonly client: Client;
  private readonly o: MembershipOptions;

  constructor(client: Client, opts: MembershipOptions) {
    this.client = client;
    this.o = opts;
  }

  /** Forgets the member id and generation (after being fenced, or to join as a new member). */
  reset(): void {
    this.memberId = '';
    this.generationId = -1;
  }

  /**
   * Joins (or rejoins) with the given subscription and owned partitions, assigns if elected
   * leader, and syncs. Retries the steps Kafka's consumers retry; throws fatal errors
   * (INCONSISTENT_GROUP_PROTOCOL, GROUP_MAX_SIZE_REACHED, INVALID_SESSION_TIMEOUT, ...).
   */
  async joinAndSync(topics: readonly string[], owned: Assignment): Promise<Generation> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.joinOnce(topics, owned);
      } catch (e) {
        if (attempt >= 20 || !(e instanceof KafkaError || isCoordinatorMoved(e))) throw e;
        if (e instanceof UnsupportedApiError) throw e;
        const code = e instanceof KafkaError ? e.code : -1;
        if (FENCED.has(code)) this.reset();
        else if (code === ErrorCode.MEMBER_ID_REQUIRED || code === ErrorCode.REBALANCE_IN_PROGRESS) { /* rejoin at once */ }
        else if (isCoordinatorMoved(e)) this.client.forgetCoordinator(CoordinatorType.Group, this.o.groupId);
        else if (!(e instanceof KafkaError && e.retriable)) throw e;
        if (code !== ErrorCode.MEMBER_ID_REQUIRED) await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** Math.min(attempt, 4))));
      }
    }
  }

  async heartbeat(): Promise<HeartbeatOutcome> {
    const conn = await this.client.coordinator(CoordinatorType.Group, this.o.groupId);
    let res;
    try {
      res = await conn.send(ApiKey.Heartbeat, {
        groupId: this.o.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.o.groupInstanceId,
      });
    } catch (e) {
      if (isCoordinatorMoved(e)) this.client.forgetCoordinator(CoordinatorType.Group, this.o.groupId);
      throw e;
    }
    if (res.errorCode === 0) return 'ok';
    if (res.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) return 'rebalance';
    if (FENCED.has(res.errorCode)) return 'fenced';
    const e = responseError(res.errorCode, `heartbeat of group '${this.o.groupId}'`);
    if (isCoordinatorMoved(e)) this.client.forgetCoordinator(CoordinatorType.Group, this.o.groupId);
    throw e;
  }

  /** Leaves the group (best effort: a coordinator that is gone will expire the member anyway). */
  async leave(reason = 'the consumer is closing'): Promise<void> {
    if (this.memberId === '') return;
    try {
      const conn = await this.client.coordinator(CoordinatorType.Group, this.o.groupId);
      await conn.send(ApiKey.LeaveGroup, (v) => ({
        groupId: this.o.groupId,
        memberId: v < 3 ? this.memberId : '',
        members: v >= 3 ? [{ memberId: this.memberId, groupInstanceId: this.o.groupInstanceId, reason }] : [],
      }));
    } catch {
      // Ignored: the session timeout removes the member.
    }
    this.reset();
  }

  private async joinOnce(topics: readonly string[], owned: Assignment): Promise<Generation> {
    const conn = await this.client.coordinator(CoordinatorType.Group, this.o.groupId);
    const metadata = encodeSubscription({ topics: [...topics], userData: null, ownedPartitions: owned, generationId: this.generationId, rackId: this.o.rackId });
    const join = await conn.send(ApiKey.JoinGroup, (v) => {
      if (v < 5 && this.o.groupInstanceId !== null) throw new UnsupportedApiError(conn.label, ApiKey.JoinGroup);
      return {
        groupId: this.o.groupId,
        sessionTimeoutMs: this.o.sessionTimeoutMs,
        rebalanceTimeoutMs: this.o.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: this.o.groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocols: this.o.assignors.map((a) => ({ name: a.name, metadata })),
        reason: null,
      };
    }, { extraTimeoutMs: this.o.rebalanceTimeoutMs + 5000 });
    if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = join.memberId;
      throw responseError(join.errorCode, `joining group '${this.o.groupId}'`);
    }
    if (join.errorCode !== 0) throw responseError(join.errorCode, `joining group '${this.o.groupId}'`);
    this.memberId = join.memberId;
    this.generationId = join.generationId;
    this.protocol = join.protocolName;
    const protocol = join.protocolName ?? this.o.assignors[0].name;
    const leader = join.leader === join.memberId;
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (leader && !join.skipAssignment) assignments = await this.assign(protocol, join.members);
    const sync = await conn.send(ApiKey.SyncGroup, {
      groupId: this.o.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.o.groupInstanceId,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: protocol,
      assignments,
    }, { extraTimeoutMs: this.o.rebalanceTimeoutMs });
    if (sync.errorCode !== 0) throw responseError(sync.errorCode, `syncing group '${this.o.groupId}'`);
    return { generationId: this.generationId, memberId: this.memberId, protocol, leader, assignment: decodeAssignment(sync.assignment) };
  }

  private async assign(protocol: string, members: readonly { memberId: string; metadata: Buffer }[]): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.o.assignors.find((a) => a.name === protocol);
    if (assignor === undefined) throw new KafkaError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `the coordinator chose assignor '${protocol}', which this member does not have`);
    const subs: MemberSubscription[] = members.map((m) => ({ memberId: m.memberId, ...decodeSubscription(m.metadata) }));
    const wanted = [...new Set(subs.flatMap((s) => s.topics))];
    const meta = await this.client.refreshMetadata(wanted, { autoCreate: false });
    const counts = new Map<string, number>();
    for (const t of wanted) {
      const info = meta.topics.get(t);
      if (info !== undefined && info.errorCode === 0 && info.partitions.length > 0) counts.set(t, info.partitions.length);
    }
    const result = assignor.assign(subs, counts);
    return subs.map((s) => ({ memberId: s.memberId, assignment: encodeAssignment(result.get(s.memberId) ?? new Map()) }));
  }
}
