// Kafka's default partitioner: murmur2 against the values Kafka's own UtilsTest pins, the
// toPositive/modulo rule, and the sticky partitioner for keyless records (KIP-480).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur2, partitionForKey, StickyPartitioner, toPositive } from '../../src/client/partitioner.ts';

describe('murmur2', () => {
  test('matches the hashes Kafka pins in its tests', () => {
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [s, h] of cases) assert.equal(murmur2(Buffer.from(s)), h, s);
  });

  test('covers every tail length and bytes above 0x7f', () => {
    const bytes = Buffer.from([0xff, 0x80, 0x7f, 0x00, 0xfe, 0x01, 0xaa]);
    const hashes = new Set<number>();
    for (let n = 0; n <= bytes.length; n++) {
      const h = murmur2(bytes.subarray(0, n));
      assert.ok(Number.isInteger(h) && h >= -(2 ** 31) && h < 2 ** 31, `length ${n}: ${h} is an int32`);
      hashes.add(h);
    }
    assert.equal(hashes.size, bytes.length + 1, 'each prefix hashes differently');
  });

  test('toPositive clears the sign bit (not Math.abs)', () => {
    assert.equal(toPositive(-1), 0x7fffffff);
    assert.equal(toPositive(-(2 ** 31)), 0);
    assert.equal(toPositive(5), 5);
  });

  test('partitionForKey = toPositive(murmur2(key)) % n', () => {
    assert.equal(partitionForKey(Buffer.from('foobar'), 10), toPositive(-790332482) % 10);
    assert.equal(partitionForKey(Buffer.from('21'), 3), toPositive(-973932308) % 3);
    for (let i = 0; i < 100; i++) {
      const p = partitionForKey(Buffer.from(`key-${i}`), 7);
      assert.ok(p >= 0 && p < 7);
    }
  });
});

describe('sticky partitioner', () => {
  const seeded = (values: number[]) => {
    let i = 0;
    return () => values[i++ % values.length];
  };

  test('sticks to one partition until its batch closes, then moves to another', () => {
    const sp = new StickyPartitioner(seeded([0.5, 0.1, 0.9]));
    const first = sp.partition('t', [0, 1, 2, 3], 4);
    for (let i = 0; i < 10; i++) assert.equal(sp.partition('t', [0, 1, 2, 3], 4), first);
    sp.batchClosed('t', first, [0, 1, 2, 3], 4);
    const second = sp.partition('t', [0, 1, 2, 3], 4);
    assert.notEqual(second, first);
    sp.batchClosed('t', first, [0, 1, 2, 3], 4);
    assert.equal(sp.partition('t', [0, 1, 2, 3], 4), second, 'closing a batch of another partition changes nothing');
  });

  test('chooses only partitions with a leader, and leaves one that lost its leader', () => {
    const sp = new StickyPartitioner(seeded([0.99]));
    assert.equal(sp.partition('t', [2], 4), 2);
    assert.equal(sp.partition('t', [0, 1], 4), 1, 'partition 2 has no leader any more');
    assert.equal(sp.partition('u', [], 3), 2, 'with no leader anywhere any partition will do');
  });

  test('topics are independent; a single partition is always chosen', () => {
    const sp = new StickyPartitioner(seeded([0.2, 0.7]));
    const a = sp.partition('a', [0, 1, 2], 3);
    const b = sp.partition('b', [0, 1, 2], 3);
    assert.equal(sp.partition('a', [0, 1, 2], 3), a);
    assert.equal(sp.partition('b', [0, 1, 2], 3), b);
    sp.batchClosed('c', 0, [0], 1);
    assert.equal(sp.partition('c', [0], 1), 0);
    sp.batchClosed('c', 0, [0], 1);
    assert.equal(sp.partition('c', [0], 1), 0);
  });
});
