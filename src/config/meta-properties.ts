// meta.properties: the file in each data directory that says which cluster and node the
// directory belongs to (Kafka's KRaft format, version=1: cluster.id, node.id, and directory.id
// from KIP-858). It stops a node from starting on another node's or another cluster's data.
// Written once, atomically (temporary file, fsync, rename, fsync of the directory).

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BrookError } from '../errors.ts';
import { formatProperties, parseProperties } from './properties.ts';

export const META_PROPERTIES = 'meta.properties';

export interface MetaProperties {
  clusterId: string;
  nodeId: number;
  /** KIP-858 directory id (Kafka's base64url UUID form); null in files written before it existed. */
  directoryId: string | null;
}

const errnoOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException)?.code;

/** The directory's meta.properties, or null if it has none. */
export function readMetaProperties(dir: string): MetaProperties | null {
  const path = join(dir, META_PROPERTIES);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return null;
    throw new BrookError('BROOK_DATA_DIR_UNUSABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const p = parseProperties(text, path);
  if (p['version'] !== '1') {
    throw new BrookError('BROOK_META_INVALID', `${path}: version ${p['version'] ?? '(missing)'} is not supported (expected 1, KRaft)`);
  }
  const clusterId = p['cluster.id'];
  const nodeId = p['node.id'];
  if (!clusterId) throw new BrookError('BROOK_META_INVALID', `${path}: cluster.id is missing`);
  if (nodeId === undefined || !/^\d+$/.test(nodeId)) throw new BrookError('BROOK_META_INVALID', `${path}: node.id is missing or not a number`);
  return { clusterId, nodeId: Number(nodeId), directoryId: p['directory.id'] ?? null };
}

export function writeMetaProperties(dir: string, meta: MetaProperties): void {
  const path = join(dir, META_PROPERTIES);
  const tmp = `${path}.tmp`;
  const entries: [string, string][] = [['version', '1'], ['cluster.id', meta.clusterId], ['node.id', String(meta.nodeId)]];
  if (meta.directoryId !== null) entries.push(['directory.id', meta.directoryId]);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, formatProperties(entries, 'Written by Brook on first start. Do not edit.'));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch (e) {
    throw new BrookError('BROOK_DATA_DIR_UNUSABLE', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

export interface EnsureMetaOptions {
  nodeId: number;
  /** The configured cluster.id, if any. */
  clusterId: string | null;
  /** Mints a cluster id when neither the config nor any directory has one. */
  newClusterId: () => string;
  /** Mints a directory id for a directory without meta.properties. */
  newDirectoryId: () => string;
}

/**
 * Creates the data directories if needed and makes sure each holds a meta.properties for this
 * cluster and node, writing the missing ones. Returns the cluster id. Throws BrookError
 * BROOK_DATA_DIR_UNUSABLE, BROOK_META_INVALID, BROOK_META_CLUSTER_ID_MISMATCH or
 * BROOK_META_NODE_ID_MISMATCH without writing anything when directories disagree.
 */
export function ensureMetaProperties(dirs: readonly string[], opts: EnsureMetaOptions): { clusterId: string; metas: Map<string, MetaProperties> } {
  const found = new Map<string, MetaProperties | null>();
  for (const dir of dirs) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new BrookError('BROOK_DATA_DIR_UNUSABLE', `cannot create data directory ${dir}: ${(e as Error).message}`, { cause: e });
    }
    found.set(dir, readMetaProperties(dir));
  }
  let clusterId = opts.clusterId;
  let clusterIdFrom = 'cluster.id in the configuration';
  for (const [dir, meta] of found) {
    if (meta === null) continue;
    if (meta.nodeId !== opts.nodeId) {
      throw new BrookError('BROOK_META_NODE_ID_MISMATCH',
        `data directory ${dir} belongs to node ${meta.nodeId}, but this node is configured as node.id=${opts.nodeId}`);
    }
    if (clusterId === null) {
      clusterId = meta.clusterId;
      clusterIdFrom = `data directory ${dir}`;
    } else if (meta.clusterId !== clusterId) {
      throw new BrookError('BROOK_META_CLUSTER_ID_MISMATCH',
        `data directory ${dir} belongs to cluster ${meta.clusterId}, but ${clusterIdFrom} says ${clusterId}`);
    }
  }
  clusterId ??= opts.newClusterId();
  const metas = new Map<string, MetaProperties>();
  for (const [dir, meta] of found) {
    if (meta !== null) {
      metas.set(dir, meta);
      continue;
    }
    const created: MetaProperties = { clusterId, nodeId: opts.nodeId, directoryId: opts.newDirectoryId() };
    writeMetaProperties(dir, created);
    metas.set(dir, created);
  }
  return { clusterId, metas };
}
