// Connection-count limits: max.connections, max.connections.per.ip and
// max.connections.per.ip.overrides. A connection over a limit is closed as soon as it is accepted,
// without a byte; closing one frees its slot; both keys are dynamic (IncrementalAlterConfigs on the
// broker resource) and take effect for the next accepted connection. Overrides name IP addresses
// only: a host name is refused by the config parser and never resolved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { connectRaw, apiVersionsFrame, sleep, type RawConnection } from '../fuzz/raw-client.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { ConnectionAdmission } from '../../src/broker/limits.ts';
import { parseBrokerConfig } from '../../src/config/broker-config.ts';
import { BrookError } from '../../src/errors.ts';

/** Opens a connection and reports whether the broker keeps it (answers a request on it). */
async function kept(b: TestBroker, localAddress?: string): Promise<RawConnection | null> {
  const raw = await connectRaw(b.host, b.port, { localAddress });
  raw.socket.write(apiVersionsFrame(1));
  try {
    await raw.responses(1, 3000);
    return raw;
  } catch {
    assert.equal(raw.isClosed(), true, 'a refused connection is closed');
    assert.equal(raw.received().length, 0, 'a refused connection gets no answer');
    return null;
  }
}

/** Retries until the broker has counted earlier closes (they are released on the socket's close event). */
async function eventuallyKept(b: TestBroker, localAddress?: string): Promise<RawConnection> {
  for (let i = 0; i < 50; i++) {
    const c = await kept(b, localAddress);
    if (c !== null) return c;
    await sleep(50);
  }
  throw new Error('connection never accepted');
}

test('max.connections closes connections beyond the limit; a closed one frees its slot', async () => {
  const b = await startTestBroker({ 'max.connections': '3' }, { quiet: true });
  try {
    const open = [await kept(b), await kept(b), await kept(b)];
    assert.ok(open.every((c) => c !== null));
    assert.equal(await kept(b), null, 'the 4th connection is refused');
    open[0]!.destroy();
    const again = await eventuallyKept(b);
    assert.equal(await kept(b), null, 'still at the limit');
    for (const c of [...open, again]) c?.destroy();
  } finally {
    await b.close();
  }
});

test('max.connections.per.ip counts per source address; overrides raise or lower it for one address', async () => {
  const b = await startTestBroker({
    'max.connections.per.ip': '2',
    'max.connections.per.ip.overrides': '127.0.0.3:0,127.0.0.4:4',
  }, { quiet: true });
  try {
    const from1 = [await kept(b, '127.0.0.1'), await kept(b, '127.0.0.1')];
    assert.ok(from1.every((c) => c !== null));
    assert.equal(await kept(b, '127.0.0.1'), null, 'a 3rd connection from 127.0.0.1 is refused');
    const from2 = [await kept(b, '127.0.0.2'), await kept(b, '127.0.0.2')];
    assert.ok(from2.every((c) => c !== null), 'another address has its own count');
    assert.equal(await kept(b, '127.0.0.3'), null, 'override 0 refuses every connection from 127.0.0.3');
    const from4 = await Promise.all([1, 2, 3, 4].map(() => kept(b, '127.0.0.4')));
    assert.ok(from4.every((c) => c !== null), 'override 4 admits four from 127.0.0.4');
    assert.equal(await kept(b, '127.0.0.4'), null, 'and refuses the fifth');
    for (const c of [...from1, ...from2, ...from4]) c?.destroy();
  } finally {
    await b.close();
  }
});

test('max.connections.per.ip follows IncrementalAlterConfigs on the broker', async () => {
  const b = await startTestBroker({}, { quiet: true });
  const admin = await KafkaConnection.connect(b.host, b.port);
  const alter = async (value: string | null) => {
    const res = await admin.send(44, 1, {
      resources: [{ resourceType: 4, resourceName: String(b.broker.settings.nodeId), configs: [{ name: 'max.connections.per.ip', configOperation: value === null ? 1 : 0, value }] }],
      validateOnly: false,
    });
    assert.equal(res.responses[0].errorCode, 0, res.responses[0].errorMessage ?? '');
    await b.broker.whenApplied();
  };
  try {
    const first = await kept(b);
    assert.ok(first !== null);
    // The admin connection and `first` are two from 127.0.0.1.
    await alter('2');
    assert.equal(await kept(b), null, 'a third connection from 127.0.0.1 is refused');
    await alter(null);
    const third = await eventuallyKept(b);
    first.destroy();
    third.destroy();
  } finally {
    admin.close();
    await b.close();
  }
});

test('IPv4-mapped IPv6 peers count as their IPv4 address', () => {
  const a = new ConnectionAdmission({ maxConnections: 100, maxConnectionsPerIp: 1, perIpOverrides: new Map([['10.0.0.9', 2]]) });
  assert.equal(a.admit('::ffff:10.0.0.1'), null);
  assert.equal(a.admit('10.0.0.1'), 'max.connections.per.ip');
  assert.equal(a.admit('::ffff:10.0.0.9'), null);
  assert.equal(a.admit('10.0.0.9'), null);
  assert.equal(a.admit('10.0.0.9'), 'max.connections.per.ip');
  a.release('10.0.0.1');
  assert.equal(a.admit('10.0.0.1'), null);
  assert.equal(a.open, 3);
});

test('max.connections.per.ip.overrides takes IP addresses only and never resolves names', () => {
  const c = parseBrokerConfig({ 'max.connections.per.ip.overrides': '127.0.0.1:5, [::1]:7' });
  assert.deepEqual(c.get('max.connections.per.ip.overrides'), ['127.0.0.1:5', '[::1]:7']);
  for (const bad of ['localhost:5', 'kafka.example.com:10', '127.0.0.1', '127.0.0.1:x', '127.0.0.1:-1']) {
    assert.throws(() => parseBrokerConfig({ 'max.connections.per.ip.overrides': bad }),
      (e: unknown) => e instanceof BrookError && e.code === 'BROOK_CONFIG_INVALID_VALUE' && e.message.includes('max.connections.per.ip.overrides'), bad);
  }
});
