import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, truncate, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';
import { StorageError } from '../../src/storage/errors.ts';
import { FileMetadataLog, METADATA_LOG_FILE, METADATA_PARTITION_DIR } from '../../src/controller/file-metadata-log.ts';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'brook-metalog-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function all(log: FileMetadataLog): Promise<[string, number][]> {
  const out: [string, number][] = [];
  await log.replay((r, o) => out.push([r.toString(), o]));
  return out;
}

const rec = (s: string) => Buffer.from(s);

test('appends survive a reopen with their offsets', () =>
  withDir(async (dir) => {
    const log = await FileMetadataLog.open(dir);
    assert.equal(await log.append([rec('a'), rec('b')]), 1);
    assert.equal(await log.append([rec('c')]), 2);
    assert.equal(await log.append([rec('')]), 3, 'an empty record is a record');
    await log.close();
    const again = await FileMetadataLog.open(dir);
    assert.deepEqual(await all(again), [['a', 0], ['b', 1], ['c', 2], ['', 3]]);
    assert.equal(again.recovery.truncatedBytes, 0);
    assert.equal(await again.append([rec('d')]), 4);
    await again.close();
    assert.ok((await stat(join(dir, METADATA_PARTITION_DIR, METADATA_LOG_FILE))).isFile());
  }));

test('a torn last frame is truncated on open; earlier frames stay', () =>
  withDir(async (dir) => {
    const log = await FileMetadataLog.open(dir);
    await log.append([rec('one')]);
    await log.append([rec('two'), rec('three')]);
    await log.close();
    const path = join(dir, METADATA_PARTITION_DIR, METADATA_LOG_FILE);
    const full = (await stat(path)).size;
    await truncate(path, full - 3);
    const reopened = await FileMetadataLog.open(dir);
    assert.deepEqual(await all(reopened), [['one', 0]], 'the torn batch is gone as a whole');
    assert.ok(reopened.recovery.truncatedBytes > 0);
    assert.equal(await reopened.append([rec('four')]), 1, 'offsets continue after the valid prefix');
    await reopened.close();
    const third = await FileMetadataLog.open(dir);
    assert.deepEqual(await all(third), [['one', 0], ['four', 1]]);
    assert.equal(third.recovery.truncatedBytes, 0);
    await third.close();
  }));

test('a flipped byte fails the CRC: that frame and the rest are cut; garbage appended after is cut too', () =>
  withDir(async (dir) => {
    const log = await FileMetadataLog.open(dir);
    await log.append([rec('first')]);
    await log.append([rec('second')]);
    await log.append([rec('third')]);
    await log.close();
    const path = join(dir, METADATA_PARTITION_DIR, METADATA_LOG_FILE);
    const bytes = await readFile(path);
    // Flip a byte inside the second record's payload.
    const at = bytes.indexOf('second');
    bytes[at] ^= 0xff;
    await writeFile(path, bytes);
    let reopened = await FileMetadataLog.open(dir);
    assert.deepEqual(await all(reopened), [['first', 0]]);
    await reopened.close();
    // Zeros after valid frames (preallocated or torn-to-zero tail).
    const valid = (await stat(path)).size;
    await writeFile(path, Buffer.concat([await readFile(path), Buffer.alloc(100)]));
    reopened = await FileMetadataLog.open(dir);
    assert.equal(reopened.recovery.validBytes, valid);
    assert.deepEqual(await all(reopened), [['first', 0]]);
    await reopened.close();
  }));

test('a failed fsync rejects the append, leaves no partial frame and later appends work', async () => {
  const fs = new MemoryFileSystem();
  const log = await FileMetadataLog.open('/data', { fs });
  await log.append([rec('kept')]);
  fs.failNext('datasync', 'EIO');
  await assert.rejects(log.append([rec('lost')]), (e: unknown) => e instanceof StorageError && e.code === 'EIO');
  assert.equal(await log.append([rec('next')]), 1);
  assert.deepEqual(await all(log), [['kept', 0], ['next', 1]]);
  await log.close();
});

test('a partial write followed by a crash is recovered to the last whole frame', async () => {
  const fs = new MemoryFileSystem();
  const log = await FileMetadataLog.open('/data', { fs });
  await log.append([rec('durable')]);
  fs.failNext('write', 'ENOSPC', { partialBytes: 5 });
  fs.failNext('truncate', 'EIO');
  await assert.rejects(log.append([rec('half')]), StorageError);
  await assert.rejects(log.append([rec('refused')]), StorageError, 'a log that could not undo a failed write refuses appends');
  fs.crash('all');
  const reopened = await FileMetadataLog.open('/data', { fs });
  assert.deepEqual(await all(reopened), [['durable', 0]]);
  assert.equal(reopened.recovery.truncatedBytes, 5);
  await reopened.close();
});

test('power loss during an unacknowledged append: acknowledged records stay, the batch is all or nothing', async () => {
  const outcomes = new Set<number>();
  for (let seed = 1; seed <= 40; seed++) {
    const fs = new MemoryFileSystem();
    const log = await FileMetadataLog.open('/data', { fs });
    const acked: string[] = [];
    for (let i = 0; i < 5; i++) {
      await log.append([rec(`r${i}`), rec(`s${i}`)]);
      acked.push(`r${i}`, `s${i}`);
    }
    // The sixth append is written but never synced (and cannot be undone) when the power goes.
    fs.failNext('datasync', 'EIO');
    fs.failNext('truncate', 'EIO');
    await assert.rejects(log.append([rec('r5'), rec('s5')]), StorageError);
    let x = seed;
    fs.crash('random', () => ((x = (x * 48271) % 2147483647) / 2147483647));
    const reopened = await FileMetadataLog.open('/data', { fs });
    const got = (await all(reopened)).map(([r]) => r);
    assert.deepEqual(got.slice(0, acked.length), acked, `seed ${seed}`);
    assert.ok(got.length === acked.length || got.length === acked.length + 2, `seed ${seed}: ${got.length} records`);
    outcomes.add(got.length);
    await reopened.close();
  }
  assert.ok(outcomes.has(10), 'some seeds tear the unsynced batch away');
});
