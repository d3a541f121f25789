// Producer ids come from controller blocks: consecutive within a block, the next block fetched
// ahead (at 90% use), never an id twice, and a failed allocation surfaces to the caller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProducerIdManager } from '../../src/txn/producer-ids.ts';

test('ids are handed out from blocks, the next block fetched before the current one runs out', async () => {
  const calls: bigint[] = [];
  let next = 0n;
  const m = new ProducerIdManager(async () => {
    const first = next;
    next += 10n;
    calls.push(first);
    return { firstProducerId: first, size: 10 };
  });
  const ids: bigint[] = [];
  for (let i = 0; i < 25; i++) ids.push(await m.next());
  assert.deepEqual(ids, Array.from({ length: 25 }, (_, i) => BigInt(i)));
  assert.deepEqual(calls, [0n, 10n, 20n], 'one allocation per block');
  const concurrent = await Promise.all(Array.from({ length: 30 }, () => m.next()));
  assert.equal(new Set(concurrent).size, 30, 'concurrent callers never share an id');
  assert.ok(concurrent.every((id) => id >= 25n));
});

test('an allocation failure rejects the caller; the next call tries again', async () => {
  let fail = true;
  const m = new ProducerIdManager(async () => {
    if (fail) throw new Error('controller unavailable');
    return { firstProducerId: 1000n, size: 5 };
  });
  await assert.rejects(m.next(), /controller unavailable/);
  fail = false;
  assert.equal(await m.next(), 1000n);
});
