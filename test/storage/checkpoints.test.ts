import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatOffsetCheckpoint, parseCheckpoint, readOffsetCheckpoint, SerialFileWriter, writeFileAtomic,
} from '../../src/storage/checkpoint-file.ts';
import { offsetName, parseOffsetName, parsePartitionDir } from '../../src/storage/file-names.ts';
import { LeaderEpochCache } from '../../src/storage/leader-epoch-cache.ts';
import { defaultLogConfig, logConfigFrom } from '../../src/storage/log-config.ts';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';
import { formatPartitionMetadata, parsePartitionMetadata } from '../../src/storage/partition-metadata.ts';

describe('checkpoint files', () => {
  test("Kafka's offset checkpoint format round-trips; malformed content reads as empty", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d');
    const data = formatOffsetCheckpoint([{ topic: 'a.b-c', partition: 3, offset: 42 }, { topic: 'x', partition: 0, offset: 0 }]);
    assert.equal(data.toString(), '0\n2\na.b-c 3 42\nx 0 0\n');
    await writeFileAtomic(fs, '/d/cp', data);
    assert.deepEqual([...(await readOffsetCheckpoint(fs, '/d/cp'))], [['a.b-c-3', 42], ['x-0', 0]]);
    assert.equal(parseCheckpoint(Buffer.from('0\n3\na 1 2\n'), 3), null);
    assert.equal(parseCheckpoint(Buffer.from('1\n0\n'), 3), null);
    assert.equal((await readOffsetCheckpoint(fs, '/d/missing')).size, 0);
  });

  test('atomic replacement survives a crash as old or new content, never a mix', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d');
    await writeFileAtomic(fs, '/d/cp', Buffer.from('old'));
    const pending = writeFileAtomic(fs, '/d/cp', Buffer.from('new-content'));
    fs.crash('random');
    await pending.catch(() => {});
    assert.ok(['old', 'new-content'].includes(fs.peek('/d/cp').toString()));
  });

  test('SerialFileWriter coalesces writes requested while one runs', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d');
    const w = new SerialFileWriter(fs, '/d/f');
    let evaluated = 0;
    const ps = [1, 2, 3, 4].map((n) => w.write(() => {
      evaluated++;
      return Buffer.from(`v${n}`);
    }));
    await Promise.all(ps);
    assert.equal(fs.peek('/d/f').toString(), 'v4');
    assert.ok(evaluated <= 2, `content built ${evaluated} times`);
  });
});

describe('leader epoch cache (KIP-101)', () => {
  test('assign, end offsets, truncation from both ends, checkpoint text', () => {
    const c = new LeaderEpochCache();
    assert.deepEqual(c.endOffsetFor(0, 10), { epoch: -1, endOffset: -1 });
    c.assign(1, 0);
    c.assign(1, 5); // same epoch later: no change
    c.assign(3, 10);
    c.assign(4, 25);
    assert.deepEqual(c.endOffsetFor(1, 40), { epoch: 1, endOffset: 10 });
    assert.deepEqual(c.endOffsetFor(2, 40), { epoch: 1, endOffset: 10 });
    assert.deepEqual(c.endOffsetFor(4, 40), { epoch: 4, endOffset: 40 });
    assert.equal(c.encode().toString(), '0\n3\n1 0\n3 10\n4 25\n');
    c.assign(5, 20); // start offset before epoch 4's: epoch 4 is dropped
    assert.deepEqual(c.entries.map((e) => e.epoch), [1, 3, 5]);
    c.truncateFromEnd(20);
    assert.deepEqual(c.entries.map((e) => e.epoch), [1, 3]);
    c.truncateFromStart(12);
    assert.deepEqual(c.entries, [{ epoch: 3, startOffset: 12 }]);
    assert.deepEqual(LeaderEpochCache.decode(c.encode()).entries, c.entries);
    assert.deepEqual(LeaderEpochCache.decode(Buffer.from('garbage')).entries, []);
  });
});

describe('names and small formats', () => {
  test('segment and partition directory names', () => {
    assert.equal(offsetName(42), '00000000000000000042');
    assert.equal(parseOffsetName('00000000000000000042.log', '.log'), 42);
    assert.equal(parseOffsetName('42.log', '.log'), -1);
    assert.deepEqual(parsePartitionDir('my-topic-12'), { topic: 'my-topic', partition: 12 });
    assert.equal(parsePartitionDir('t-0.0123abc-delete'), null);
    assert.equal(parsePartitionDir('recovery-point-offset-checkpoint'), null);
  });

  test('partition.metadata (KIP-516)', () => {
    const data = formatPartitionMetadata('AbCdEfGhIjKlMnOpQrStUv');
    assert.equal(data.toString(), 'version: 0\ntopic_id: AbCdEfGhIjKlMnOpQrStUv\n');
    assert.equal(parsePartitionMetadata(data), 'AbCdEfGhIjKlMnOpQrStUv');
    assert.equal(parsePartitionMetadata(Buffer.from('version: 1\n')), null);
  });

  test('log config from Kafka names, with validation', () => {
    const c = logConfigFrom({ 'segment.bytes': '1024', 'cleanup.policy': 'delete,compact', 'retention.ms': '-1', 'unknown.key': 'x' });
    assert.equal(c.segmentBytes, 1024);
    assert.equal(c.cleanupPolicy, 'compact,delete');
    assert.equal(c.retentionMs, -1);
    assert.equal(c.indexIntervalBytes, defaultLogConfig.indexIntervalBytes);
    assert.throws(() => logConfigFrom({ 'segment.bytes': 'lots' }), RangeError);
    assert.throws(() => logConfigFrom({ 'cleanup.policy': 'keep' }), RangeError);
    assert.equal(defaultLogConfig.segmentBytes, 1 << 30);
    assert.equal(defaultLogConfig.retentionMs, 604_800_000);
  });
});
