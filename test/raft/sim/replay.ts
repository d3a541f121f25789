// Replays one simulation seed and prints every event:
//   node_modules/.bin/node test/raft/sim/replay.ts <seed> [--quiet]

import { runSimulation } from './simulation.ts';

const seed = Number(process.argv[2]);
if (!Number.isInteger(seed)) {
  console.error('usage: node test/raft/sim/replay.ts <seed> [--quiet]');
  process.exit(2);
}
const quiet = process.argv.includes('--quiet');
try {
  const result = runSimulation(seed, quiet ? {} : { log: (line) => console.log(line) });
  console.log(JSON.stringify(result));
} catch (err) {
  console.error(`seed ${seed} failed: ${(err as Error).message}`);
  process.exitCode = 1;
}
