import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OffsetIndex } from '../../src/storage/offset-index.ts';
import { TimeIndex } from '../../src/storage/time-index.ts';

describe('offset index', () => {
  test('floor lookup, truncation and the file round trip', () => {
    const idx = new OffsetIndex(100, 1000, 2);
    for (const [o, p] of [[110, 400], [120, 900], [135, 1500], [150, 2100]]) idx.append(o, p);
    idx.append(140, 1800); // not increasing: ignored
    assert.equal(idx.count, 4);
    assert.equal(idx.lookup(100), 0);
    assert.equal(idx.lookup(119), 400);
    assert.equal(idx.lookup(120), 900);
    assert.equal(idx.lookup(1_000_000), 2100);
    const bytes = idx.encode();
    assert.equal(bytes.length, 32);
    assert.equal(bytes.readInt32BE(0), 10);
    assert.equal(bytes.readInt32BE(4), 400);
    const back = OffsetIndex.decode(100, 1000, bytes, 3000)!;
    assert.equal(back.lookup(136), 1500);
    assert.equal(back.persisted, 4);
    idx.truncateToOffset(135);
    assert.equal(idx.count, 2);
    idx.truncateToPosition(900);
    assert.equal(idx.count, 1);
  });

  test('decode refuses partial entries, disorder and positions past the log', () => {
    const good = new OffsetIndex(0, 10);
    good.append(5, 100);
    good.append(9, 200);
    const bytes = good.encode();
    assert.equal(OffsetIndex.decode(0, 10, bytes.subarray(0, 12), 1000), null);
    assert.equal(OffsetIndex.decode(0, 10, bytes, 150), null);
    const swapped = Buffer.concat([bytes.subarray(8), bytes.subarray(0, 8)]);
    assert.equal(OffsetIndex.decode(0, 10, swapped, 1000), null);
    assert.equal(OffsetIndex.decode(0, 10, Buffer.alloc(0), 0)?.count, 0);
  });

  test('is full at segment.index.bytes / 8 entries', () => {
    const idx = new OffsetIndex(0, 2);
    idx.append(1, 10);
    assert.equal(idx.isFull(), false);
    idx.append(2, 20);
    assert.equal(idx.isFull(), true);
  });
});

describe('time index', () => {
  test('entries only when the timestamp grows; searchStart finds where to begin', () => {
    const t = new TimeIndex(1000, 100);
    t.maybeAppend(50, 1000);
    t.maybeAppend(40, 1005); // not larger: ignored
    t.maybeAppend(70, 1010);
    t.maybeAppend(90, 1020);
    t.maybeAppend(95, 1020); // same offset: replaces
    assert.equal(t.count, 3);
    assert.equal(t.lastTimestamp(), 95);
    assert.equal(t.searchStart(10), 1000);
    assert.equal(t.searchStart(70), 1000);
    assert.equal(t.searchStart(71), 1010);
    assert.equal(t.searchStart(1000), 1020);
    const back = TimeIndex.decode(1000, 100, t.encode())!;
    assert.equal(back.lastOffset(), 1020);
    assert.equal(back.lastTimestamp(), 95);
    t.truncateToOffset(1010);
    assert.equal(t.lastOffset(), 1000);
    assert.equal(TimeIndex.decode(1000, 100, Buffer.alloc(13)), null);
  });
});
