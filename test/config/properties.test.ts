import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProperties, parseProperties } from '../../src/config/properties.ts';
import { BrookError } from '../../src/errors.ts';

const parse = (text: string): Record<string, string> => ({ ...parseProperties(text) });

test('the three separators and surrounding blanks', () => {
  assert.deepEqual(parse('a=1\nb: 2\nc 3\nd\t=\t4\n  e   =   5'), { a: '1', b: '2', c: '3', d: '4', e: '5' });
});

test('comments and blank lines are skipped; # inside a value is kept', () => {
  assert.deepEqual(parse('# comment\n! also\n   # indented\n\n \t \na=x#y\n'), { a: 'x#y' });
});

test('a key without a value has the empty value', () => {
  assert.deepEqual(parse('alone\nsep=\n'), { alone: '', sep: '' });
});

test('only the first separator splits; later ones belong to the value', () => {
  assert.deepEqual(parse('listeners=PLAINTEXT://a:1,CONTROLLER://b:2\nk = = v'), {
    listeners: 'PLAINTEXT://a:1,CONTROLLER://b:2', k: '= v',
  });
  assert.deepEqual(parse('key value with spaces'), { key: 'value with spaces' });
});

test('trailing blanks of a value are kept', () => {
  assert.deepEqual(parse('a=x  \n'), { a: 'x  ' });
});

test('line continuations drop the leading blanks of the next line', () => {
  assert.deepEqual(parse('list=a,\\\n    b,\\\n\tc\nnext=1'), { list: 'a,b,c', next: '1' });
});

test('an even number of trailing backslashes does not continue', () => {
  assert.deepEqual(parse('a=x\\\\\nb=y'), { a: 'x\\', b: 'y' });
});

test('a comment line does not continue even if it ends in a backslash', () => {
  assert.deepEqual(parse('# note \\\na=1'), { a: '1' });
});

test('a continuation line starting with # is part of the value', () => {
  assert.deepEqual(parse('a=x\\\n#y'), { a: 'x#y' });
});

test('CRLF and CR line endings', () => {
  assert.deepEqual(parse('a=1\r\nb=2\rc=3'), { a: '1', b: '2', c: '3' });
});

test('escapes: \\t \\n \\r \\f, \\uXXXX and escaped separators', () => {
  assert.deepEqual(parse('k=a\\tb\\nc\\rd\\fe'), { k: 'a\tb\nc\rd\fe' });
  assert.deepEqual(parse('u=\\u00e9\\u2603'), { u: 'é☃' });
  assert.deepEqual(parse('my\\ key\\=x\\:y = v'), { 'my key=x:y': 'v' });
  assert.deepEqual(parse('k=\\q\\\\'), { k: 'q\\' });
});

test('a later duplicate wins', () => {
  assert.deepEqual(parse('a=1\na=2'), { a: '2' });
});

test('__proto__ is an ordinary key', () => {
  const p = parseProperties('__proto__=x\nconstructor=y');
  assert.equal(p['__proto__'], 'x');
  assert.equal(p['constructor'], 'y');
  assert.equal(Object.getPrototypeOf(p), null);
});

test('a malformed \\u escape is a BROOK_CONFIG_FILE_INVALID naming the line', () => {
  assert.throws(() => parseProperties('a=1\nb=\\u12G4', 'server.properties'), (e: unknown) => {
    assert.ok(e instanceof BrookError);
    assert.equal(e.code, 'BROOK_CONFIG_FILE_INVALID');
    assert.match(e.message, /^server\.properties:2: /);
    return true;
  });
});

test('formatProperties round-trips awkward keys and values', () => {
  const entries: [string, string][] = [
    ['plain', 'value'],
    ['sp ace', ' leading and trailing '],
    ['sep=:#!', 'a=b:c#d!e'],
    ['ctl', 'tab\there\nnewline\\back'],
    ['uni', 'é☃'],
    ['empty', ''],
  ];
  const text = formatProperties(entries, 'header\nsecond line');
  assert.match(text, /^# header\n# second line\n/);
  assert.ok(/^[\x00-\x7f]*$/.test(text), 'output is ASCII');
  assert.deepEqual(parse(text), Object.fromEntries(entries));
});
