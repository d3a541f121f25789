// Configuration values are data (the CVE-2023-25194 class: a config value that makes the server
// load a class, read a file or open a connection). Kafka's own config providers (`${file:...}`)
// and class-valued keys (sasl.jaas.config, authorizer.class.name, config.providers, ...) have no
// counterpart in Brook: values that look like paths, URLs, JNDI/LDAP references, provider
// placeholders or shell substitutions stay the exact strings given — in the parsed config, in
// DescribeConfigs answers over TCP and in properties files — and no file is read and no
// connection opened because of them; keys that name code are unknown keys and refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBrokerConfig } from '../../src/config/broker-config.ts';
import { parseProperties } from '../../src/config/properties.ts';
import { BrookError } from '../../src/errors.ts';
import { startTestBroker } from '../helpers/broker.ts';
import { KafkaConnection } from '../../src/client/connection.ts';
import { createDescribeConfigsRequest, createDescribeConfigsResource } from '../../src/protocol/generated/describe-configs-request.ts';
import { createCreateTopicsRequest, createCreatableTopic } from '../../src/protocol/generated/create-topics-request.ts';
import { ErrorCode } from '../../src/protocol/errors.ts';

const SECRET = 'TOP-SECRET-7f3a';
/** Kafka refuses unknown or malformed config entries with INVALID_CONFIG or INVALID_REQUEST. */
const REFUSED = new Set<number>([ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_REQUEST]);

/** A listener that counts the connections anything makes to it. */
async function trap(): Promise<{ port: number; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = net.createServer((s) => {
    hits++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    hits: () => hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function hostileValues(secretFile: string, port: number): string[] {
  return [
    `\${file:${secretFile}:password}`,
    `file://${secretFile}`,
    secretFile,
    `http://127.0.0.1:${port}/config`,
    `ldap://127.0.0.1:${port}/o=brook`,
    `\${jndi:ldap://127.0.0.1:${port}/a}`,
    `$(cat ${secretFile})`,
    `\`cat ${secretFile}\``,
    `PLAINTEXT://127.0.0.1:${port}`,
  ];
}

test('string values that look like paths, URLs or placeholders are kept verbatim and never followed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'brook-cfg-'));
  const t = await trap();
  try {
    const secretFile = join(dir, 'secret.properties');
    await writeFile(secretFile, `password=${SECRET}\n`);
    for (const value of hostileValues(secretFile, t.port)) {
      const c = parseBrokerConfig({ 'broker.rack': value });
      assert.equal(c.get('broker.rack'), value);
      assert.equal(c.entry('broker.rack').value, value);
      // Through a properties file as well: no interpolation, no includes.
      const text = `broker.rack=${value.replace(/\\/g, '\\\\')}\n`;
      assert.equal(parseProperties(text)['broker.rack'], value);
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(t.hits(), 0, 'a config value opened a connection');
  } finally {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('keys that name classes, JAAS configs or config providers are unknown keys, refused', () => {
  for (const key of [
    'config.providers', 'config.providers.file.class', 'sasl.jaas.config', 'authorizer.class.name',
    'principal.builder.class', 'metric.reporters', 'sasl.server.callback.handler.class',
    'create.topic.policy.class.name', 'alter.config.policy.class.name', 'client.quota.callback.class',
  ]) {
    assert.throws(() => parseBrokerConfig({ [key]: 'com.sun.rowset.JdbcRowSetImpl' }),
      (e: unknown) => e instanceof BrookError && e.code === 'BROOK_CONFIG_UNKNOWN_KEY', key);
  }
});

test('over TCP: DescribeConfigs shows the literal value; AlterConfigs and CreateTopics cannot smuggle code keys', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'brook-cfg-'));
  const t = await trap();
  const secretFile = join(dir, 'secret.properties');
  await writeFile(secretFile, `password=${SECRET}\n`);
  const value = `\${file:${secretFile}:password}`;
  const b = await startTestBroker({ 'broker.rack': value }, { quiet: true });
  const conn = await KafkaConnection.connect(b.host, b.port);
  try {
    const nodeId = String(b.broker.settings.nodeId);
    const described = await conn.send(32, 4, createDescribeConfigsRequest({
      resources: [createDescribeConfigsResource({ resourceType: 4, resourceName: nodeId, configurationKeys: null })],
    }));
    const entries = described.results[0].configs;
    assert.equal(entries.find((e) => e.name === 'broker.rack')?.value, value);
    assert.ok(!JSON.stringify(entries).includes(SECRET), 'the file was read into a config value');

    const altered = await conn.send(44, 1, {
      resources: [{ resourceType: 4, resourceName: nodeId, configs: [
        { name: 'config.providers', configOperation: 0, value: 'file' },
        { name: 'sasl.jaas.config', configOperation: 0, value: `ldap://127.0.0.1:${t.port}/x` },
      ] }],
      validateOnly: false,
    });
    assert.ok(REFUSED.has(altered.responses[0].errorCode), `AlterConfigs answered ${altered.responses[0].errorCode}`);

    const created = await conn.send(19, 4, createCreateTopicsRequest({
      topics: [createCreatableTopic({ name: 'cfg-data', numPartitions: 1, replicationFactor: 1, configs: [
        { name: 'cleanup.policy', value: `http://127.0.0.1:${t.port}/` },
      ] })],
      timeoutMs: 5000,
    }));
    assert.ok(REFUSED.has(created.topics[0].errorCode), `CreateTopics answered ${created.topics[0].errorCode}`);
    assert.equal(t.hits(), 0, 'a config value opened a connection');
  } finally {
    conn.close();
    await b.close();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  }
});
