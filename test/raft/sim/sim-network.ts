// The simulated network: each message gets a random delay (so messages overtake each other), may
// be dropped or duplicated, and never crosses a blocked direction. Blocking one direction only
// gives one-way partitions; blocking both gives the usual symmetric ones. A message is checked
// when sent and again when it would arrive (a partition that starts meanwhile also cuts it).

import type { Message } from '../../../src/raft/messages.ts';
import type { Prng } from './prng.ts';

export interface NetworkFaults {
  dropRate: number;
  duplicateRate: number;
  minDelay: number;
  maxDelay: number;
  /** Chance of an exceptionally slow delivery (a stalled connection). */
  spikeRate: number;
  spikeDelay: number;
}

export const RELIABLE: NetworkFaults = Object.freeze({
  dropRate: 0,
  duplicateRate: 0,
  minDelay: 1,
  maxDelay: 10,
  spikeRate: 0,
  spikeDelay: 0,
});

export class SimNetwork {
  faults: NetworkFaults;
  readonly #rng: Prng;
  readonly #blocked = new Set<string>();
  sent = 0;
  dropped = 0;

  constructor(rng: Prng, faults: NetworkFaults) {
    this.#rng = rng;
    this.faults = faults;
  }

  /** Delivery delays for one message: none (dropped), one, or two (duplicated). */
  route(msg: Message): number[] {
    this.sent++;
    if (!this.canPass(msg.from, msg.to) || this.#rng.chance(this.faults.dropRate)) {
      this.dropped++;
      return [];
    }
    const delays = [this.#delay()];
    if (this.#rng.chance(this.faults.duplicateRate)) delays.push(this.#delay());
    return delays;
  }

  #delay(): number {
    const f = this.faults;
    const d = this.#rng.range(f.minDelay, f.maxDelay);
    return this.#rng.chance(f.spikeRate) ? d + this.#rng.range(0, f.spikeDelay) : d;
  }

  canPass(from: number, to: number): boolean {
    return !this.#blocked.has(`${from}>${to}`);
  }

  block(from: number, to: number): void {
    this.#blocked.add(`${from}>${to}`);
  }

  /** Cuts both directions between every node of `a` and every node of `b`. */
  partition(a: readonly number[], b: readonly number[]): void {
    for (const x of a) {
      for (const y of b) {
        this.block(x, y);
        this.block(y, x);
      }
    }
  }

  healAll(): void {
    this.#blocked.clear();
  }

  get blockedLinks(): number {
    return this.#blocked.size;
  }
}
