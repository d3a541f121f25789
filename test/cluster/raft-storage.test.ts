// The Raft core's durable state on disk (src/raft/driver/raft-storage.ts) and the entry encoding it
// uses (entry-codec.ts), on the in-memory filesystem that loses unsynced writes on a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';
import { RaftDiskStorage, checkpointFileName, logFileName } from '../../src/raft/driver/raft-storage.ts';
import { decodeEntry, encodeEntry, scanEntries } from '../../src/raft/driver/entry-codec.ts';
import { buildRecordBatch, decodeRecords } from '../../src/protocol/record-batch.ts';
import type { Entry } from '../../src/raft/types.ts';

const DIR = '/meta/__cluster_metadata-0';

function data(offset: number, epoch: number, text: string): Entry {
  const payload = buildRecordBatch({ records: [{ key: null, value: Buffer.from(text), timestamp: 1 }] });
  return { offset, epoch, data: { type: 'data', payload } };
}

function leaderChange(offset: number, epoch: number): Entry {
  return { offset, epoch, data: { type: 'leader-change', leaderId: 2, voters: [1, 2, 3], grantingVoters: [2, 3] } };
}

function texts(entries: readonly Entry[]): string[] {
  return entries.map((e) => `${e.offset}@${e.epoch}:${e.data.type === 'data' ? decodeRecords(Buffer.from(e.data.payload))[0].value!.toString() : 'LC'}`);
}

/** A filesystem whose metadata directory's parent exists durably (the broker's data directory). */
async function disk(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem();
  await fs.mkdir('/meta');
  await fs.syncDir('/');
  return fs;
}

test('an entry is one v2 batch: offset and epoch in the header, LeaderChange as a control record', () => {
  for (const e of [data(7, 3, 'abc'), leaderChange(8, 4)]) {
    const back = decodeEntry(encodeEntry(e));
    assert.equal(back.offset, e.offset);
    assert.equal(back.epoch, e.epoch);
    if (e.data.type === 'leader-change') assert.deepEqual(back.data, e.data);
    else assert.deepEqual(texts([back]), texts([e]));
  }
  assert.throws(() => encodeEntry({ offset: 0, epoch: 1, data: { type: 'data', payload: new Uint8Array([1, 2, 3]) } }));
});

test('scanning stops at a torn batch, a bad CRC, or offsets that do not continue', () => {
  const bytes = Buffer.concat([encodeEntry(data(0, 1, 'aaa')), encodeEntry(leaderChange(1, 1)), encodeEntry(data(2, 1, 'ccc'))]);
  assert.equal(scanEntries(bytes).entries.length, 3);
  assert.equal(scanEntries(bytes.subarray(0, bytes.length - 1)).entries.length, 2);
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 2] ^= 0xff;
  assert.equal(scanEntries(flipped).entries.length, 2);
  const gap = Buffer.concat([encodeEntry(data(0, 1, 'aaa')), encodeEntry(data(5, 1, 'fff'))]);
  assert.deepEqual(scanEntries(gap), { entries: scanEntries(encodeEntry(data(0, 1, 'aaa'))).entries, validBytes: encodeEntry(data(0, 1, 'aaa')).length });
});

test('appends, truncations and the quorum state survive a restart once synced; unsynced appends may be lost', async () => {
  const fs = await disk();
  let s = await RaftDiskStorage.open(DIR, fs);
  assert.equal(s.fresh, true);
  await s.apply([
    { op: 'hard-state', state: { epoch: 2, votedFor: 3, leaderId: null } },
    { op: 'append', entries: [leaderChange(0, 1), data(1, 1, 'bbb'), data(2, 2, 'ccc')] },
    { op: 'truncate', offset: 2 },
    { op: 'append', entries: [data(2, 2, 'CCC')] },
  ]);
  await s.sync();
  await s.apply([{ op: 'append', entries: [data(3, 2, 'ddd')] }]); // not synced
  fs.crash('none');
  s = await RaftDiskStorage.open(DIR, fs);
  assert.equal(s.fresh, false);
  assert.deepEqual(s.loaded.hardState, { epoch: 2, votedFor: 3, leaderId: null });
  assert.deepEqual(texts(s.loaded.entries), ['0@1:LC', '1@1:bbb', '2@2:CCC']);
  assert.equal(s.endOffset, 3);
  await s.close();
});

test('a torn tail is cut off on open and appends continue after it', async () => {
  const fs = await disk();
  let s = await RaftDiskStorage.open(DIR, fs);
  await s.apply([{ op: 'append', entries: [data(0, 1, 'aaa'), data(1, 1, 'bbb')] }]);
  await s.sync();
  await s.close();
  const path = `${DIR}/${logFileName(0)}`;
  const size = fs.peek(path).length;
  fs.corrupt(path, size - 3, Buffer.from([0, 0, 0]));
  s = await RaftDiskStorage.open(DIR, fs);
  assert.deepEqual(texts(s.loaded.entries), ['0@1:aaa']);
  await s.apply([{ op: 'append', entries: [data(1, 2, 'xyz')] }]);
  await s.sync();
  await s.close();
  s = await RaftDiskStorage.open(DIR, fs);
  assert.deepEqual(texts(s.loaded.entries), ['0@1:aaa', '1@2:xyz']);
  await s.close();
});

test('a snapshot is stored atomically and compacts the log into a segment named by its end offset', async () => {
  const fs = await disk();
  let s = await RaftDiskStorage.open(DIR, fs);
  await s.apply([{ op: 'append', entries: [leaderChange(0, 1), data(1, 1, 'bbb'), data(2, 1, 'ccc'), data(3, 1, 'ddd')] }]);
  await s.sync();
  const snapshot = { id: { endOffset: 3, epoch: 1 }, data: new Uint8Array([9, 8, 7]) };
  await s.apply([{ op: 'snapshot', snapshot }]);
  assert.equal(s.startOffset, 3);
  const names = (await fs.readdir(DIR)).sort();
  assert.deepEqual(names, [checkpointFileName(snapshot.id), logFileName(3)].sort());
  await s.apply([{ op: 'append', entries: [data(4, 2, 'eee')] }]);
  await s.sync();
  fs.crash('none');
  s = await RaftDiskStorage.open(DIR, fs);
  assert.deepEqual(s.loaded.snapshot?.id, snapshot.id);
  assert.deepEqual([...s.loaded.snapshot!.data], [9, 8, 7]);
  assert.deepEqual(texts(s.loaded.entries), ['3@1:ddd', '4@2:eee']);
  // An installed snapshot beyond the log (after the core truncated it) leaves an empty log.
  await s.apply([{ op: 'truncate', offset: 3 }, { op: 'snapshot', snapshot: { id: { endOffset: 10, epoch: 3 }, data: new Uint8Array([1]) } }]);
  await s.close();
  s = await RaftDiskStorage.open(DIR, fs);
  assert.deepEqual(s.loaded.snapshot?.id, { endOffset: 10, epoch: 3 });
  assert.deepEqual(s.loaded.entries, []);
  assert.equal(s.endOffset, 10);
  assert.deepEqual((await fs.readdir(DIR)).sort(), [checkpointFileName({ endOffset: 10, epoch: 3 }), logFileName(10)].sort());
  await s.close();
});

test('a compaction cut short by a crash: the newest snapshot wins and the old segment is trimmed to follow it', async () => {
  const fs = await disk();
  let s = await RaftDiskStorage.open(DIR, fs);
  await s.apply([{ op: 'append', entries: [data(0, 1, 'aaa'), data(1, 1, 'bbb'), data(2, 1, 'ccc')] }]);
  await s.sync();
  await s.close();
  // The checkpoint was written, the log was not yet rewritten.
  const h = await fs.open(`${DIR}/${checkpointFileName({ endOffset: 2, epoch: 1 })}`, 'w+');
  await h.writev([Buffer.from([5])], 0);
  await h.datasync();
  await h.close();
  await fs.syncDir(DIR);
  s = await RaftDiskStorage.open(DIR, fs);
  assert.equal(s.startOffset, 2);
  assert.deepEqual(texts(s.loaded.entries), ['2@1:ccc']);
  assert.deepEqual((await fs.readdir(DIR)).sort(), [checkpointFileName({ endOffset: 2, epoch: 1 }), logFileName(2)].sort());
  await s.close();
});
