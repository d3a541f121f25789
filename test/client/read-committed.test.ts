// read_committed (KIP-98) end to end: librdkafka's transactional producer (confluent-kafka-python)
// commits and aborts transactions on a Brook broker; Brook's consumer with readCommitted sees
// only the committed records, and without it sees everything but the transaction markers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { Admin } from '../../src/client/admin.ts';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.ts';
import { PYTHON, runOk } from '../clients/util.ts';

const SCRIPT = `
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'transactional.id': 'brook-rc-test'})
p.init_transactions(20)
for values, commit in [(['c1', 'c2'], True), (['a1', 'a2'], False), (['c3'], True)]:
    p.begin_transaction()
    for v in values:
        p.produce('txns', v.encode())
    p.flush(20)
    if commit:
        p.commit_transaction(20)
    else:
        p.abort_transaction(20)
`;

const hasClient = existsSync('/usr/lib/python3/dist-packages/confluent_kafka');

describe('read_committed against transactions written by librdkafka', { skip: hasClient ? false : 'python3-confluent-kafka is not installed' }, () => {
  let b: TestBroker;
  let admin: Admin;

  before(async () => {
    b = await startTestBroker({}, { quiet: true });
    admin = new Admin({ brokers: b.bootstrap });
    await admin.createTopics([{ name: 'txns', partitions: 1 }]);
    await runOk(PYTHON, ['-c', SCRIPT, b.bootstrap], { timeoutMs: 60_000 });
  });
  after(async () => {
    admin?.close();
    await b?.close();
  });

  async function read(readCommitted: boolean): Promise<ConsumerRecord[]> {
    const c = new Consumer(admin.client, { readCommitted });
    c.assign([{ topic: 'txns', partition: 0, offset: 'earliest' }]);
    const out: ConsumerRecord[] = [];
    const deadline = Date.now() + 10_000;
    while (!c.atEnd('txns', 0) && Date.now() < deadline) out.push(...(await c.poll({ timeoutMs: 200 })));
    await c.close();
    return out;
  }

  test('read_committed returns only committed records, in order', async () => {
    assert.deepEqual((await read(true)).map((r) => r.value!.toString()), ['c1', 'c2', 'c3']);
  });

  test('read_uncommitted returns aborted records too, never the markers', async () => {
    const all = await read(false);
    assert.deepEqual(all.map((r) => r.value!.toString()), ['c1', 'c2', 'a1', 'a2', 'c3']);
    assert.deepEqual(all.map((r) => r.offset), [0, 1, 3, 4, 6], 'offsets 2, 5 and 7 hold the commit/abort markers');
  });
});
