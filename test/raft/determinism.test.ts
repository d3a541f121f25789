// A seed is a complete description of a simulation run: running it twice must produce the same
// trace hash and outcome (else a failing seed could not be replayed), and tracing must not change it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from './sim/simulation.ts';
import { replayCommand } from './sim/run-seeds.ts';

test('the same seed replays identically, with or without an event log', () => {
  for (const seed of [3, 1661, 424242]) {
    const first = runSimulation(seed);
    const lines: string[] = [];
    const second = runSimulation(seed, { log: (l) => lines.push(l) });
    assert.deepEqual(second, first);
    assert.ok(lines.length > 100, 'the event log was written');
  }
});

test('different seeds give different runs', () => {
  const hashes = new Set([1, 2, 3, 4, 5].map((s) => runSimulation(s).traceHash));
  assert.equal(hashes.size, 5);
});

test('a failing seed is reported with a command that replays it', () => {
  assert.equal(replayCommand(17), 'node_modules/.bin/node test/raft/sim/replay.ts 17');
});
