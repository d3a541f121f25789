// Runs a share of the simulation seeds and reports every failing seed with the command that
// replays it. BROOK_RAFT_SEEDS sets how many seeds in total (default 2000, across the shards),
// BROOK_RAFT_SEED_START the first one (default 0).

import { runSimulation, type SimResult } from './simulation.ts';

export const DEFAULT_SEEDS = 2000;

export function seedPlan(): { start: number; count: number } {
  const count = Number(process.env.BROOK_RAFT_SEEDS ?? DEFAULT_SEEDS);
  const start = Number(process.env.BROOK_RAFT_SEED_START ?? 0);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(start) || start < 0) {
    throw new Error('BROOK_RAFT_SEEDS must be a positive integer and BROOK_RAFT_SEED_START a non-negative one');
  }
  return { start, count };
}

export function replayCommand(seed: number): string {
  return `node_modules/.bin/node test/raft/sim/replay.ts ${seed}`;
}

export interface ShardReport {
  ran: number;
  failures: string[];
  results: SimResult[];
}

/** Runs the seeds s of the plan with s % shards === shard. */
export function runShard(shard: number, shards: number): ShardReport {
  const { start, count } = seedPlan();
  const report: ShardReport = { ran: 0, failures: [], results: [] };
  for (let seed = start; seed < start + count; seed++) {
    if (seed % shards !== shard) continue;
    report.ran++;
    try {
      report.results.push(runSimulation(seed));
    } catch (err) {
      report.failures.push(`seed ${seed}: ${(err as Error).message}\n  replay: ${replayCommand(seed)}`);
    }
  }
  return report;
}
