// Reads the component binary's type definitions (Binary.md "Type Definitions"):
// value types, function types, instance and component types, resources, and core
// types only as far as skipping them needs. Anything else (gated features such
// as maps, async functions, values, GC core types) is refused: the reader never
// guesses past bytes it does not understand.
import type { Reader } from '../limits/sections.js';
import { skipImportDesc } from '../limits/sections.js';
import { type Extern, type Sort, type Type, unnamed, unreadable } from './model.js';
import { Scope } from './scope.js';

const PRIM_NAMES: Record<number, string> = {
  127: 'bool',
  126: 's8',
  125: 'u8',
  124: 's16',
  123: 'u16',
  122: 's32',
  121: 'u32',
  120: 's64',
  119: 'u64',
  118: 'f32',
  117: 'f64',
  116: 'char',
  115: 'string',
  100: 'error-context',
};

/** One object per primitive type, shared: types are never modified once read. */
const PRIMS: (Type | undefined)[] = [];
for (const [code, name] of Object.entries(PRIM_NAMES)) PRIMS[Number(code)] = { k: 'prim', name };

/** A count of things each at least a byte long: more than the bytes left means a lie. */
export function count(r: Reader): number {
  const n = r.u32();
  if (n > r.remaining()) throw unreadable(`a count of ${n} with ${r.remaining()} bytes left`);
  return n;
}

export function vec<T>(r: Reader, item: () => T): T[] {
  const n = count(r);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(item());
  return out;
}

/** An import or export name (nameattributes): the version-suffix attribute is part of the name. */
export function externName(r: Reader): string {
  const kind = r.byte();
  const name = r.string();
  if (kind === 0x00 || kind === 0x01) return name;
  if (kind !== 0x02) throw unreadable(`unknown name kind 0x${kind.toString(16)}`);
  let suffix = '';
  for (const _ of vec(r, () => undefined)) {
    const attribute = r.byte();
    if (attribute > 0x02) throw unreadable(`unknown name attribute 0x${attribute.toString(16)}`);
    const text = r.string();
    if (attribute === 0x01) suffix = text;
  }
  return name + suffix;
}

export function valType(r: Reader, scope: Scope): Type {
  const prim = PRIMS[r.peek()];
  if (prim !== undefined) {
    r.byte();
    return prim;
  }
  const i = r.s33();
  if (i < 0) throw unreadable(`unknown value type ${i}`);
  const t = scope.type(i);
  const k = unnamed(t)?.k;
  if (k === 'func' || k === 'instance' || k === 'component' || k === 'resource') throw unreadable(`a ${k} type used as a value type`);
  return t;
}

const optional = <T>(r: Reader, f: () => T): T | undefined => {
  const flag = r.byte();
  if (flag > 1) throw unreadable(`bad option flag ${flag}`);
  return flag === 1 ? f() : undefined;
};

type Reading = (r: Reader, s: Scope) => Type;

const label = (r: Reader) => r.string();
const labelled = (r: Reader, s: Scope): [string, Type] => [label(r), valType(r, s)];

const VALUE_TYPES: Record<number, Reading> = {
  114: (r, s) => ({ k: 'record', fields: vec(r, () => labelled(r, s)) }),
  113: (r, s) => ({ k: 'variant', cases: vec(r, () => variantCase(r, s)) }),
  112: (r, s) => ({ k: 'list', of: valType(r, s) }),
  103: (r, s) => {
    const of = valType(r, s);
    r.u32();
    return { k: 'list', of };
  },
  111: (r, s) => ({ k: 'tuple', of: vec(r, () => valType(r, s)) }),
  110: (r) => ({ k: 'flags', names: vec(r, () => label(r)) }),
  109: (r) => ({ k: 'enum', names: vec(r, () => label(r)) }),
  107: (r, s) => ({ k: 'option', of: valType(r, s) }),
  106: (r, s) =>
    result(
      optional(r, () => valType(r, s)),
      optional(r, () => valType(r, s)),
    ),
  105: (r, s) => ({ k: 'own', of: s.type(r.u32()) }),
  104: (r, s) => ({ k: 'borrow', of: s.type(r.u32()) }),
  102: (r, s) =>
    withOf(
      'stream',
      optional(r, () => valType(r, s)),
    ),
  101: (r, s) =>
    withOf(
      'future',
      optional(r, () => valType(r, s)),
    ),
};

function result(ok: Type | undefined, err: Type | undefined): Type {
  return { k: 'result', ...(ok ? { ok } : {}), ...(err ? { err } : {}) };
}

function withOf(k: 'stream' | 'future', of: Type | undefined): Type {
  return of ? { k, of } : { k };
}

function variantCase(r: Reader, s: Scope): [string, Type | undefined] {
  const name = label(r);
  const of = optional(r, () => valType(r, s));
  if (r.byte() !== 0x00) throw unreadable('variant case refinements are not supported');
  return [name, of];
}

const DEF_TYPES: Record<number, Reading> = {
  64: (r, s) => funcType(r, s),
  65: (r, s) => declarations(r, s, 'component'),
  66: (r, s) => declarations(r, s, 'instance'),
  63: (r) => resourceType(r),
};

/** A type definition (Binary.md `deftype`). */
export function defType(r: Reader, scope: Scope): Type {
  const code = r.byte();
  const prim = PRIMS[code];
  if (prim !== undefined) return prim;
  const read = DEF_TYPES[code] ?? VALUE_TYPES[code];
  if (!read) throw unreadable(`unsupported type 0x${code.toString(16)}`);
  return read(r, scope);
}

function funcType(r: Reader, s: Scope): Type {
  const params = vec(r, () => labelled(r, s));
  const kind = r.byte();
  if (kind === 0x00) return { k: 'func', params, result: valType(r, s) };
  if (kind === 0x01 && r.byte() === 0x00) return { k: 'func', params };
  throw unreadable('named function results are not supported');
}

function resourceType(r: Reader): Type {
  const rep = r.byte();
  if (rep !== 0x7f) throw unreadable(`resource representation 0x${rep.toString(16)}`);
  optional(r, () => r.u32()); // the destructor
  return { k: 'resource' };
}

/** An instance type's or component type's declarations, in a scope of their own. */
function declarations(r: Reader, outer: Scope, k: 'instance' | 'component'): Type {
  const s = new Scope(outer, outer.depth + 1);
  const imports: Extern[] = [];
  const exports = new Map<string, Extern>();
  for (const _ of vec(r, () => undefined)) {
    const code = r.byte();
    if (code === 0x00) coreType(r, s);
    else if (code === 0x01) s.types.push(defType(r, s));
    else if (code === 0x02) alias(r, s);
    else if (code === 0x03 && k === 'component') declare(s, imports, externDecl(r, s));
    else if (code === 0x04) declare(s, exports, externDecl(r, s));
    else throw unreadable(`unknown ${k} declaration 0x${code.toString(16)}`);
  }
  return k === 'instance' ? { k, exports } : { k, imports, exports };
}

function declare(s: Scope, into: Extern[] | Map<string, Extern>, e: Extern): void {
  s.define(e);
  const defined = e.sort === 'type' ? s.types[s.types.length - 1] : e.type;
  const entry = defined === undefined ? e : { ...e, type: defined };
  if (Array.isArray(into)) into.push(entry);
  else into.set(e.name, entry);
}

/** `importdecl`/`exportdecl`: a name and an extern type. */
export function externDecl(r: Reader, s: Scope): Extern {
  const name = externName(r);
  return { name, ...externType(r, s) };
}

/** Binary.md `externtype`: what sort an import or export is and its type. */
export function externType(r: Reader, s: Scope): { sort: Sort; type?: Type } {
  const code = r.byte();
  if (code === 0x00) {
    if (r.byte() !== 0x11) throw unreadable('a core extern that is not a module');
    r.u32(); // the core module type
    return { sort: 'module' };
  }
  if (code === 0x01) return { sort: 'func', type: expect(s.type(r.u32()), 'func') };
  if (code === 0x03) return { sort: 'type', type: typeBound(r, s) };
  if (code === 0x04) return { sort: 'component', type: expect(s.type(r.u32()), 'component') };
  if (code === 0x05) return { sort: 'instance', type: expect(s.type(r.u32()), 'instance') };
  throw unreadable(`unsupported extern type 0x${code.toString(16)}`);
}

/** `(eq i)` is type i; `(sub resource)` is a fresh resource. */
function typeBound(r: Reader, s: Scope): Type {
  const code = r.byte();
  if (code === 0x00) return s.type(r.u32());
  if (code === 0x01) return { k: 'resource' };
  throw unreadable('unknown type bound');
}

function expect(t: Type, k: 'func' | 'instance' | 'component'): Type {
  if (unnamed(t)?.k !== k) throw unreadable(`a ${k} extern whose type is not a ${k} type`);
  return t;
}

/** Binary.md `alias`, inside a type or a component: what it names joins the scope's index space. */
export function alias(r: Reader, s: Scope): void {
  const sort = readSort(r);
  const target = r.byte();
  if (target === 0x00 && !sort.core) s.define(exportAlias(s.instance(r.u32()), r.string(), sort.name));
  else if (target === 0x02) outerAlias(s.outer(r.u32()), r.u32(), sort, s);
  else throw unreadable(`unsupported alias 0x${target.toString(16)} of ${sort.core ? 'core ' : ''}${sort.name}`);
}

function exportAlias(exports: Map<string, Extern>, name: string, sort: string): Extern {
  const e = exports.get(name);
  if (!e || e.sort !== sort) throw unreadable(`alias of ${sort} ${name}, which the instance does not export`);
  return e;
}

function outerAlias(from: Scope, i: number, sort: { core: boolean; name: string }, s: Scope): void {
  if (sort.core && sort.name === 'type') s.coreTypes++;
  else if (sort.core && sort.name === 'module') s.coreModules++;
  else if (!sort.core && sort.name === 'type') s.types.push(from.type(i));
  else if (!sort.core && sort.name === 'component') s.components.push(from.component(i));
  else throw unreadable(`outer alias of ${sort.name}`);
}

const CORE_SORTS: Record<number, string> = { 0: 'func', 1: 'table', 2: 'memory', 3: 'global', 4: 'tag', 16: 'type', 17: 'module', 18: 'instance' };
const SORTS: Record<number, Sort> = { 1: 'func', 2: 'value', 3: 'type', 4: 'component', 5: 'instance' };

/** Binary.md `sort`: a core sort (after 0x00) or a component one. */
export function readSort(r: Reader): { core: boolean; name: string } {
  const code = r.byte();
  const name = code === 0x00 ? CORE_SORTS[r.byte()] : SORTS[code];
  if (name === undefined) throw unreadable('unknown sort');
  return { core: code === 0x00, name };
}

/** A core type: function types and module types are read (to be skipped); GC types are refused. */
export function coreType(r: Reader, s: Scope): void {
  const code = r.byte();
  if (code === 0x60) {
    vec(r, () => coreValType(r));
    vec(r, () => coreValType(r));
  } else if (code === 0x50) {
    moduleType(r, new Scope(s, s.depth + 1));
  } else throw unreadable(`unsupported core type 0x${code.toString(16)}`);
  s.coreTypes++;
}

function coreValType(r: Reader): void {
  const code = r.byte();
  if ((code >= 0x7b && code <= 0x7f) || code === 0x70 || code === 0x6f) return;
  if (code !== 0x63 && code !== 0x64) throw unreadable(`unsupported core value type 0x${code.toString(16)}`);
  r.s33(); // a typed reference's heap type
}

function moduleType(r: Reader, s: Scope): void {
  for (const _ of vec(r, () => undefined)) {
    const read = MODULE_DECLS[r.byte()];
    if (!read) throw unreadable('unknown module type declaration');
    read(r, s);
  }
}

/** A core import or export description after its name(s): a kind byte and its immediates. */
const coreExternDesc = (r: Reader) => skipImportDesc(r, r.byte());

const MODULE_DECLS: Record<number, (r: Reader, s: Scope) => void> = {
  0: (r) => {
    r.string(); // module
    r.string(); // field
    coreExternDesc(r);
  },
  1: (r, s) => {
    if (r.peek() === 0x50) throw unreadable('a module type inside a module type');
    coreType(r, s);
  },
  2: (r, s) => {
    if (r.byte() !== 0x10 || r.byte() !== 0x01) throw unreadable('unsupported alias in a module type');
    s.outer(r.u32());
    r.u32();
    s.coreTypes++;
  },
  3: (r) => {
    r.string();
    coreExternDesc(r);
  },
};
