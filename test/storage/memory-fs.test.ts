import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryFileSystem } from '../../src/storage/memory-fs.ts';

async function write(fs: MemoryFileSystem, path: string, text: string, at = 0, sync = false): Promise<void> {
  const h = await fs.open(path, (await fs.stat(path)) === null ? 'w+' : 'r+');
  await h.writev([Buffer.from(text)], at);
  if (sync) await h.datasync();
  await h.close();
}

describe('memory fs', () => {
  test('reads back what was written, positional, with short reads at the end', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/a/b');
    await write(fs, '/a/b/f', 'hello world');
    await write(fs, '/a/b/f', 'W', 6);
    const h = await fs.open('/a/b/f', 'r');
    const buf = Buffer.alloc(20);
    assert.equal(await h.read(buf, 0, 20, 3), 8);
    assert.equal(buf.subarray(0, 8).toString(), 'lo World');
    assert.equal(await h.size(), 11);
    await h.close();
    assert.deepEqual((await fs.readdir('/a/b')).sort(), ['f']);
    await assert.rejects(fs.open('/a/b/f', 'wx+'), { code: 'EEXIST' });
    await assert.rejects(fs.open('/a/nope', 'r'), { code: 'ENOENT' });
  });

  test("crash('none') keeps only synced bytes and directory entries made durable by syncDir", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d');
    await write(fs, '/d/synced', 'abc', 0, true);
    await fs.syncDir('/d');
    await write(fs, '/d/synced', 'def', 3);
    await write(fs, '/d/unlisted', 'x', 0, true);
    fs.crash('none');
    assert.equal(fs.peek('/d/synced').toString(), 'abc');
    assert.equal(await fs.stat('/d/unlisted'), null, 'created but the directory was not synced');
  });

  test("crash('all') is a process kill: everything written stays, old handles die", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d');
    const h = await fs.open('/d/f', 'w+');
    await h.writev([Buffer.from('abc')], 0);
    fs.crash('all');
    assert.equal(fs.peek('/d/f').toString(), 'abc');
    await assert.rejects(h.writev([Buffer.from('x')], 3), { code: 'EIO' });
  });

  test("crash('random') keeps a prefix of the unsynced writes, possibly tearing the next", async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const fs = new MemoryFileSystem();
      await fs.mkdir('/d');
      await write(fs, '/d/f', 'AAAA', 0, true);
      await fs.syncDir('/d');
      const h = await fs.open('/d/f', 'r+');
      await h.writev([Buffer.from('BBBB')], 4);
      await h.writev([Buffer.from('CCCC')], 8);
      let x = seed * 7919 + 1;
      fs.crash('random', () => ((x = (x * 48271) % 2147483647) / 2147483647));
      const text = fs.peek('/d/f').toString();
      assert.match(text, /^AAAA(B{0,4}|BBBBC{0,4})$/);
      seen.add(text);
    }
    assert.ok(seen.has('AAAA') && seen.has('AAAABBBBCCCC') && [...seen].some((t) => t.length % 4 !== 0), [...seen].join());
  });

  test('injected faults: next write/datasync fails, partial writes, capacity gives ENOSPC', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d');
    const h = await fs.open('/d/f', 'w+');
    fs.failNext('write', 'EIO', { partialBytes: 2 });
    await assert.rejects(h.writev([Buffer.from('abcdef')], 0), { code: 'EIO' });
    assert.equal(fs.peek('/d/f').toString(), 'ab');
    fs.failNext('datasync', 'EIO');
    await assert.rejects(h.datasync(), { code: 'EIO' });
    await h.datasync();
    fs.capacityBytes = 5;
    await assert.rejects(h.writev([Buffer.from('cdef')], 2), { code: 'ENOSPC' });
    assert.equal(fs.peek('/d/f').toString(), 'abcde');
    fs.failNext('write', 'EIO', { pathIncludes: 'other' });
    await h.truncate(1);
    await h.writev([Buffer.from('z')], 1);
    assert.equal(fs.peek('/d/f').toString(), 'az');
  });

  test('rename replaces the target; rm removes trees', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d/sub');
    await write(fs, '/d/a', 'A');
    await write(fs, '/d/b', 'B');
    await fs.rename('/d/a', '/d/b');
    assert.equal(fs.peek('/d/b').toString(), 'A');
    assert.equal(await fs.stat('/d/a'), null);
    await write(fs, '/d/sub/x', 'x');
    await fs.rm('/d/sub');
    assert.equal(await fs.stat('/d/sub/x'), null);
    await fs.rm('/d/missing');
  });
});
