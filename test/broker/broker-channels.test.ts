// Inter-broker connections (src/broker/broker-channels.ts) with an injected connector: one lazily
// opened connection per remote broker, reused; replaced after a failure, a close by the peer or a
// new endpoint; a deadline per request; all closed on shutdown. Plus one real round trip over TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerChannels, BrokerUnreachableError, endpointOf, type BrokerEndpoint, type Connector } from '../../src/broker/broker-channels.ts';
import { startTestBroker } from '../helpers/broker.ts';

interface FakeConn {
  host: string;
  port: number;
  closed: boolean;
  sent: number[];
  answer: 'ok' | 'never' | 'fail';
  send(apiKey: number): Promise<any>;
  close(): void;
}

function fakeConnector(opts: { refuse?: Set<number> } = {}) {
  const conns: FakeConn[] = [];
  const connect: Connector = async (host, port) => {
    if (opts.refuse?.has(port)) throw new Error(`refused ${port}`);
    const c: FakeConn = {
      host, port, closed: false, sent: [], answer: 'ok',
      send(apiKey: number) {
        this.sent.push(apiKey);
        if (this.answer === 'never') return new Promise(() => {});
        if (this.answer === 'fail') return Promise.reject(new Error('reset'));
        return Promise.resolve({ from: port });
      },
      close() {
        this.closed = true;
      },
    };
    conns.push(c);
    return c as never;
  };
  return { conns, connect };
}

const REQ = { markers: [] };

test('one connection per broker, opened on first use and reused; unknown brokers are refused without connecting', async () => {
  const endpoints = new Map<number, BrokerEndpoint>([[2, { host: 'h2', port: 92 }], [3, { host: 'h3', port: 93 }]]);
  const { conns, connect } = fakeConnector();
  const ch = new BrokerChannels({ nodeId: 1, endpoint: (id) => endpoints.get(id) ?? null, connect });
  assert.equal(conns.length, 0, 'lazy');
  assert.deepEqual(await ch.send(2, 27, 1, REQ, 1000), { from: 92 });
  assert.deepEqual(await ch.send(2, 27, 1, REQ, 1000), { from: 92 });
  assert.deepEqual(await ch.send(3, 27, 1, REQ, 1000), { from: 93 });
  assert.equal(conns.length, 2);
  assert.deepEqual(conns[0].sent, [27, 27]);
  await assert.rejects(ch.send(4, 27, 1, REQ, 1000), BrokerUnreachableError);
  assert.equal(conns.length, 2);
  ch.close();
  assert.ok(conns.every((c) => c.closed), 'closed on shutdown');
  await assert.rejects(ch.send(2, 27, 1, REQ, 1000), BrokerUnreachableError);
});

test('a failed request, a connection the peer closed, or a new endpoint opens a fresh connection; a request past its deadline is dropped', async () => {
  const endpoints = new Map<number, BrokerEndpoint>([[2, { host: 'h2', port: 92 }]]);
  const refuse = new Set<number>();
  const { conns, connect } = fakeConnector({ refuse });
  const ch = new BrokerChannels({ nodeId: 1, endpoint: (id) => endpoints.get(id) ?? null, connect });
  await ch.send(2, 24, 4, REQ as never, 1000);
  conns[0].answer = 'fail';
  await assert.rejects(ch.send(2, 24, 4, REQ as never, 1000), BrokerUnreachableError);
  assert.equal(conns[0].closed, true);
  assert.equal(ch.has(2), false);
  await ch.send(2, 24, 4, REQ as never, 1000);
  assert.equal(conns.length, 2);
  conns[1].closed = true; // the peer went away
  await ch.send(2, 24, 4, REQ as never, 1000);
  assert.equal(conns.length, 3);
  endpoints.set(2, { host: 'h2', port: 192 }); // re-registered elsewhere
  assert.deepEqual(await ch.send(2, 24, 4, REQ as never, 1000), { from: 192 });
  assert.equal(conns[2].closed, true);
  conns[3].answer = 'never';
  await assert.rejects(ch.send(2, 24, 4, REQ as never, 30), /did not answer within 30 ms/);
  assert.equal(conns[3].closed, true);
  refuse.add(192);
  await assert.rejects(ch.send(2, 24, 4, REQ as never, 1000), /refused 192/);
  refuse.clear();
  assert.deepEqual(await ch.send(2, 24, 4, REQ as never, 1000), { from: 192 });
  ch.close();
});

test('endpointOf picks the named listener, else the first; none for a fenced or unknown broker', () => {
  const image = {
    brokers: new Map([
      [1, { id: 1, fenced: false, endpoints: [{ name: 'INTERNAL', host: 'i', port: 1 }, { name: 'PLAINTEXT', host: 'p', port: 2 }] }],
      [2, { id: 2, fenced: true, endpoints: [{ name: 'PLAINTEXT', host: 'q', port: 3 }] }],
      [3, { id: 3, fenced: false, endpoints: [{ name: 'OTHER', host: 'o', port: 4 }] }],
    ]),
  } as never;
  assert.deepEqual(endpointOf(image, 1, 'PLAINTEXT'), { host: 'p', port: 2 });
  assert.equal(endpointOf(image, 2, 'PLAINTEXT'), null);
  assert.deepEqual(endpointOf(image, 3, 'PLAINTEXT'), { host: 'o', port: 4 });
  assert.equal(endpointOf(image, 9, 'PLAINTEXT'), null);
});

test('over TCP: WriteTxnMarkers to a broker for a partition it does not have is answered UNKNOWN_TOPIC_OR_PARTITION', async () => {
  const b = await startTestBroker({}, { quiet: true });
  const ch = new BrokerChannels({ nodeId: 99, endpoint: () => ({ host: b.host, port: b.port }) });
  try {
    const r = await ch.send(1, 27, 1, { markers: [{ producerId: 5n, producerEpoch: 0, transactionResult: false, coordinatorEpoch: 0, topics: [{ name: 'none', partitionIndexes: [0, 1] }] }] }, 5000);
    assert.deepEqual(r.markers.map((m) => [m.producerId, m.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])])]), [[5n, [['none', [[0, 3], [1, 3]]]]]]);
  } finally {
    ch.close();
    await b.close();
  }
});
