// `brook group list|describe|seek|delete` as a person runs them, with a consumer group made by
// `brook consume --group`, including the refusals while the group has a running member.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { brook, startBrook } from './commands-run.ts';

describe('brook group', () => {
  let b: TestBroker;
  let env: Record<string, string>;

  before(async () => {
    b = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' }, { quiet: true });
    env = { BROOK_BROKERS: b.bootstrap };
    assert.equal((await brook(['topic', 'create', 'payments', '-p', '2'], { env })).code, 0);
    const lines = Array.from({ length: 10 }, (_, i) => `${i % 2}\tpay-${i}`).join('\n');
    assert.equal((await brook(['produce', 'payments', '-f', '%p\\t%v'], { env, input: lines })).code, 0);
    const read = await brook(['consume', 'payments', '-g', 'billing', '-n', '6'], { env });
    assert.equal(read.code, 0, read.stderr);
  });
  after(async () => {
    await b?.close();
  });

  test('list shows the group and its state', async () => {
    const r = await brook(['group', 'list'], { env });
    assert.deepEqual([r.code, r.stdout], [0, 'GROUP    STATE  PROTOCOL-TYPE\nbilling  Empty  consumer\n']);
    assert.deepEqual(JSON.parse((await brook(['group', 'list', '--json'], { env })).stdout), [{ groupId: 'billing', state: 'Empty', protocolType: 'consumer' }]);
  });

  test('describe: committed offset, log end, lag per partition', async () => {
    const r = await brook(['group', 'describe', 'billing'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^GROUP +billing\nSTATE +Empty\nASSIGNOR +-\nMEMBERS +0\nTOTAL LAG +4\n\n/);
    assert.match(r.stdout, /\nTOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +MEMBER-ID +HOST +CLIENT-ID\npayments +0 +\d +5 +\d +- +- +-\npayments +1 +\d +5 +\d +- +- +-\n$/);
    const j = JSON.parse((await brook(['group', 'describe', 'billing', '--json'], { env })).stdout);
    assert.equal(j.partitions.reduce((n: number, p: { currentOffset: number }) => n + p.currentOffset, 0), 6);
    const unknown = await brook(['group', 'describe', 'nobody'], { env });
    assert.deepEqual([unknown.code, unknown.stderr], [1, "brook: unknown group 'nobody' [BROOK_UNKNOWN_GROUP]\n"]);
  });

  test('seek: the dry run changes nothing; then start, an offset (clamped) and end', async () => {
    const before = JSON.parse((await brook(['group', 'describe', 'billing', '--json'], { env })).stdout);
    const dry = await brook(['group', 'seek', 'billing', '--to', 'start', '--dry-run'], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^TOPIC +PARTITION +CURRENT-OFFSET +NEW-OFFSET\npayments +0 +\d +0\npayments +1 +\d +0\n\nDry run: no offsets were changed\.\n$/);
    assert.deepEqual(JSON.parse((await brook(['group', 'describe', 'billing', '--json'], { env })).stdout).partitions, before.partitions);

    const seek = await brook(['group', 'seek', 'billing', '--to', 'start'], { env });
    assert.equal(seek.code, 0, seek.stderr);
    assert.match(seek.stdout, /\nGroup billing will resume from the new offsets\.\n$/);
    const again = await brook(['consume', 'payments', '-g', 'billing', '-e', '-f', '%v\\n'], { env });
    assert.deepEqual(again.stdout.trim().split('\n').sort(), Array.from({ length: 10 }, (_, i) => `pay-${i}`).sort());

    const clamped = JSON.parse((await brook(['group', 'seek', 'billing', '--to', '3', '--topics', 'payments', '--json'], { env })).stdout);
    assert.deepEqual(clamped.partitions.map((p: { newOffset: number }) => p.newOffset), [3, 3]);
    const high = JSON.parse((await brook(['group', 'seek', 'billing', '--to', '999', '--json'], { env })).stdout);
    assert.deepEqual(high.partitions.map((p: { newOffset: number }) => p.newOffset), [5, 5], 'clamped to the log end');
    const end = JSON.parse((await brook(['group', 'seek', 'billing', '--to', 'end', '--json'], { env })).stdout);
    assert.deepEqual(end.partitions.map((p: { currentOffset: number; newOffset: number }) => [p.currentOffset, p.newOffset]), [[5, 5], [5, 5]]);

    const bad = await brook(['group', 'seek', 'billing', '--to', 'soon'], { env });
    assert.equal(bad.code, 2);
    const none = await brook(['group', 'seek', 'fresh', '--to', 'start'], { env });
    assert.deepEqual([none.code, none.stderr], [2, "brook: group 'fresh' has no committed offsets; name the topics with --topics [BROOK_USAGE_MISSING_ARGUMENT]\n"]);
    const fresh = await brook(['group', 'seek', 'fresh', '--to', 'start', '--topics', 'payments'], { env });
    assert.equal(fresh.code, 0, 'a group that does not exist yet gets its offsets');
  });

  test('seek and delete are refused while the group has a member', async () => {
    const member = startBrook(['consume', 'payments', '-g', 'billing'], env);
    try {
      let state = '';
      const deadline = Date.now() + 20_000;
      while (state !== 'Stable' && Date.now() < deadline) {
        const d = await brook(['group', 'describe', 'billing', '--json'], { env });
        state = d.code === 0 ? JSON.parse(d.stdout).state : '';
      }
      assert.equal(state, 'Stable');
      const seek = await brook(['group', 'seek', 'billing', '--to', 'start'], { env });
      assert.deepEqual([seek.code, seek.stderr], [1, "brook: group 'billing' has 1 active member (state Stable); stop its consumers first [BROOK_GROUP_NOT_EMPTY]\n"]);
      const del = await brook(['group', 'delete', 'billing'], { env });
      assert.deepEqual([del.code, del.stderr], [1, "brook: group 'billing' has active members; stop its consumers first [BROOK_GROUP_NOT_EMPTY]\n"]);
      const described = await brook(['group', 'describe', 'billing'], { env });
      assert.match(described.stdout, /\nMEMBERS +1\n/);
      assert.match(described.stdout, /\npayments +0 +\d+ +5 +\d+ +brook-cli-[0-9a-f-]+ +\S+ +brook-cli\n/);
    } finally {
      member.child.kill('SIGTERM');
      assert.equal(await member.exited, 0);
    }
  });

  test('delete removes an empty group; an unknown one is named', async () => {
    const del = await brook(['group', 'delete', 'billing', 'fresh'], { env });
    assert.deepEqual([del.code, del.stdout], [0, 'Deleted group billing\nDeleted group fresh\n']);
    const again = await brook(['group', 'delete', 'billing'], { env });
    assert.deepEqual([again.code, again.stderr], [1, "brook: unknown group 'billing' [BROOK_UNKNOWN_GROUP]\n"]);
    const list = await brook(['group', 'list'], { env });
    assert.deepEqual([list.code, list.stdout, list.stderr], [0, '', 'No consumer groups.\n']);
  });
});
