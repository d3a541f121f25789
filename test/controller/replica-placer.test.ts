import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.ts';
import { placeReplicas, stripedRing } from '../../src/controller/replica-placer.ts';
import { seeded } from './helpers.ts';

const threeRacks = [
  { id: 1, rack: 'a' },
  { id: 2, rack: 'b' },
  { id: 3, rack: 'c' },
];

function leaderCounts(lists: number[][]): Map<number, number> {
  const m = new Map<number, number>();
  for (const l of lists) m.set(l[0], (m.get(l[0]) ?? 0) + 1);
  return m;
}

test('leaders are spread evenly over 3 brokers for every seed', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const lists = placeReplicas(threeRacks, 6, 1, seeded(seed));
    assert.deepEqual([...leaderCounts(lists).values()], [2, 2, 2], `seed ${seed}`);
  }
});

test('with replication factor 3 on 3 racks every partition has one replica per rack and leaders rotate', () => {
  for (let seed = 1; seed <= 100; seed++) {
    const lists = placeReplicas(threeRacks, 9, 3, seeded(seed));
    for (const l of lists) assert.deepEqual(l.slice().sort(), [1, 2, 3]);
    assert.deepEqual([...leaderCounts(lists).values()], [3, 3, 3]);
  }
});

test('replicas of a partition go to different racks before sharing one', () => {
  const brokers = [
    { id: 1, rack: 'a' },
    { id: 2, rack: 'a' },
    { id: 3, rack: 'b' },
    { id: 4, rack: 'b' },
  ];
  const rackOf = (id: number) => brokers.find((b) => b.id === id)!.rack;
  for (let seed = 1; seed <= 100; seed++) {
    const lists = placeReplicas(brokers, 8, 2, seeded(seed));
    for (const l of lists) {
      assert.notEqual(rackOf(l[0]), rackOf(l[1]), `seed ${seed}: ${l}`);
    }
    assert.deepEqual([...leaderCounts(lists).values()], [2, 2, 2, 2]);
    // With 3 replicas on 2 racks both racks are still used, and no broker twice.
    for (const l of placeReplicas(brokers, 4, 3, seeded(seed))) {
      assert.equal(new Set(l).size, 3);
      assert.equal(new Set(l.map(rackOf)).size, 2);
    }
  }
});

test('the striped ring alternates racks', () => {
  const brokers = [
    { id: 1, rack: 'a' },
    { id: 2, rack: 'a' },
    { id: 3, rack: 'b' },
    { id: 4, rack: 'b' },
    { id: 5, rack: 'c' },
  ];
  const ring = stripedRing(brokers, seeded(3));
  assert.equal(ring.length, 5);
  for (let i = 0; i + 1 < 3; i++) assert.notEqual(ring[i].rack, ring[i + 1].rack);
  assert.deepEqual(ring.map((b) => b.id).sort(), [1, 2, 3, 4, 5]);
});

test('brokers without racks are placed round robin; the same seed gives the same placement', () => {
  const brokers = [1, 2, 3, 4].map((id) => ({ id, rack: null }));
  const a = placeReplicas(brokers, 8, 2, seeded(42));
  const b = placeReplicas(brokers, 8, 2, seeded(42));
  assert.deepEqual(a, b);
  assert.deepEqual([...leaderCounts(a).values()], [2, 2, 2, 2]);
  for (const l of a) assert.equal(new Set(l).size, 2);
  // Follower sets vary across turns of the ring.
  const pairs = new Set(placeReplicas(brokers, 12, 2, seeded(42)).map((l) => l.join(',')));
  assert.ok(pairs.size > 4, `only ${pairs.size} distinct replica lists`);
});

test('a replication factor above the usable brokers is INVALID_REPLICATION_FACTOR', () => {
  assert.throws(
    () => placeReplicas(threeRacks, 1, 4, seeded(1)),
    (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_REPLICATION_FACTOR,
  );
  assert.throws(
    () => placeReplicas([], 1, 1, seeded(1)),
    (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_REPLICATION_FACTOR,
  );
});
