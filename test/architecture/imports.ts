// The module references of a TypeScript file, found with the TypeScript parser (so an `import` in
// a string or a comment is not one): static imports (also `import type` and side-effect imports),
// re-exports (`export ... from`), `import('...')` calls and `import('...')` types, and
// `require('...')` / `createRequire(...)('...')` calls. A reference whose target is not a string
// literal is reported as `dynamic` with the expression's text, since it cannot be checked.
// Used by layering.test.ts to check STYLE.md's layering (Kafka checks it with import-control files).
import ts from 'typescript';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export type ImportKind = 'import' | 'export-from' | 'dynamic-import' | 'import-type' | 'require';

export interface ModuleRef {
  specifier: string;
  kind: ImportKind;
  /** No runtime dependency: `import type`, `export type ... from`, an `import('...')` type. */
  typeOnly: boolean;
  line: number;
}

export interface UncheckedRef {
  expression: string;
  kind: ImportKind;
  line: number;
}

export function moduleRefs(fileName: string, text: string): { refs: ModuleRef[]; unchecked: UncheckedRef[] } {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const refs: ModuleRef[] = [];
  const unchecked: UncheckedRef[] = [];
  const lineOf = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const add = (target: ts.Node | undefined, kind: ImportKind, typeOnly: boolean, at: ts.Node) => {
    if (target !== undefined && ts.isStringLiteralLike(target)) refs.push({ specifier: target.text, kind, typeOnly, line: lineOf(at) });
    else unchecked.push({ expression: target === undefined ? '' : target.getText(sf), kind, line: lineOf(at) });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      add(n.moduleSpecifier, 'import', n.importClause?.isTypeOnly ?? false, n);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier !== undefined) {
      add(n.moduleSpecifier, 'export-from', n.isTypeOnly, n);
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      add(n.moduleReference.expression, 'require', n.isTypeOnly, n);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) {
      add(n.argument.literal, 'import-type', true, n);
    } else if (ts.isCallExpression(n)) {
      if (n.expression.kind === ts.SyntaxKind.ImportKeyword) add(n.arguments[0], 'dynamic-import', false, n);
      else if (isRequire(n.expression)) add(n.arguments[0], 'require', false, n);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return { refs, unchecked };
}

/** `require(...)`, or the function `createRequire(...)` returns. */
function isRequire(callee: ts.Expression): boolean {
  if (ts.isIdentifier(callee)) return callee.text === 'require';
  return ts.isCallExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'createRequire';
}

/** Every .ts file under `dir`, as absolute paths, sorted. */
export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

export interface Edge {
  /** Importing file, relative to the source root, with '/' separators. */
  from: string;
  /** The imported file relative to the source root ('../x' when outside it). */
  to: string;
  ref: ModuleRef;
}

/** Relative references between the files under `srcRoot` (packages and node: builtins are not edges). */
export function edgesUnder(srcRoot: string): { edges: Edge[]; external: (ModuleRef & { from: string })[]; unchecked: (UncheckedRef & { from: string })[] } {
  const edges: Edge[] = [];
  const external: (ModuleRef & { from: string })[] = [];
  const unchecked: (UncheckedRef & { from: string })[] = [];
  const rel = (p: string) => relative(srcRoot, p).split(sep).join('/');
  for (const file of tsFiles(srcRoot)) {
    const from = rel(file);
    const { refs, unchecked: u } = moduleRefs(file, readFileSync(file, 'utf8'));
    for (const x of u) unchecked.push({ ...x, from });
    for (const ref of refs) {
      if (ref.specifier.startsWith('./') || ref.specifier.startsWith('../')) edges.push({ from, to: rel(resolve(dirname(file), ref.specifier)), ref });
      else external.push({ ...ref, from });
    }
  }
  return { edges, external, unchecked };
}

/**
 * The unit a file belongs to for the layer rules: its top-level directory under src, except that
 * src/raft/driver (the I/O binding) is apart from the pure Raft core in src/raft/*.ts; a file at the
 * root of src is its own unit ('errors.ts').
 */
export function unitOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === '..') return '(outside src)';
  if (parts.length === 1) return parts[0];
  if (parts[0] === 'raft' && parts[1] === 'driver' && parts.length > 2) return 'raft/driver';
  return parts[0];
}

export interface LayerRule {
  /** The unit whose imports the rule restricts ('*' for every unit; a unit's imports of itself are always fine). */
  from: string;
  /** Units (or single files, 'dir/file.ts') it may import; everything else is a violation. */
  only?: readonly string[];
  /** Units it may not import. */
  never?: readonly string[];
  why: string;
}

export interface Violation {
  rule: LayerRule;
  edge: Edge;
}

function names(list: readonly string[] | undefined, edge: Edge): boolean {
  return list !== undefined && list.some((x) => (x.endsWith('.ts') ? x === edge.to : x === unitOf(edge.to)));
}

export function checkLayers(edges: readonly Edge[], rules: readonly LayerRule[]): Violation[] {
  const out: Violation[] = [];
  for (const edge of edges) {
    const unit = unitOf(edge.from);
    if (unitOf(edge.to) === unit) continue; // a unit may always import itself
    for (const rule of rules) {
      if (rule.from !== '*' && rule.from !== unit) continue;
      const bad = (rule.only !== undefined && !names(rule.only, edge)) || names(rule.never, edge);
      if (bad) out.push({ rule, edge });
    }
  }
  return out;
}

export function describeViolation(v: Violation): string {
  const { edge, rule } = v;
  const what = rule.only !== undefined ? `${rule.from} may import only ${rule.only.join(', ')}` : `${rule.from === '*' ? 'no unit' : rule.from} may not import ${rule.never!.join(', ')}`;
  const kind = `${edge.ref.typeOnly ? 'type-only ' : ''}${edge.ref.kind}`;
  return `src/${edge.from}:${edge.ref.line}: ${kind} '${edge.ref.specifier}' (src/${edge.to}, unit ${unitOf(edge.to)}) breaks "${what}" — ${rule.why}`;
}
