// Broker sessions on the active controller (Kafka's BrokerHeartbeatManager, KIP-631).
//
// A broker registers (BrokerRegistration) and gets a broker epoch; it starts fenced, and is
// unfenced by the first heartbeat that shows its metadata has caught up with its own registration
// record. A broker whose last heartbeat is older than broker.session.timeout.ms is fenced: its
// leaderships move to another in-sync replica (cluster-control.ts; an unclean election only where
// the topic sets unclean.leader.election.enable, unclean-election.ts). A
// heartbeat asking to shut down (controlled shutdown) fences the broker at once, which moves its
// leaderships first, and tells it to go.
//
// Sessions live only in the active controller's memory. A newly active controller gives every
// registered broker a full session from the moment it took over, as Kafka does, so a leader change
// never fences a live broker.
//
// The local broker of the active controller is registered and unfenced in one step: it reads the
// very image the controller writes, so it is caught up by construction (the single-node case). Its
// session does not expire here either: it lives in the controller's process, so while this node
// is active it is alive (a stall of the process must not fence a single node's own broker).

import { ErrorCode, KafkaError } from '../protocol/errors.ts';
import { registerBroker, unfenceBroker, type BrokerRegistration } from './cluster-control.ts';
import type { Controller } from './controller.ts';
import { replayRecords } from './metadata-delta.ts';
import { electUncleanLeaders } from './unclean-election.ts';

export interface BrokerRegistrationInput extends Omit<BrokerRegistration, 'fenced'> {
  clusterId: string;
}

export interface HeartbeatInput {
  brokerId: number;
  brokerEpoch: bigint;
  /** The broker's last applied metadata record offset. */
  currentMetadataOffset: number;
  wantFence: boolean;
  wantShutDown: boolean;
}

export interface HeartbeatResult {
  errorCode: number;
  isCaughtUp: boolean;
  isFenced: boolean;
  shouldShutDown: boolean;
}

export interface BrokerHeartbeatsOptions {
  sessionTimeoutMs: number;
  /** Monotonic ms. */
  clock?: () => number;
  /** The broker in this controller's process, if any. */
  localBrokerId?: number | null;
  log: (line: string) => void;
}

export class BrokerHeartbeats {
  readonly #controller: Controller;
  readonly #sessionTimeoutMs: number;
  readonly #clock: () => number;
  readonly #log: (line: string) => void;
  readonly #localBrokerId: number | null;
  readonly #lastContact = new Map<number, number>();
  readonly #fencing = new Set<number>();
  #activeSince = -1;
  #timer: NodeJS.Timeout | null = null;

  constructor(controller: Controller, opts: BrokerHeartbeatsOptions) {
    this.#controller = controller;
    this.#sessionTimeoutMs = opts.sessionTimeoutMs;
    this.#clock = opts.clock ?? (() => performance.now());
    this.#log = opts.log;
    this.#localBrokerId = opts.localBrokerId ?? null;
  }

  /** This node became (true) or stopped being (false) the active controller. */
  setActive(active: boolean): void {
    this.#lastContact.clear();
    this.#activeSince = active ? this.#clock() : -1;
  }

  /** Starts the periodic session check. */
  start(): void {
    const every = Math.max(50, Math.min(1000, Math.floor(this.#sessionTimeoutMs / 4)));
    this.#timer = setInterval(() => void this.expireSessions(), every);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async register(reg: BrokerRegistrationInput, local: boolean): Promise<{ errorCode: number; brokerEpoch: bigint; message?: string }> {
    if (reg.clusterId !== this.#controller.clusterId) {
      return { errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, brokerEpoch: -1n, message: `cluster id ${reg.clusterId} is not ${this.#controller.clusterId}` };
    }
    const { clusterId: _, ...registration } = reg;
    try {
      const { brokerEpoch } = await this.#controller.runActive((ctx) => {
        const registered = registerBroker(ctx, { ...registration, fenced: true });
        if (!local) return registered;
        // Local broker of the active controller: unfenced in the same batch.
        const next = replayRecords(ctx.image, registered.records).image;
        const unfenced = unfenceBroker({ ...ctx, image: next }, reg.brokerId);
        return { records: [...registered.records, ...unfenced.records], response: registered.response };
      });
      this.#lastContact.set(reg.brokerId, this.#clock());
      this.#log(`controller: broker ${reg.brokerId} registered with epoch ${brokerEpoch}${local ? ' (local, unfenced)' : ''}`);
      return { errorCode: ErrorCode.NONE, brokerEpoch };
    } catch (e) {
      if (e instanceof KafkaError) return { errorCode: e.code, brokerEpoch: -1n, message: e.message };
      throw e;
    }
  }

  async heartbeat(hb: HeartbeatInput): Promise<HeartbeatResult> {
    const answer = (errorCode: number, isFenced = true, isCaughtUp = false, shouldShutDown = false): HeartbeatResult =>
      ({ errorCode, isCaughtUp, isFenced, shouldShutDown });
    if (!this.#controller.isActive) return answer(ErrorCode.NOT_CONTROLLER);
    const b = this.#controller.image.brokers.get(hb.brokerId);
    if (b === undefined) return answer(ErrorCode.BROKER_ID_NOT_REGISTERED);
    if (b.epoch !== hb.brokerEpoch) return answer(ErrorCode.STALE_BROKER_EPOCH);
    this.#lastContact.set(hb.brokerId, this.#clock());
    const caughtUp = hb.currentMetadataOffset >= Number(b.epoch);
    try {
      if (hb.wantShutDown) {
        // Controlled shutdown: leaderships move away now, not a session timeout later.
        if (!b.fenced) {
          await this.#controller.fenceBroker(hb.brokerId);
          this.#log(`controller: broker ${hb.brokerId} is shutting down; fenced and its leaderships moved`);
        }
        return answer(ErrorCode.NONE, true, caughtUp, true);
      }
      if (hb.wantFence && !b.fenced) await this.#controller.fenceBroker(hb.brokerId);
      else if (!hb.wantFence && b.fenced && caughtUp) {
        await this.#controller.unfenceBroker(hb.brokerId);
        this.#log(`controller: broker ${hb.brokerId} caught up with its registration; unfenced`);
      }
    } catch (e) {
      if (e instanceof KafkaError) return answer(e.code);
      throw e;
    }
    const now = this.#controller.image.brokers.get(hb.brokerId);
    return answer(ErrorCode.NONE, now?.fenced ?? true, caughtUp);
  }

  /** Fences every unfenced broker whose session ran out (only on the active controller). */
  async expireSessions(): Promise<void> {
    if (!this.#controller.isActive || this.#activeSince < 0) return;
    const now = this.#clock();
    for (const b of this.#controller.image.brokers.values()) {
      if (b.fenced || this.#fencing.has(b.id) || b.id === this.#localBrokerId) continue;
      const last = this.#lastContact.get(b.id) ?? this.#activeSince;
      if (now - last <= this.#sessionTimeoutMs) continue;
      this.#fencing.add(b.id);
      try {
        await this.#controller.fenceBroker(b.id);
        this.#log(`controller: broker ${b.id} sent no heartbeat for ${Math.round(now - last)} ms (broker.session.timeout.ms=${this.#sessionTimeoutMs}); fenced`);
      } catch (e) {
        this.#log(`controller: fencing broker ${b.id} failed: ${(e as Error)?.message ?? e}`);
      } finally {
        this.#fencing.delete(b.id);
      }
    }
    try {
      const elected = await this.#controller.runActive(electUncleanLeaders);
      if (elected > 0) this.#log(`controller: ${elected} partition(s) got an unclean leader (unclean.leader.election.enable)`);
    } catch (e) {
      if (!(e instanceof KafkaError)) this.#log(`controller: unclean leader election failed: ${(e as Error)?.message ?? e}`);
    }
  }
}
