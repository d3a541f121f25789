// Everything a simulation run varies, drawn from its seed: quorum size, observers, Raft settings
// (small fetch sizes, frequent snapshots, tiny snapshot chunks to exercise every path), network
// misbehaviour, how often faults strike, how long the faulty phase lasts, and whether the leader is
// then killed for good.

import type { RaftConfig } from '../../../src/raft/types.ts';
import type { Prng } from './prng.ts';
import type { NetworkFaults } from './sim-network.ts';

/** Virtual time units per Raft tick (think of a unit as a millisecond). */
export const TICK = 10;

export interface Scenario {
  voters: number[];
  observers: number[];
  config: RaftConfig;
  network: NetworkFaults;
  /** Faults strike until this time; then the network heals and crashed nodes restart. */
  faultEnd: number;
  /** After faultEnd, a leader must commit a new entry that every node learns within this time. */
  livenessBound: number;
  /** Once the quorum has recovered, kill its leader for good (kill -9, never restarted): the
   *  remaining majority must elect a new leader and commit within `livenessBound`. Only with
   *  3 or 5 voters, where the others are a majority. */
  killLeaderAfterFaults: boolean;
  faultInterval: [number, number];
  proposeInterval: [number, number];
  fsyncDelay: [number, number];
  snapshotDelay: [number, number];
}

export function drawScenario(rng: Prng): Scenario {
  const voterCount = rng.chance(0.05) ? 1 : rng.chance(0.55) ? 3 : 5;
  const voters = Array.from({ length: voterCount }, (_, i) => i + 1);
  const observers = rng.chance(0.3) ? [voterCount + 1] : [];
  // Short election timeouts against slow messages make split votes and competing candidates common.
  const election = rng.pick([3, 5, 10]);
  const config: RaftConfig = {
    electionTimeoutTicks: election,
    fetchTimeoutTicks: 2 * election,
    fetchMaxWaitTicks: Math.min(5, election),
    requestTimeoutTicks: 10,
    retryBackoffTicks: 1,
    maxFetchEntries: rng.pick([1, 3, 64]),
    snapshotChunkBytes: rng.pick([7, 32, 4096]),
    snapshotMinEntries: rng.pick([0, 4, 16]),
  };
  const network: NetworkFaults = {
    dropRate: rng.pick([0, 0.02, 0.05, 0.15]),
    duplicateRate: rng.pick([0, 0.02, 0.1]),
    minDelay: 1,
    maxDelay: rng.range(3, 25),
    spikeRate: rng.pick([0, 0.01, 0.03]),
    spikeDelay: 120,
  };
  const faultGap = rng.range(150, 600);
  const proposeGap = rng.range(15, 60);
  return {
    voters,
    observers,
    config,
    network,
    faultEnd: rng.range(2500, 5000),
    livenessBound: 600 * TICK,
    killLeaderAfterFaults: voterCount >= 3 && rng.chance(0.4),
    faultInterval: [faultGap >> 1, faultGap * 2],
    proposeInterval: [proposeGap >> 1, proposeGap * 2],
    fsyncDelay: [0, rng.pick([2, 15, 40])],
    snapshotDelay: [0, 30],
  };
}

export type FaultAction = 'crash' | 'isolate' | 'split' | 'one-way' | 'heal' | 'resign';

export function drawFault(rng: Prng): FaultAction {
  const r = rng.next();
  if (r < 0.25) return 'crash';
  if (r < 0.45) return 'isolate';
  if (r < 0.55) return 'split';
  if (r < 0.7) return 'one-way';
  if (r < 0.9) return 'heal';
  return 'resign';
}
