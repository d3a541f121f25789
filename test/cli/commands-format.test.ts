// The record templates of `brook produce --format` and `brook consume --format`, the offset and
// time arguments, and the output helpers, without a broker.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRecord, inputTemplate, parseInput, parseTemplate, recordJson, unescape } from '../../src/cli/commands/record-format.ts';
import { parseOffset } from '../../src/cli/commands/consume.ts';
import { parseSeekTarget } from '../../src/cli/commands/group-seek.ts';
import { splitRecords } from '../../src/cli/commands/produce.ts';
import { formatBytes, keyValues, parseTime, Progress, table } from '../../src/cli/commands/output.ts';
import { BrookError } from '../../src/errors.ts';

const record = {
  topic: 't', partition: 2, offset: 41, timestamp: 1700000000000,
  key: Buffer.from('k1'), value: Buffer.from('hello'), headers: [{ key: 'a', value: Buffer.from('1') }, { key: 'b', value: null }],
};
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof BrookError) return e.code;
    throw e;
  }
  return 'no error';
};

describe('consume templates', () => {
  test('every directive and escape', () => {
    const pieces = parseTemplate('%t/%p@%o [%k=%v] %T {%h} %K:%S 100%%\\t|\\n');
    assert.equal(formatRecord(pieces, record), 't/2@41 [k1=hello] 1700000000000 {a=1,b=} 2:5 100%\t|\n');
    assert.equal(formatRecord(parseTemplate('%K/%S'), { ...record, key: null, value: null }), '-1/-1');
  });

  test('unknown directives are usage errors', () => {
    assert.equal(code(() => parseTemplate('%x')), 'BROOK_USAGE_INVALID_ARGUMENT');
    assert.equal(code(() => parseTemplate('trailing %')), 'BROOK_USAGE_INVALID_ARGUMENT');
  });

  test('json keeps nulls and headers in order', () => {
    assert.deepEqual(JSON.parse(recordJson({ ...record, key: null })), {
      topic: 't', partition: 2, offset: 41, timestamp: 1700000000000, key: null, value: 'hello',
      headers: [{ key: 'a', value: '1' }, { key: 'b', value: null }],
    });
  });
});

describe('produce templates', () => {
  test('fields run to the next literal; the last to the end', () => {
    const t = inputTemplate('%k\\t%v');
    assert.deepEqual(parseInput(t, Buffer.from('user\tvalue\twith tab'), 1), { key: Buffer.from('user'), value: Buffer.from('value\twith tab') });
    const full = inputTemplate('[%p|%T] %k=%v;%h');
    const p = parseInput(full, Buffer.from('[3|1234] a=b=c;x=1,y'), 1);
    assert.equal(p.partition, 3);
    assert.equal(p.timestamp, 1234);
    assert.deepEqual([p.key?.toString(), p.value.toString()], ['a', 'b=c']);
    assert.deepEqual(p.headers?.map((h) => [h.key, h.value?.toString() ?? null]), [['x', '1'], ['y', null]]);
  });

  test('input that does not match is BROOK_INPUT_INVALID naming the record', () => {
    const t = inputTemplate('%k=%v');
    assert.throws(() => parseInput(t, Buffer.from('no separator'), 7), (e) => e instanceof BrookError && e.code === 'BROOK_INPUT_INVALID' && /input record 7/.test(e.message));
    assert.equal(code(() => parseInput(inputTemplate('<%v>'), Buffer.from('<x>extra'), 1)), 'BROOK_INPUT_INVALID');
    assert.equal(code(() => parseInput(inputTemplate('%p:%v'), Buffer.from('two:x'), 1)), 'BROOK_INPUT_INVALID');
  });

  test('templates that cannot be parsed are refused up front', () => {
    assert.equal(code(() => inputTemplate('%k')), 'BROOK_USAGE_INVALID_ARGUMENT', 'no value');
    assert.equal(code(() => inputTemplate('%k%v')), 'BROOK_USAGE_INVALID_ARGUMENT', 'adjacent fields');
    assert.equal(code(() => inputTemplate('%o %v')), 'BROOK_USAGE_INVALID_ARGUMENT', 'offsets are not input');
  });

  test('records split at the delimiter across chunk boundaries; a trailing delimiter adds nothing', async () => {
    async function* chunks() {
      yield Buffer.from('ab;;c');
      yield Buffer.from('d;e');
      yield 'f;';
    }
    const out: string[] = [];
    for await (const r of splitRecords(chunks(), Buffer.from(';'))) out.push(r.toString());
    assert.deepEqual(out, ['ab', '', 'cd', 'ef']);
    const multi: string[] = [];
    async function* two() {
      yield 'x\r';
      yield '\ny\r\nz';
    }
    for await (const r of splitRecords(two(), Buffer.from('\r\n'))) multi.push(r.toString());
    assert.deepEqual(multi, ['x', 'y', 'z']);
    assert.equal(unescape('a\\tb\\\\n\\0'), 'a\tb\\n\0');
  });
});

describe('offsets, times and output', () => {
  test('consume --offset forms', () => {
    assert.equal(parseOffset('start'), 'earliest');
    assert.equal(parseOffset('end'), 'latest');
    assert.equal(parseOffset('42'), 42);
    assert.deepEqual(parseOffset('-5'), { fromEnd: 5 });
    assert.deepEqual(parseOffset('@1700000000000'), { timestamp: 1700000000000 });
    assert.deepEqual(parseOffset('@2024-01-02T03:04:05Z'), { timestamp: Date.UTC(2024, 0, 2, 3, 4, 5) });
    assert.equal(code(() => parseOffset('@noon')), 'BROOK_USAGE_INVALID_ARGUMENT');
    assert.equal(code(() => parseOffset('x')), 'BROOK_USAGE_INVALID_ARGUMENT');
  });

  test('group seek --to forms', () => {
    assert.deepEqual(parseSeekTarget('start'), { kind: 'start' });
    assert.deepEqual(parseSeekTarget('end'), { kind: 'end' });
    assert.deepEqual(parseSeekTarget('17'), { kind: 'offset', offset: 17 });
    assert.deepEqual(parseSeekTarget('@5000'), { kind: 'time', timestamp: 5000 });
    assert.deepEqual(parseSeekTarget('2024-01-02'), { kind: 'time', timestamp: Date.UTC(2024, 0, 2) });
    assert.equal(code(() => parseSeekTarget('-3')), 'BROOK_USAGE_INVALID_ARGUMENT');
    assert.equal(parseTime('2024-13-45'), null);
  });

  test('tables align columns and show missing values as -', () => {
    assert.equal(table(['A', 'LONGER'], [[1, null], ['wide cell', 'x']]), 'A          LONGER\n1          -\nwide cell  x\n');
    assert.equal(keyValues([['K', 1], ['LONG KEY', undefined]]), 'K         1\nLONG KEY  -\n');
    assert.deepEqual([formatBytes(10), formatBytes(2048), formatBytes(5 * 1024 * 1024)], ['10 B', '2.0 KiB', '5.0 MiB']);
  });

  test('progress draws only when enabled, at most every 200 ms, and erases itself', () => {
    let now = 0;
    const out: string[] = [];
    const p = new Progress({ enabled: true, write: (s) => out.push(s), now: () => now });
    p.update(() => 'one');
    now = 100;
    p.update(() => 'two');
    now = 300;
    p.update(() => 'three');
    p.clear();
    assert.deepEqual(out, ['\r\u001b[2Kone', '\r\u001b[2Kthree', '\r\u001b[2K']);
    const quiet: string[] = [];
    const q = new Progress({ enabled: false, write: (s) => quiet.push(s) });
    q.update(() => 'x', true);
    q.clear();
    assert.deepEqual(quiet, []);
  });
});
