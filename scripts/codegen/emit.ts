// Emits one TypeScript module per message: interfaces, create*/encode*/decode* functions covering
// every version. Version conditions are plain comparisons on the `version` argument, like the
// specialised code Kafka's own generator writes.

import type { FieldSpec, MessageSpec, StructSpec, VersionRange } from './schema.ts';

const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'int64', 'float64', 'string', 'uuid', 'bytes', 'records']);

export function camel(name: string): string {
  return name[0].toLowerCase() + name.slice(1);
}

export function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();
}

function intersects(a: VersionRange | null, b: VersionRange): boolean {
  return a !== null && a.min <= b.max && a.max >= b.min;
}

/** A JS condition for `version in range`, simplified against the message's valid range. */
function cond(range: VersionRange | null, valid: VersionRange): string {
  if (range === null || range.min > valid.max || range.max < valid.min) return 'false';
  const parts: string[] = [];
  if (range.min > valid.min) parts.push(`version >= ${range.min}`);
  if (range.max < valid.max) parts.push(`version <= ${range.max}`);
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

interface Ctx {
  msg: MessageSpec;
  structs: Map<string, StructSpec>;
  valid: VersionRange;
  needsIsDefault: Set<string>;
}

function elementType(type: string): string | null {
  return type.startsWith('[]') ? type.slice(2) : null;
}

function isStructType(type: string): boolean {
  return !PRIMITIVES.has(type);
}

function collectStructs(fields: FieldSpec[], out: Map<string, StructSpec>, common: Map<string, StructSpec>): void {
  for (const f of fields) {
    const elem = elementType(f.type) ?? f.type;
    if (!isStructType(elem)) continue;
    if (f.fields) {
      if (!out.has(elem)) out.set(elem, { name: elem, fields: f.fields });
      collectStructs(f.fields, out, common);
    } else if (common.has(elem) && !out.has(elem)) {
      const s = common.get(elem)!;
      out.set(elem, s);
      collectStructs(s.fields, out, common);
    }
  }
}

function everNullable(f: FieldSpec, ctx: Ctx): boolean {
  return intersects(f.nullableVersions, ctx.valid) && intersects(f.versions, ctx.valid);
}

function tsType(f: FieldSpec, ctx: Ctx): string {
  const base = (t: string): string => {
    switch (t) {
      case 'bool': return 'boolean';
      case 'int64': return 'bigint';
      case 'int8': case 'int16': case 'uint16': case 'int32': case 'float64': return 'number';
      case 'string': case 'uuid': return 'string';
      case 'bytes': case 'records': return 'Buffer';
      default: return t;
    }
  };
  const elem = elementType(f.type);
  const t = elem ? `${base(elem)}[]` : base(f.type);
  return everNullable(f, ctx) ? `${t} | null` : t;
}

function parseIntLiteral(s: string): bigint {
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const v = body.startsWith('0x') ? BigInt(body) : BigInt(body);
  return neg ? -v : v;
}

function defaultExpr(f: FieldSpec, ctx: Ctx): string {
  const d = f.default;
  if (d === 'null') return 'null';
  const elem = elementType(f.type);
  if (elem) return '[]';
  switch (f.type) {
    case 'bool': return d === 'true' ? 'true' : 'false';
    case 'int8': case 'int16': case 'uint16': case 'int32':
      return d === null || d === '' ? '0' : String(Number(parseIntLiteral(d)));
    case 'int64': return d === null || d === '' ? '0n' : `${parseIntLiteral(d)}n`;
    case 'float64': return d === null || d === '' ? '0' : String(Number(d));
    case 'string': return JSON.stringify(d ?? '');
    case 'uuid': return 'NULL_UUID';
    case 'bytes': case 'records': return 'EMPTY';
    default:
      return `create${f.type}()`;
  }
}

/** Expression that is true when the value differs from the field's default (for tagged fields). */
function notDefaultExpr(f: FieldSpec, v: string, ctx: Ctx): string {
  const d = defaultExpr(f, ctx);
  if (d === 'null') return `${v} !== null`;
  if (elementType(f.type)) return `${v}${everNullable(f, ctx) ? '?.' : '.'}length !== 0`;
  if (f.type === 'bytes' || f.type === 'records') return `(${v} === null || ${v}.length !== 0)`;
  if (isStructType(f.type)) {
    ctx.needsIsDefault.add(f.type);
    return `!isDefault${f.type}(${v})`;
  }
  return `${v} !== ${d}`;
}

/** `a` when the flexible condition holds, else `b`, folded when the condition is constant. */
function pick(flex: string, a: string, b: string): string {
  if (flex === 'true' || flex === '(true)') return a;
  if (flex === 'false' || flex === '(false)') return b;
  return `if (${flex}) ${a} else ${b}`;
}

function pickExpr(flex: string, a: string, b: string): string {
  if (flex === 'true' || flex === '(true)') return a;
  if (flex === 'false' || flex === '(false)') return b;
  return `(${flex} ? ${a} : ${b})`;
}

function scalarWrite(t: string, v: string, flex: string, nullable: boolean, w: string): string {
  switch (t) {
    case 'bool': return `${w}.writeBool(${v});`;
    case 'int8': return `${w}.writeInt8(${v});`;
    case 'int16': return `${w}.writeInt16(${v});`;
    case 'uint16': return `${w}.writeUInt16(${v});`;
    case 'int32': return `${w}.writeInt32(${v});`;
    case 'int64': return `${w}.writeInt64(${v});`;
    case 'float64': return `${w}.writeFloat64(${v});`;
    case 'uuid': return `${w}.writeUuid(${v});`;
    case 'string':
      return nullable
        ? pick(flex, `${w}.writeCompactNullableString(${v});`, `${w}.writeNullableString(${v});`)
        : pick(flex, `${w}.writeCompactString(${v});`, `${w}.writeString(${v});`);
    case 'bytes': case 'records':
      return nullable
        ? pick(flex, `${w}.writeCompactNullableBytes(${v});`, `${w}.writeNullableBytes(${v});`)
        : pick(flex, `${w}.writeCompactBytes(${v});`, `${w}.writeBytes(${v});`);
    default:
      return `encode${t}(${w}, ${v}, version);`;
  }
}

function scalarRead(t: string, flex: string, nullable: boolean, r: string): string {
  switch (t) {
    case 'bool': return `${r}.readBool()`;
    case 'int8': return `${r}.readInt8()`;
    case 'int16': return `${r}.readInt16()`;
    case 'uint16': return `${r}.readUInt16()`;
    case 'int32': return `${r}.readInt32()`;
    case 'int64': return `${r}.readInt64()`;
    case 'float64': return `${r}.readFloat64()`;
    case 'uuid': return `${r}.readUuid()`;
    case 'string':
      return nullable
        ? pickExpr(flex, `${r}.readCompactNullableString()`, `${r}.readNullableString()`)
        : pickExpr(flex, `${r}.readCompactString()`, `${r}.readString()`);
    case 'bytes': case 'records':
      return nullable
        ? pickExpr(flex, `${r}.readCompactNullableBytes()`, `${r}.readNullableBytes()`)
        : pickExpr(flex, `${r}.readCompactBytes()`, `${r}.readBytes()`);
    default:
      return `decode${t}(${r}, version)`;
  }
}

/** The versions in which the field is present, within the message's valid range. */
function fieldRange(f: FieldSpec, ctx: Ctx): VersionRange {
  const v = f.versions ?? ctx.valid;
  return { min: Math.max(v.min, ctx.valid.min), max: Math.min(v.max, ctx.valid.max) };
}

function fieldFlex(f: FieldSpec, ctx: Ctx): string {
  if (f.flexibleVersions === null) return 'false';
  if (f.flexibleVersions !== undefined) return `(${cond(f.flexibleVersions, ctx.valid)})`;
  return 'flexible';
}

function encodeField(f: FieldSpec, ctx: Ctx, v: string, w: string, flexOverride?: string): string[] {
  const flex = flexOverride ?? fieldFlex(f, ctx);
  const nullable = everNullable(f, ctx);
  const out: string[] = [];
  const nullCond = cond(f.nullableVersions, fieldRange(f, ctx));
  if (nullable && nullCond !== 'true') {
    out.push(`if (${v} === null && !(${nullCond})) throw new ProtocolError('${f.name} is not nullable in version ' + version);`);
  }
  const elem = elementType(f.type);
  if (elem) {
    const body = scalarWrite(elem, 'e', flex, false, w);
    out.push('{', `  const a = ${v};`);
    if (nullable) {
      out.push(`  if (a === null) { ${pick(flex, `${w}.writeUVarint(0);`, `${w}.writeInt32(-1);`)} } else {`);
    } else {
      out.push('  {');
    }
    out.push(`    ${pick(flex, `${w}.writeUVarint(a.length + 1);`, `${w}.writeInt32(a.length);`)}`);
    out.push(`    for (const e of a) { ${body} }`);
    out.push('  }', '}');
    return out;
  }
  if (isStructType(f.type) && nullable) {
    out.push(`if (${v} === null) ${w}.writeInt8(-1); else { ${w}.writeInt8(1); encode${f.type}(${w}, ${v}, version); }`);
    return out;
  }
  out.push(scalarWrite(f.type, v, flex, nullable, w));
  return out;
}

function decodeField(f: FieldSpec, ctx: Ctx, target: string, r: string, flexOverride?: string): string[] {
  const flex = flexOverride ?? fieldFlex(f, ctx);
  const nullable = everNullable(f, ctx);
  const nullCond = cond(f.nullableVersions, fieldRange(f, ctx));
  const nullCheck = (expr: string): string =>
    nullable && nullCond !== 'true'
      ? `if (${expr} === null && !(${nullCond})) throw new ProtocolError('${f.name} is not nullable in version ' + version);`
      : '';
  const elem = elementType(f.type);
  if (elem) {
    const out = [
      '{',
      `  const n = ${pickExpr(flex, `${r}.readCompactArrayLength()`, `${r}.readArrayLength()`)};`,
    ];
    if (nullable) {
      out.push(`  if (n < 0) { ${target} = null; ${nullCheck(target)} } else {`);
    } else {
      out.push(`  if (n < 0) throw new ProtocolError('${f.name} is null');`);
      out.push('  {');
    }
    out.push(`    const a = new Array(n);`);
    out.push(`    for (let i = 0; i < n; i++) a[i] = ${scalarRead(elem, flex, false, r)};`);
    out.push(`    ${target} = a;`);
    out.push('  }');
    out.push('}');
    return out;
  }
  if (isStructType(f.type) && nullable) {
    return [`${target} = ${r}.readInt8() < 0 ? null : decode${f.type}(${r}, version);`, nullCheck(target)].filter(Boolean);
  }
  return [`${target} = ${scalarRead(f.type, flex, nullable, r)};`, nullCheck(target)].filter(Boolean);
}

function isTagged(f: FieldSpec): boolean {
  return f.taggedVersions !== null && f.tag !== null;
}

function emitStruct(name: string, fields: FieldSpec[], ctx: Ctx, exported: boolean): string[] {
  const out: string[] = [];
  const live = fields.filter((f) => intersects(f.versions, ctx.valid));
  out.push(`export interface ${name} {`);
  for (const f of live) out.push(`  ${camel(f.name)}: ${tsType(f, ctx)};`);
  out.push('}', '');

  out.push(`export function create${name}(init?: Partial<${name}>): ${name} {`);
  out.push('  return {');
  for (const f of live) out.push(`    ${camel(f.name)}: ${defaultExpr(f, ctx)},`);
  out.push('    ...init,');
  out.push('  };');
  out.push('}', '');

  const regular = live.filter((f) => !isTagged(f));
  const tagged = live.filter(isTagged).sort((a, b) => a.tag! - b.tag!);
  const flexCond = cond(ctx.msg.flexibleVersions, ctx.valid);

  // encode
  out.push(`${exported ? 'export ' : ''}function encode${name}(w: Writer, v: ${name}, version: number): void {`);
  out.push(`  const flexible = ${flexCond};`);
  for (const f of regular) {
    const c = cond(f.versions, ctx.valid);
    const body = encodeField(f, ctx, `v.${camel(f.name)}`, 'w');
    if (c === 'true') out.push(...body.map((l) => `  ${l}`));
    else out.push(`  if (${c}) {`, ...body.map((l) => `    ${l}`), '  }');
  }
  out.push('  if (flexible) {');
  if (tagged.length === 0) {
    out.push('    w.writeUVarint(0);');
  } else {
    tagged.forEach((f, i) => {
      const c = cond(f.taggedVersions, ctx.valid);
      out.push(`    const t${i} = ${c} && ${notDefaultExpr(f, `v.${camel(f.name)}`, ctx)};`);
    });
    out.push(`    w.writeUVarint(${tagged.map((_, i) => `(t${i} ? 1 : 0)`).join(' + ')});`);
    tagged.forEach((f, i) => {
      out.push(`    if (t${i}) {`);
      out.push(`      const s = new Writer();`);
      out.push(...encodeField(f, ctx, `v.${camel(f.name)}`, 's', 'true').map((l) => `      ${l}`));
      out.push(`      const b = s.toBuffer();`);
      out.push(`      w.writeUVarint(${f.tag}); w.writeUVarint(b.length); w.writeRaw(b);`);
      out.push('    }');
    });
  }
  out.push('  }');
  out.push('}', '');

  // decode
  out.push(`${exported ? 'export ' : ''}function decode${name}(r: Reader, version: number): ${name} {`);
  out.push(`  const flexible = ${flexCond};`);
  out.push(`  const o = create${name}();`);
  for (const f of regular) {
    const c = cond(f.versions, ctx.valid);
    const body = decodeField(f, ctx, `o.${camel(f.name)}`, 'r');
    if (c === 'true') out.push(...body.map((l) => `  ${l}`));
    else out.push(`  if (${c}) {`, ...body.map((l) => `    ${l}`), '  }');
  }
  if (tagged.length === 0) {
    out.push('  if (flexible) r.readTaggedFields();');
  } else {
    out.push('  if (flexible) {');
    out.push('    r.readTaggedFields((tag, _size, sub) => {');
    out.push('      switch (tag) {');
    for (const f of tagged) {
      const c = cond(f.taggedVersions, ctx.valid);
      out.push(`        case ${f.tag}:`);
      out.push(`          if (!(${c})) return false;`);
      out.push(...decodeField(f, ctx, `o.${camel(f.name)}`, 'sub', 'true').map((l) => `          ${l}`));
      out.push('          return true;');
    }
    out.push('        default:');
    out.push('          return false;');
    out.push('      }');
    out.push('    });');
    out.push('  }');
  }
  out.push('  return o;');
  out.push('}', '');
  return out;
}

function emitIsDefault(s: StructSpec, ctx: Ctx): string[] {
  const live = s.fields.filter((f) => intersects(f.versions, ctx.valid));
  const parts = live.map((f) => `!(${notDefaultExpr(f, `v.${camel(f.name)}`, ctx)})`);
  return [`function isDefault${s.name}(v: ${s.name}): boolean {`, `  return ${parts.length ? parts.join(' && ') : 'true'};`, '}', ''];
}

export function emitModule(msg: MessageSpec, source: string, depth: number): string {
  const up = '../'.repeat(depth);
  const common = new Map(msg.commonStructs.map((s) => [s.name, s]));
  const structs = new Map<string, StructSpec>();
  collectStructs(msg.fields, structs, common);
  const ctx: Ctx = { msg, structs, valid: msg.validVersions, needsIsDefault: new Set() };

  const body: string[] = [];
  body.push(...emitStruct(msg.name, msg.fields, ctx, true));
  for (const s of structs.values()) body.push(...emitStruct(s.name, s.fields, ctx, true));
  // isDefault helpers, transitively for nested structs used by tagged fields.
  const done = new Set<string>();
  const isDefaultParts: string[] = [];
  while (true) {
    const next = [...ctx.needsIsDefault].find((n) => !done.has(n));
    if (next === undefined) break;
    done.add(next);
    const s = structs.get(next);
    if (!s) throw new Error(`${msg.name}: unknown struct ${next}`);
    isDefaultParts.push(...emitIsDefault(s, ctx));
  }

  const flex = msg.flexibleVersions;
  const meta = {
    name: msg.name,
    apiKey: msg.apiKey,
    minVersion: msg.validVersions.min,
    maxVersion: msg.validVersions.max,
    flexibleMin: flex && flex.min <= msg.validVersions.max ? flex.min : null,
  };
  const text = body.join('\n') + isDefaultParts.join('\n');
  const usesNullUuid = text.includes('NULL_UUID');
  const usesEmpty = /\bEMPTY\b/.test(text);
  const usesProtocolError = text.includes('ProtocolError');
  const header = [
    `// Generated by scripts/codegen from ${source} (Apache Kafka 3.9 schema). DO NOT EDIT.`,
    '/* eslint-disable */',
    `import { ${['Reader', usesProtocolError ? 'ProtocolError' : null, usesNullUuid ? 'NULL_UUID' : null].filter(Boolean).join(', ')} } from '${up}reader.ts';`,
    `import { Writer } from '${up}writer.ts';`,
    '',
    usesEmpty ? 'const EMPTY = Buffer.alloc(0);\n' : '',
    `export const ${msg.name}Meta = ${JSON.stringify(meta)} as const;`,
    '',
  ];
  return header.join('\n') + text.replace(/\n+$/, '\n');
}
