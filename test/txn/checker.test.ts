// The Jepsen-style checker (checker.ts) must catch each anomaly on a hand-made bad history, and
// pass a good one: a checker that never fails proves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, type History, type Read, type Write } from './checker.ts';

const ok = (value: string, extra: Partial<Write> = {}): Write => ({ value, status: 'ok', ...extra });
const at = (partition: number, offset: number, value: string): Read => ({ partition, offset, value });

function good(): History {
  return {
    writes: [
      ok('a', { producer: 'p', partition: 0, seq: 0 }),
      ok('b', { producer: 'p', partition: 0, seq: 1 }),
      { value: 'maybe', status: 'info' },
      { value: 'no', status: 'fail' },
      { value: 't1', status: 'ok', txn: 'T1' },
      { value: 't2', status: 'ok', txn: 'T1' },
      { value: 'x1', status: 'ok', txn: 'T2' },
      { value: 'u1', status: 'info', txn: 'T3' },
      { value: 'u2', status: 'info', txn: 'T3' },
    ],
    txns: new Map([['T1', 'committed'], ['T2', 'aborted'], ['T3', 'unknown']]),
    reads: [at(0, 0, 'a'), at(0, 1, 'b'), at(1, 0, 't1'), at(1, 1, 't2'), at(1, 5, 'u1'), at(1, 6, 'u2')],
  };
}

test('a correct history passes (unknown writes may or may not appear; an unknown transaction wholly)', () => {
  const r = check(good());
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.deepEqual(r.counts, { written: 9, acknowledged: 4, read: 6 });
});

test('an acknowledged write never read is lost', () => {
  const h = good();
  h.reads = h.reads.filter((r) => r.value !== 'b');
  assert.deepEqual(check(h).lost, ['b']);
  h.reads = good().reads.filter((r) => r.value !== 't2');
  assert.deepEqual(check(h).lost, ['t2'], 'a committed transaction is acknowledged');
  assert.equal(check(h).ok, false);
});

test('a value at two offsets is a duplicate (the retried batch appended twice)', () => {
  const h = good();
  h.reads.push(at(0, 2, 'a'));
  const r = check(h);
  assert.deepEqual(r.duplicates, ['a']);
  assert.equal(r.ok, false);
});

test('a value of an aborted transaction, or a failed write, seen by read_committed is an aborted read', () => {
  const h = good();
  h.reads.push(at(1, 3, 'x1'), at(0, 9, 'no'));
  assert.deepEqual(check(h).abortedReads.sort(), ['no', 'x1']);
});

test('a transaction of unknown outcome seen in part is half-visible', () => {
  const h = good();
  h.reads = h.reads.filter((r) => r.value !== 'u2');
  assert.deepEqual(check(h).partialTransactions, ['T3: 1/2 visible']);
  h.reads = h.reads.filter((r) => r.value !== 'u1');
  assert.equal(check(h).ok, true, 'none of it is fine');
});

test('one offset with two values is inconsistent; a value never written is unexpected', () => {
  const h = good();
  h.reads.push(at(0, 1, 'zzz'));
  const r = check(h);
  assert.deepEqual(r.inconsistentOffsets, ['0@1: b / zzz']);
  assert.deepEqual(r.unexpected, ['zzz']);
});

test('acknowledged values of one producer and partition read out of send order are reordered', () => {
  const h = good();
  h.reads = [at(0, 0, 'b'), at(0, 1, 'a'), ...h.reads.slice(2)];
  assert.deepEqual(check(h).reordered, ['p/0: a after b']);
});

test('a history that writes a value twice is refused (values must be unique)', () => {
  assert.throws(() => check({ writes: [ok('a'), ok('a')], reads: [] }), /unique/);
});
