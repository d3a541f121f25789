// The time seam of the group coordinator. Session timeouts, rebalance timeouts, the initial
// rebalance delay and offset expiration are keyed timers whose expiry runs a coordinator operation;
// the runtime sends that operation's result down the same write path as a request's. Tests use
// ManualTimer and move time by hand, so no unit test waits on a real clock.
import type { Result } from './result.ts';

export type TimerOp = () => Result<unknown>;

export interface CoordinatorTimer {
  /** Wall-clock milliseconds (commit timestamps, state timestamps). */
  now(): number;
  /** Runs `op` after `delayMs`, replacing any pending timer with the same key. */
  schedule(key: string, delayMs: number, op: TimerOp): void;
  cancel(key: string): void;
  /** Whether a timer with this key is pending. */
  has(key: string): boolean;
}

/** A timer driven by hand: `advance(ms)` fires due timers in deadline order. */
export class ManualTimer implements CoordinatorTimer {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<string, { at: number; seq: number; op: TimerOp }>();
  /** Receives the result of every fired timer (the test harness replays and delivers it). */
  sink: (r: Result<unknown>) => void = () => {};

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(key: string, delayMs: number, op: TimerOp): void {
    this.#timers.set(key, { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, op });
  }

  cancel(key: string): void {
    this.#timers.delete(key);
  }

  has(key: string): boolean {
    return this.#timers.has(key);
  }

  /** Deadline of a pending timer, or undefined. */
  deadline(key: string): number | undefined {
    return this.#timers.get(key)?.at;
  }

  keys(): string[] {
    return [...this.#timers.keys()];
  }

  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [string, { at: number; seq: number; op: TimerOp }] | undefined;
      for (const e of this.#timers) {
        if (e[1].at > end) continue;
        if (next === undefined || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq)) next = e;
      }
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      this.sink(next[1].op());
    }
    this.#now = end;
  }
}
