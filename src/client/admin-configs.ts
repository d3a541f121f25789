// Config administration: DescribeConfigs (KIP-226 sources, synonyms, KIP-569 documentation),
// AlterConfigs (replaces a resource's whole set of dynamic overrides) and
// IncrementalAlterConfigs (KIP-339: per-key SET/DELETE/APPEND/SUBTRACT). Broker resources named by
// a node id go to that node; topic resources and the cluster-wide broker default ("") go to any.
import { ApiKey } from '../protocol/generated/api-index.ts';
import type { Client } from './client.ts';
import { KafkaError, responseError } from './errors.ts';
import type { NodeConnection } from './node-connection.ts';

export const ResourceType = { Topic: 2, Broker: 4, BrokerLogger: 8 } as const;

export type ConfigResourceKind = 'topic' | 'broker';

export interface ConfigResource {
  type: ConfigResourceKind;
  /** Topic name; broker id as a string, or "" for the cluster-wide broker default. */
  name: string;
}

/** KIP-226 config sources, by the number DescribeConfigs v1+ reports. */
export const CONFIG_SOURCES: readonly string[] = [
  'unknown', 'dynamic-topic', 'dynamic-broker', 'dynamic-default-broker', 'static-broker', 'default', 'dynamic-broker-logger',
  'client-metrics', 'group',
];

export interface ConfigEntry {
  name: string;
  value: string | null;
  source: string;
  readOnly: boolean;
  sensitive: boolean;
  isDefault: boolean;
  synonyms: { name: string; value: string | null; source: string }[];
  documentation: string | null;
}

export interface ConfigResourceResult extends ConfigResource {
  error: KafkaError | null;
  entries: ConfigEntry[];
}

export type ConfigOperation = 'set' | 'delete' | 'append' | 'subtract';
const OPERATIONS: Readonly<Record<ConfigOperation, number>> = { set: 0, delete: 1, append: 2, subtract: 3 };

export interface ConfigChange {
  name: string;
  op: ConfigOperation;
  value?: string | null;
}

const describeResource = (r: ConfigResource): string =>
  r.type === 'broker' && r.name === '' ? 'cluster-wide broker configs' : r.type === 'broker' ? `configs of broker ${r.name}` : `topic '${r.name}'`;

const typeNumber = (t: ConfigResourceKind): number => (t === 'topic' ? ResourceType.Topic : ResourceType.Broker);
const sourceName = (n: number): string => CONFIG_SOURCES[n] ?? `source-${n}`;

async function connectionFor(client: Client, r: ConfigResource): Promise<NodeConnection> {
  if (r.type === 'broker' && r.name !== '') {
    if (client.metadata.refreshedAt === 0) await client.connect();
    return client.node(Number(r.name));
  }
  return client.any();
}

export async function describeConfigs(
  client: Client,
  resources: readonly (ConfigResource & { keys?: string[] | null })[],
  opts: { synonyms?: boolean; documentation?: boolean } = {},
): Promise<ConfigResourceResult[]> {
  return Promise.all(resources.map((r) => client.retry(async () => {
    const conn = await connectionFor(client, r);
    const res = await conn.send(ApiKey.DescribeConfigs, {
      resources: [{ resourceType: typeNumber(r.type), resourceName: r.name, configurationKeys: r.keys ?? null }],
      includeSynonyms: opts.synonyms ?? false,
      includeDocumentation: opts.documentation ?? false,
    });
    const x = res.results[0];
    const what = describeResource(r);
    if (x === undefined) return { ...r, error: responseError(-1, `${what}: no answer`), entries: [] };
    const error = x.errorCode !== 0 ? responseError(x.errorCode, what, x.errorMessage) : null;
    if (error !== null && error.retriable) throw error;
    return {
      type: r.type, name: r.name, error,
      entries: x.configs.map((c): ConfigEntry => ({
        name: c.name,
        value: c.value,
        // v0 has no source: only is_default.
        source: conn.versionFor(ApiKey.DescribeConfigs) === 0 ? (c.isDefault ? 'default' : 'unknown') : sourceName(c.configSource),
        readOnly: c.readOnly,
        sensitive: c.isSensitive,
        isDefault: c.isDefault || c.configSource === 5,
        synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: sourceName(s.source) })),
        documentation: c.documentation,
      })),
    };
  })));
}

/** Replaces the resource's dynamic overrides with `configs` (keys left out are removed). */
export async function alterConfigs(client: Client, r: ConfigResource, configs: Readonly<Record<string, string>>, validateOnly = false): Promise<void> {
  await client.retry(async () => {
    const conn = await connectionFor(client, r);
    const res = await conn.send(ApiKey.AlterConfigs, {
      resources: [{ resourceType: typeNumber(r.type), resourceName: r.name, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
      validateOnly,
    });
    const x = res.responses[0];
    if (x !== undefined && x.errorCode !== 0) throw responseError(x.errorCode, describeResource(r), x.errorMessage);
  });
}

export async function incrementalAlterConfigs(client: Client, r: ConfigResource, changes: readonly ConfigChange[], validateOnly = false): Promise<void> {
  await client.retry(async () => {
    const conn = await connectionFor(client, r);
    const res = await conn.send(ApiKey.IncrementalAlterConfigs, {
      resources: [{
        resourceType: typeNumber(r.type),
        resourceName: r.name,
        configs: changes.map((c) => ({ name: c.name, configOperation: OPERATIONS[c.op], value: c.op === 'delete' ? null : (c.value ?? null) })),
      }],
      validateOnly,
    });
    const x = res.responses[0];
    if (x !== undefined && x.errorCode !== 0) throw responseError(x.errorCode, describeResource(r), x.errorMessage);
  });
}
