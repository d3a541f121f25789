import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitBatches } from '../../src/protocol/record-batch.ts';
import { CLEAN_SHUTDOWN_FILE } from '../../src/storage/file-names.ts';
import { batch, config, memEnv, readAll } from './helpers.ts';

const dir = '/data/t-0';
const seg = (base: number, ext = 'log'): string => `${dir}/${String(base).padStart(20, '0')}.${ext}`;

async function populated(batches = 40, overrides = {}) {
  const cfg = config({ segmentBytes: 1000, indexIntervalBytes: 150, ...overrides });
  const env = memEnv(cfg);
  const m = await env.open();
  const log = await m.create('t', 0, 'the-topic-id', cfg);
  for (let i = 0; i < batches; i++) await log.append(batch(3, { prefix: `b${i}` }), { leaderEpoch: 1 + Math.floor(i / 10), sync: true }).done;
  return { env, m, log, cfg };
}

async function shorten(env: ReturnType<typeof memEnv>, path: string, by: number): Promise<void> {
  const h = await env.fs.open(path, 'r+');
  await h.truncate((await h.size()) - by);
  await h.datasync();
  await h.close();
}

describe('recovery', () => {
  test('clean shutdown: reopen reads no sealed segment, removes the marker, keeps everything', async () => {
    const { env, m, log } = await populated();
    const bases = log.segments.map((s) => s.baseOffset);
    await m.close();
    assert.notEqual(await env.fs.stat(`/data/${CLEAN_SHUTDOWN_FILE}`), null);
    const m2 = await env.open();
    assert.deepEqual(m2.recoveredDirs, []);
    assert.equal(await env.fs.stat(`/data/${CLEAN_SHUTDOWN_FILE}`), null);
    const log2 = m2.get('t', 0)!;
    assert.equal(log2.topicId, 'the-topic-id');
    assert.deepEqual(log2.segments.map((s) => s.baseOffset), bases);
    // Only the active segment's tail (from its last index entry) was validated.
    assert.ok(m2.stats.scannedBytes <= log2.active.size, `scanned ${m2.stats.scannedBytes}`);
    assert.ok(log2.segments.slice(0, -1).every((s) => s.index === null), 'sealed indexes not loaded');
    const all = await readAll(log2);
    assert.equal(all.length, 120);
    assert.equal(all[119].value, 'b39-2');
    assert.deepEqual(log2.leaderEpochs.entries.map((e) => e.epoch), [1, 2, 3, 4]);
  });

  test('unclean shutdown scans only the segments from the recovery point on', async () => {
    const { env, m, log } = await populated();
    await m.checkpoint();
    const rpSegment = log.segments.findLast((s) => s.baseOffset <= log.recoveryPoint)!;
    for (let i = 0; i < 5; i++) await log.append(batch(3, { prefix: `late${i}` }), { leaderEpoch: 5, sync: false }).done;
    const expected = log.segments.filter((s) => s.baseOffset >= rpSegment.baseOffset).reduce((n, s) => n + s.size, 0);
    m.halt();
    env.fs.crash('all');
    const m2 = await env.open();
    assert.deepEqual(m2.recoveredDirs, ['/data']);
    assert.equal(m2.stats.scannedBytes, expected);
    assert.ok(expected < m2.get('t', 0)!.sizeInBytes() / 2);
    assert.equal((await readAll(m2.get('t', 0)!)).length, 135);
  });

  test('a torn last batch is cut off; the valid prefix is served and appends continue', async () => {
    const { env, m, log } = await populated(12);
    const activePath = log.active.logPath;
    m.halt();
    await shorten(env, activePath, 7);
    const m2 = await env.open();
    const log2 = m2.get('t', 0)!;
    assert.equal(log2.logEndOffset, 33);
    assert.ok(m2.stats.truncatedBytes > 0);
    assert.equal((await readAll(log2)).length, 33);
    const r = log2.append(batch(1), { leaderEpoch: 9, sync: true });
    assert.equal(r.baseOffset, 33);
    await r.done;
    assert.equal((await readAll(log2))[33].value, 'v-0');
  });

  test('a flipped byte in the last batch is detected by CRC even after a clean shutdown', async () => {
    const { env, m, log } = await populated(12);
    const activePath = log.active.logPath;
    await m.close();
    const bytes = env.fs.peek(activePath);
    const spans = splitBatches(bytes);
    const lastPos = spans[spans.length - 1].pos;
    env.fs.corrupt(activePath, lastPos + 70, Buffer.from([bytes[lastPos + 70] ^ 0x40]));
    const m2 = await env.open();
    const log2 = m2.get('t', 0)!;
    assert.equal(log2.logEndOffset, 33);
    assert.deepEqual((await readAll(log2)).map((r) => r.offset), [...Array(33).keys()]);
  });

  test('corruption inside an earlier unflushed segment truncates there and drops the later segments', async () => {
    const { env, m, log } = await populated(40);
    const victim = log.segments[1];
    const firstOfVictim = victim.baseOffset;
    m.halt();
    env.fs.corrupt(victim.logPath, 200, Buffer.from('garbage!'));
    // No checkpoint was written: everything is after the recovery point.
    const m2 = await env.open();
    const log2 = m2.get('t', 0)!;
    assert.equal(log2.segments.length, 2);
    assert.ok(log2.logEndOffset > firstOfVictim && log2.logEndOffset < firstOfVictim + 30);
    assert.ok(m2.stats.deletedSegments >= 1);
    const all = await readAll(log2);
    assert.equal(all.length, log2.logEndOffset);
    assert.equal(await env.fs.stat(seg(log.segments[3].baseOffset)), null);
  });

  test('missing or garbage index files are rebuilt', async () => {
    const { env, m, log } = await populated(40);
    const sealed = log.segments[1];
    await m.close();
    await env.fs.unlink(seg(sealed.baseOffset, 'index'));
    env.fs.corrupt(seg(log.segments[0].baseOffset, 'timeindex'), 0, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
    const m2 = await env.open();
    const log2 = m2.get('t', 0)!;
    const r = await log2.read(sealed.baseOffset + 4, 100, { maxOffset: log2.highWatermark, minOneBatch: true });
    assert.equal(splitBatches(r.records).length, 1);
    assert.ok(log2.segments[1].index!.count > 0);
    assert.deepEqual(await log2.offsetForTimestamp(0), { offset: 0, timestamp: 1_700_000_000_000 });
    assert.equal((await readAll(log2)).length, 120);
  });

  test('leftovers are cleaned: *.deleted, *.cleaned, *.tmp, -delete dirs; a .swap replaces what it covers', async () => {
    const { env, m, log } = await populated(40);
    const [s0, s1, s2] = log.segments;
    await m.close();
    // Simulate a compaction that produced a swap for s0+s1, then crashed before replacing them.
    const swap = Buffer.concat([env.fs.peek(s0.logPath), env.fs.peek(s1.logPath)]);
    const h = await env.fs.open(s0.logPath + '.swap', 'w+');
    await h.writev([swap], 0);
    await h.close();
    for (const junk of [`${dir}/x.log.deleted`, `${dir}/y.log.cleaned`, `${dir}/leader-epoch-checkpoint.tmp`]) await (await env.fs.open(junk, 'w+')).close();
    await env.fs.mkdir('/data/old-3.abcdef-delete');
    const m2 = await env.open();
    const names = await env.fs.readdir(dir);
    assert.ok(!names.some((n) => n.endsWith('.deleted') || n.endsWith('.cleaned') || n.endsWith('.tmp') || n.endsWith('.swap')), names.join());
    assert.ok(!names.includes(seg(s1.baseOffset).slice(dir.length + 1)));
    assert.ok(!(await env.fs.readdir('/data')).includes('old-3.abcdef-delete'));
    const log2 = m2.get('t', 0)!;
    assert.deepEqual(log2.segments.slice(0, 2).map((s) => s.baseOffset), [s0.baseOffset, s2.baseOffset]);
    assert.equal((await readAll(log2)).length, 120);
  });

  test('the leader-epoch cache is cut back to the recovered log end and rebuilt from scanned batches', async () => {
    const { env, m, log } = await populated(30);
    // The checkpoint only knows epoch 1; batches of epochs 2 and 3 are after it.
    await env.fs.unlink(`${dir}/leader-epoch-checkpoint`);
    m.halt();
    await shorten(env, log.active.logPath, 3);
    const m2 = await env.open();
    const log2 = m2.get('t', 0)!;
    assert.deepEqual(log2.leaderEpochs.entries.map((e) => e.epoch), [1, 2, 3]);
    assert.equal(log2.leaderEpochs.entries[2].startOffset, 60);
    const text = env.fs.peek(`${dir}/leader-epoch-checkpoint`).toString();
    assert.match(text, /^0\n3\n1 0\n2 30\n3 60\n$/);
  });

  test('producer snapshots beyond the recovered log end are removed', async () => {
    const { env, m, log } = await populated(10);
    await log.writeProducerSnapshot(15, Buffer.from('a'));
    await log.writeProducerSnapshot(29, Buffer.from('b'));
    m.halt();
    await shorten(env, log.active.logPath, 3);
    const m2 = await env.open();
    assert.equal((await m2.get('t', 0)!.latestProducerSnapshot())?.offset, 15);
  });
});
