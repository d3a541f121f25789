// Builds random values for a generated message at a given version, from the same schema model the
// generator uses: present fields get random values (null where nullable), absent ones keep defaults.
import type { FieldSpec, MessageSpec, StructSpec, VersionRange } from '../../scripts/codegen/schema.ts';
import { camel } from '../../scripts/codegen/emit.ts';

export type Rng = () => number;

export { seeded as mulberry32 } from '../helpers/seeded.ts';

const inRange = (r: VersionRange | null, v: number) => r !== null && v >= r.min && v <= r.max;

type Module = Record<string, (...args: any[]) => any>;

export function sampleValue(spec: MessageSpec, mod: Module, version: number, rng: Rng): any {
  const structs = new Map<string, StructSpec>();
  const common = new Map(spec.commonStructs.map((s) => [s.name, s]));
  const collect = (fields: FieldSpec[]) => {
    for (const f of fields) {
      const t = f.type.startsWith('[]') ? f.type.slice(2) : f.type;
      if (f.fields) { structs.set(t, { name: t, fields: f.fields }); collect(f.fields); }
      else if (common.has(t) && !structs.has(t)) { structs.set(t, common.get(t)!); collect(common.get(t)!.fields); }
    }
  };
  collect(spec.fields);
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const flexible = inRange(spec.flexibleVersions, version);

  const scalar = (t: string): any => {
    switch (t) {
      case 'bool': return rng() < 0.5;
      case 'int8': return int(-128, 127);
      case 'int16': return int(-32768, 32767);
      case 'uint16': return int(0, 65535);
      case 'int32': return int(-2147483648, 2147483647);
      case 'int64': return BigInt.asIntN(64, (BigInt(int(0, 2 ** 31)) << 33n) ^ BigInt(int(-2147483648, 2147483647)));
      case 'float64': return (rng() - 0.5) * 1e6;
      case 'uuid': return [8, 4, 4, 4, 12].map((n) => Array.from({ length: n }, () => int(0, 15).toString(16)).join('')).join('-');
      case 'string': return Array.from({ length: int(0, 12) }, () => String.fromCharCode(int(0x20, 0x7e))).join('') + (rng() < 0.2 ? 'é€' : '');
      case 'bytes': case 'records': return Buffer.from(Array.from({ length: int(0, 20) }, () => int(0, 255)));
      default: return struct(t);
    }
  };
  const struct = (name: string, depth = 0): any => {
    const s = name === spec.name ? { name, fields: spec.fields } : structs.get(name)!;
    const v = mod[`create${name}`]();
    for (const f of s.fields) {
      const tagged = f.taggedVersions !== null && flexible;
      const present = tagged ? inRange(f.taggedVersions, version) : inRange(f.versions, version) && !(f.taggedVersions !== null && !flexible);
      if (!present) continue;
      if (f.taggedVersions !== null && !flexible) continue;
      const key = camel(f.name);
      if (inRange(f.nullableVersions, version) && rng() < 0.2) { v[key] = null; continue; }
      if (f.type.startsWith('[]')) {
        const elem = f.type.slice(2);
        v[key] = Array.from({ length: depth > 2 ? 0 : int(0, 3) }, () => (structs.has(elem) ? struct(elem, depth + 1) : scalar(elem)));
      } else {
        v[key] = structs.has(f.type) ? struct(f.type, depth + 1) : scalar(f.type);
      }
    }
    return v;
  };
  return struct(spec.name);
}
