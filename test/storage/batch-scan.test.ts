import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { baseOffsetOf, setBaseOffset, splitBatches } from '../../src/protocol/record-batch.ts';
import { checkBatch, CORRUPT, INCOMPLETE, scanBatches } from '../../src/storage/batch-scan.ts';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';
import { batch } from './helpers.ts';

function log(n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0, off = 0; i < n; i++, off += 3) {
    const b = batch(3, { prefix: `b${i}`.padEnd(i * 10, '.') });
    setBaseOffset(b, 0, off);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

async function file(data: Buffer) {
  const fs = new MemoryFileSystem();
  const h = await fs.open('/f', 'w+');
  await h.writev([data], 0);
  return h;
}

describe('batch scan', () => {
  test('checkBatch: valid, incomplete, corrupt (length, magic, CRC)', () => {
    const b = batch(2);
    assert.equal(checkBatch(b, 0, b.length), b.length);
    assert.equal(checkBatch(b, 0, b.length - 1), INCOMPLETE);
    assert.equal(checkBatch(b, 0, 10), INCOMPLETE);
    const badCrc = Buffer.from(b);
    badCrc[b.length - 1] ^= 1;
    assert.equal(checkBatch(badCrc, 0, b.length), CORRUPT);
    assert.equal(checkBatch(badCrc, 0, b.length, false), b.length);
    const badMagic = Buffer.from(b);
    badMagic[16] = 1;
    assert.equal(checkBatch(badMagic, 0, b.length), CORRUPT);
    const badLen = Buffer.from(b);
    badLen.writeInt32BE(3, 8);
    assert.equal(checkBatch(badLen, 0, b.length), CORRUPT);
  });

  test('walks every batch across chunk boundaries, growing for batches bigger than a chunk', async () => {
    const data = log(30);
    const h = await file(data);
    const bases: number[] = [];
    const r = await scanBatches(h, 0, data.length, (buf, pos) => {
      bases.push(baseOffsetOf(buf, pos));
    }, { validate: true, chunkBytes: 100 });
    assert.deepEqual(r, { position: data.length, stop: 'end' });
    assert.deepEqual(bases, Array.from({ length: 30 }, (_, i) => i * 3));
  });

  test('stops at a torn tail or a corrupt batch, reporting where the valid data ends', async () => {
    const data = log(5);
    const torn = await file(data.subarray(0, data.length - 4));
    const r1 = await scanBatches(torn, 0, data.length, () => {}, { validate: true, chunkBytes: 64 });
    const spans = splitBatches(data);
    assert.deepEqual(r1, { position: spans[4].pos, stop: 'torn' });
    const bad = Buffer.from(data);
    bad[spans[1].pos + 70] ^= 0x10;
    const r2 = await scanBatches(await file(bad), 0, bad.length, () => {}, { validate: true });
    assert.deepEqual(r2, { position: spans[1].pos, stop: 'corrupt' });
  });
});
