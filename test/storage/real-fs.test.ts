// Storage on the real file system in a temp dir: damaged tails, clean restarts, and a writer process
// killed with SIGKILL during acks=all production.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, open, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { splitBatches } from '../../src/protocol/record-batch.ts';
import { LogManager } from '../../src/storage/log-manager.ts';
import { batch, config, readAll } from './helpers.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'brook-storage-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('real file system', () => {
  test('truncated by a few bytes and a flipped byte in the last batch: reopen serves the valid prefix', async () => {
    const dir = await tempDir();
    const cfg = config({ segmentBytes: 4096 });
    const m = await LogManager.open({ dirs: [dir], defaults: cfg, background: false });
    const log = await m.create('t', 0, 'tid', cfg);
    for (let i = 0; i < 40; i++) await log.append(batch(4, { prefix: `r${i}` }), { leaderEpoch: 0, sync: true }).done;
    const activePath = log.active.logPath;
    m.halt(); // as kill -9: no close, no marker
    const fh = await open(activePath, 'r+');
    const size = (await fh.stat()).size;
    await fh.truncate(size - 5);
    const data = Buffer.alloc(size - 5);
    await fh.read(data, 0, data.length, 0);
    const spans = splitBatches(data, true);
    const last = spans[spans.length - 1];
    const flipAt = last.pos + last.size - 3;
    await fh.write(Buffer.from([data[flipAt] ^ 0x01]), 0, 1, flipAt);
    await fh.close();
    // The torn batch and the corrupted one before it are both gone.
    const m2 = await LogManager.open({ dirs: [dir], defaults: cfg, background: false });
    const log2 = m2.get('t', 0)!;
    const rows = await readAll(log2);
    assert.equal(rows.length, log2.logEndOffset);
    assert.equal(rows.length, 160 - 8);
    assert.equal(rows.at(-1)?.value, 'r37-3');
    await log2.append(batch(1, { prefix: 'next' }), { leaderEpoch: 1, sync: true }).done;
    await m2.close();
    const m3 = await LogManager.open({ dirs: [dir], defaults: cfg, background: false });
    assert.equal((await readAll(m3.get('t', 0)!)).at(-1)?.value, 'next-0');
    assert.deepEqual(m3.recoveredDirs, []);
    await m3.close();
    const names = await readdir(join(dir, 't-0'));
    assert.ok(names.includes('partition.metadata') && names.includes('leader-epoch-checkpoint'));
  });

  test('SIGKILL during acks=all production: every acknowledged record is there after restart', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'append-until-killed.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: { offset: number; value: string }[] = [];
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) {
          const [o, v] = l.split(' ');
          acked.push({ offset: Number(o), value: v });
        }
        if (acked.length >= 600 && child.exitCode === null) child.kill('SIGKILL');
      });
    });
    assert.ok(acked.length >= 600);
    const m = await LogManager.open({ dirs: [dir], background: false });
    assert.deepEqual(m.recoveredDirs, [dir]);
    const rows = await readAll(m.get('k', 0)!);
    const byOffset = new Map(rows.map((r) => [r.offset, r.value?.replace(/\.+$/, '')]));
    for (const a of acked) assert.equal(byOffset.get(a.offset), a.value, `acknowledged offset ${a.offset}`);
    assert.equal(rows.length, m.get('k', 0)!.logEndOffset);
    await m.close();
  });
});
