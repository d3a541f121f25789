import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMetaProperties, readMetaProperties } from '../../src/config/meta-properties.ts';
import { BrookError, type UserErrorCode } from '../../src/errors.ts';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'brook-meta-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fails(fn: () => unknown, code: UserErrorCode, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BrookError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

let n = 0;
const ids = { newClusterId: () => 'MkU3OEVBNTcwNTJENDM2Qg', newDirectoryId: () => `dir-${++n}` };

test('first start writes meta.properties in every directory; later starts read it back', () => {
  withDir((root) => {
    const dirs = [join(root, 'a'), join(root, 'b', 'nested')];
    const first = ensureMetaProperties(dirs, { nodeId: 3, clusterId: null, ...ids });
    assert.equal(first.clusterId, 'MkU3OEVBNTcwNTJENDM2Qg');
    const text = readFileSync(join(dirs[0], 'meta.properties'), 'utf8');
    assert.match(text, /^version=1$/m);
    assert.match(text, /^node\.id=3$/m);
    assert.match(text, /^cluster\.id=MkU3OEVBNTcwNTJENDM2Qg$/m);
    assert.equal(readMetaProperties(dirs[1])!.nodeId, 3);
    const again = ensureMetaProperties(dirs, { nodeId: 3, clusterId: null, newClusterId: () => 'other-id-never-used', newDirectoryId: ids.newDirectoryId });
    assert.equal(again.clusterId, 'MkU3OEVBNTcwNTJENDM2Qg');
    assert.equal(again.metas.get(dirs[0])!.directoryId, first.metas.get(dirs[0])!.directoryId);
  });
});

test('a configured cluster id is used, and a directory of another cluster or node is refused', () => {
  withDir((root) => {
    const dir = join(root, 'd');
    assert.equal(ensureMetaProperties([dir], { nodeId: 1, clusterId: 'AAAAAAAAAAAAAAAAAAAAAA', ...ids }).clusterId, 'AAAAAAAAAAAAAAAAAAAAAA');
    fails(() => ensureMetaProperties([dir], { nodeId: 1, clusterId: 'BBBBBBBBBBBBBBBBBBBBBB', ...ids }),
      'BROOK_META_CLUSTER_ID_MISMATCH', /belongs to cluster AAAAAAAAAAAAAAAAAAAAAA.*BBBBBBBBBBBBBBBBBBBBBB/);
    fails(() => ensureMetaProperties([dir], { nodeId: 2, clusterId: null, ...ids }),
      'BROOK_META_NODE_ID_MISMATCH', /belongs to node 1.*node\.id=2/);
  });
});

test('directories that disagree with each other are refused before anything is written', () => {
  withDir((root) => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    ensureMetaProperties([a], { nodeId: 1, clusterId: 'AAAAAAAAAAAAAAAAAAAAAA', ...ids });
    ensureMetaProperties([b], { nodeId: 1, clusterId: 'BBBBBBBBBBBBBBBBBBBBBB', ...ids });
    fails(() => ensureMetaProperties([a, b, join(root, 'c')], { nodeId: 1, clusterId: null, ...ids }), 'BROOK_META_CLUSTER_ID_MISMATCH', /cluster/);
    assert.equal(readMetaProperties(join(root, 'c')), null);
  });
});

test('malformed files and unusable directories', () => {
  withDir((root) => {
    writeFileSync(join(root, 'meta.properties'), 'version=0\ncluster.id=x\nnode.id=1\n');
    fails(() => readMetaProperties(root), 'BROOK_META_INVALID', /version 0/);
    writeFileSync(join(root, 'meta.properties'), 'version=1\nnode.id=1\n');
    fails(() => readMetaProperties(root), 'BROOK_META_INVALID', /cluster\.id is missing/);
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    fails(() => ensureMetaProperties([join(file, 'sub')], { nodeId: 1, clusterId: null, ...ids }), 'BROOK_DATA_DIR_UNUSABLE', /plain-file/);
  });
});
