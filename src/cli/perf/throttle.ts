// Pacing for `brook perf produce --throughput R`, as Kafka's ThroughputThrottler does it: the
// k-th record (from 0) is due at start + k/R, so the rate holds over the whole run rather than
// per record, a late timer is made up by sending the overdue records at once, and the sender
// sleeps only when it is ahead of the schedule. A rate of 0 or less means no limit.

export class Throttle {
  readonly perSecond: number;
  private readonly startMs: number;

  constructor(perSecond: number, startMs: number) {
    this.perSecond = perSecond;
    this.startMs = startMs;
  }

  get unlimited(): boolean {
    return !(this.perSecond > 0);
  }

  /** How many more records are due at `nowMs`, when `sent` have been sent so far. */
  allowance(sent: number, nowMs: number): number {
    if (this.unlimited) return Infinity;
    const due = Math.floor(((nowMs - this.startMs) * this.perSecond) / 1000) + 1;
    return Math.max(0, due - sent);
  }

  /** Milliseconds until the next record is due (0 when one is due now). */
  delayMs(sent: number, nowMs: number): number {
    if (this.unlimited) return 0;
    return Math.max(0, this.startMs + (sent * 1000) / this.perSecond - nowMs);
  }
}
