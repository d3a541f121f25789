// The broker side of KIP-631's lifecycle: register with the active controller (a new incarnation
// id per process start), heartbeat every broker.heartbeat.interval.ms with the metadata offset
// applied so far, and serve once the controller has unfenced the broker. A heartbeat answered
// STALE_BROKER_EPOCH or BROKER_ID_NOT_REGISTERED (the controller lost or replaced the
// registration) registers again. Controlled shutdown: heartbeats ask to shut down until the
// controller has moved the broker's leaderships and answers shouldShutDown.

import { ErrorCode, errorName } from '../protocol/errors.ts';
import type { BrokerRegistrationInput, HeartbeatInput, HeartbeatResult } from '../controller/broker-heartbeats.ts';

/** How the broker reaches the active controller (in process or over the controller listener). */
export interface ControllerChannel {
  register(reg: BrokerRegistrationInput): Promise<{ errorCode: number; brokerEpoch: bigint }>;
  heartbeat(hb: HeartbeatInput): Promise<HeartbeatResult>;
}

export interface BrokerLifecycleOptions {
  registration: BrokerRegistrationInput;
  channel: ControllerChannel;
  intervalMs: number;
  /** The last metadata record offset this broker has applied. */
  metadataOffset: () => number;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class BrokerLifecycle {
  readonly #opts: BrokerLifecycleOptions;
  #epoch: bigint | null = null;
  #fenced = true;
  #stopped = false;
  #shuttingDown = false;
  #loop: Promise<void> | null = null;
  #unfencedWaiters: (() => void)[] = [];
  #lastProblem = '';

  constructor(opts: BrokerLifecycleOptions) {
    this.#opts = opts;
  }

  get brokerEpoch(): bigint | null {
    return this.#epoch;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  /** Starts registering and heartbeating; resolves once the controller has unfenced this broker. */
  start(): Promise<void> {
    this.#loop ??= this.#run();
    if (!this.#fenced) return Promise.resolve();
    return new Promise((resolve) => this.#unfencedWaiters.push(resolve));
  }

  /**
   * Controlled shutdown: asks the controller to move this broker's leaderships away and waits
   * (at most `timeoutMs`) for its go-ahead. Heartbeats stop afterwards.
   */
  async shutdown(timeoutMs: number): Promise<boolean> {
    this.#shuttingDown = true;
    const deadline = performance.now() + timeoutMs;
    let done = false;
    while (!done && this.#epoch !== null && performance.now() < deadline) {
      try {
        const r = await this.#heartbeat(true);
        done = r.errorCode === ErrorCode.NONE && r.shouldShutDown;
      } catch {
        // the controller is unreachable: try again until the deadline
      }
      if (!done) await sleep(100);
    }
    this.stop();
    return done;
  }

  stop(): void {
    this.#stopped = true;
    for (const w of this.#unfencedWaiters.splice(0)) w();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let wait = this.#opts.intervalMs;
      try {
        if (this.#shuttingDown) return;
        if (this.#epoch === null) {
          await this.#register();
          wait = 0;
        } else {
          const r = await this.#heartbeat(false);
          if (r.errorCode === ErrorCode.STALE_BROKER_EPOCH || r.errorCode === ErrorCode.BROKER_ID_NOT_REGISTERED) {
            this.#epoch = null;
            wait = 0;
          } else if (r.errorCode !== ErrorCode.NONE) {
            this.#problem(`heartbeat: ${errorName(r.errorCode)}`);
            wait = Math.min(wait, 200);
          } else {
            this.#setFenced(r.isFenced);
            // While fenced, ask again soon: the broker is unfenced as soon as it has caught up.
            if (r.isFenced) wait = Math.min(wait, 100);
          }
        }
      } catch (e) {
        this.#problem(`${this.#epoch === null ? 'registration' : 'heartbeat'}: ${(e as Error)?.message ?? e}`);
        wait = Math.min(wait, 200);
      }
      if (wait > 0) await sleep(wait);
    }
  }

  async #register(): Promise<void> {
    const r = await this.#opts.channel.register(this.#opts.registration);
    if (r.errorCode !== ErrorCode.NONE) {
      this.#problem(`registration: ${errorName(r.errorCode)}`);
      await sleep(200);
      return;
    }
    this.#epoch = r.brokerEpoch;
    this.#opts.log(`broker ${this.#opts.registration.brokerId}: registered with the controller, broker epoch ${r.brokerEpoch}`);
  }

  #heartbeat(wantShutDown: boolean): Promise<HeartbeatResult> {
    return this.#opts.channel.heartbeat({
      brokerId: this.#opts.registration.brokerId,
      brokerEpoch: this.#epoch ?? -1n,
      currentMetadataOffset: this.#opts.metadataOffset(),
      wantFence: false,
      wantShutDown,
    });
  }

  #setFenced(fenced: boolean): void {
    if (fenced === this.#fenced) return;
    this.#fenced = fenced;
    this.#opts.log(`broker ${this.#opts.registration.brokerId}: ${fenced ? 'fenced by' : 'unfenced by'} the controller`);
    if (!fenced) for (const w of this.#unfencedWaiters.splice(0)) w();
  }

  /** Logs a problem once until it changes (retries are frequent). */
  #problem(what: string): void {
    if (what === this.#lastProblem) return;
    this.#lastProblem = what;
    this.#opts.log(`broker ${this.#opts.registration.brokerId}: ${what}; retrying`);
  }
}
