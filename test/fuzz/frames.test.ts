// The end-to-end frame fuzzer (scripts/fuzz-frames.ts) against a broker in its own process:
// ≥ 20,000 malformed frames over 64 concurrent connections (BROOK_FUZZ_FRAMES=100000 for the long
// run; BROOK_FUZZ_SEED replays one). Every frame must get its close or answer within 1 s, the
// broker must not crash, its peak RSS (VmHWM) stays bounded, and a normal client afterwards
// produces and consumes correctly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnBroker } from '../helpers/broker.ts';
import { runFrameFuzz, summary } from '../../scripts/fuzz-frames.ts';
import { fuzzSeed } from './mutations.ts';

const FRAMES = Math.max(20_000, Number(process.env.BROOK_FUZZ_FRAMES ?? 20_000));
const PEAK_RSS_LIMIT = 1024 * 2 ** 20;

test(`${FRAMES} malformed frames: each closed or answered within 1 s, no crash, bounded memory, a normal client works after`, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'brook-fuzz-'));
  const broker = await spawnBroker({ dataDir, set: { 'auto.create.topics.enable': 'false' } });
  try {
    const report = await runFrameFuzz({
      host: '127.0.0.1', port: broker.port, frames: FRAMES, connections: 64, seed: fuzzSeed(), pid: broker.child.pid,
      log: (line) => console.log(line),
    });
    console.log(summary(report));
    assert.equal(report.crashes, 0, 'the broker crashed');
    assert.ok(report.framesSent >= FRAMES, `only ${report.framesSent} frames sent`);
    assert.deepEqual(report.violations, [], `seed ${report.seed}: frames without the reaction they must get`);
    assert.ok(report.reactions.closed > FRAMES / 2 && report.reactions.answered > 0, 'both closes and answers were exercised');
    for (const kind of ['size-edge', 'bad-crc-produce', 'bomb-produce', 'unknown-key', 'unknown-version', 'mutated-body', 'truncated-body', 'cut-and-disconnect']) {
      assert.ok((report.byKind[kind] ?? 0) > 0, `no ${kind} frames`);
    }
    assert.ok(report.peakRssBytes !== null && report.peakRssBytes < PEAK_RSS_LIMIT, `peak RSS ${report.peakRssBytes}`);
    assert.equal(report.normalClientOk, true, 'a normal client could not produce and consume afterwards');
  } finally {
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
