// Deterministic simulation of the quorum (see sim/simulation.ts), seeds with seed % 2 === 1; the
// other half runs in simulation-shard-0.test.ts so the two use both cores.
// More seeds: BROOK_RAFT_SEEDS=20000 node_modules/.bin/node --test test/raft/simulation-shard-*.test.ts

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runShard } from './sim/run-seeds.ts';

test('simulation: no invariant violated and the quorum recovers, on every seed (shard 1 of 2)', () => {
  const report = runShard(1, 2);
  assert.ok(report.ran > 0);
  assert.equal(report.failures.length, 0, `${report.failures.length} of ${report.ran} seeds failed:\n${report.failures.join('\n')}`);
  // The runs did exercise elections and commits, not an idle cluster.
  assert.ok(report.results.some((r) => r.maxEpoch >= 3));
  assert.ok(report.results.every((r) => r.committed > 0));
  // Some runs lost their leader for good and elected another without it.
  assert.ok(report.results.some((r) => r.killedLeader !== null));
});
