// A reader of the WebAssembly component binary format (component-model
// design/mvp/Binary.md), for what capsule decides on before running anything:
// the top-level imports and exports with their types (the world, the grants a
// component needs) and the core modules, instances, aliases and canonical
// options (the direct-ABI fast path). Core modules are skipped by their size,
// never parsed here.
//
// It is pure and bounded: every count and length is checked against the bytes
// left before anything is allocated, nesting is capped (scope.ts), and anything
// unknown or unsupported throws COMPONENT_INVALID (model.ts `unreadable`), so a
// hostile binary costs time and memory linear in its size and nothing else.
import { Reader } from '../limits/sections.js';
import { type CanonOpts, type ComponentInfo, type Extern, unnamed, unreadable } from './model.js';
import { componentExports, type Exports, Scope } from './scope.js';
import { alias, coreType, count, defType, externDecl, externName, externType, readSort, vec } from './types.js';

/** Reads a component binary; throws COMPONENT_INVALID for anything it cannot read. */
export function readComponent(bytes: Uint8Array): ComponentInfo {
  // A plain view: a Node Buffer's subarray makes a Buffer each time, several times slower.
  return read(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), undefined).info;
}

function read(bytes: Uint8Array, parent: Scope | undefined): { info: ComponentInfo; scope: Scope } {
  const scope = new Scope(parent, parent ? parent.depth + 1 : 0);
  const r = new Reader(bytes, unreadable);
  expectPreamble(r);
  const c = new ComponentReading(scope);
  while (!r.done()) {
    const id = r.byte();
    const body = new Reader(r.take(r.u32()), unreadable);
    c.section(id, body);
    if (!body.done()) throw unreadable(`section ${id} has ${body.remaining()} bytes it does not use`);
  }
  return { info: c.info, scope };
}

function expectPreamble(r: Reader): void {
  const head = r.take(Math.min(8, r.remaining()));
  const magic = head.length === 8 && head[0] === 0 && head[1] === 0x61 && head[2] === 0x73 && head[3] === 0x6d;
  if (!magic || head[4] !== 0x0d || head[5] !== 0 || head[6] !== 1 || head[7] !== 0) throw unreadable('not a component (preamble)');
}

class ComponentReading {
  readonly info: ComponentInfo = {
    imports: [],
    exports: [],
    coreModules: 0,
    coreInstances: [],
    coreFuncs: [],
    coreMemories: [],
    otherCoreAliases: 0,
    lifts: [],
    others: 0,
  };

  constructor(private readonly s: Scope) {}

  section(id: number, r: Reader): void {
    const read = this.readers[id];
    if (!read) throw unreadable(`unsupported section ${id}`);
    read(r);
  }

  private readonly readers: Record<number, (r: Reader) => void> = {
    0: (r) => void r.take(r.remaining()), // custom: names, producers
    1: (r) => this.coreModule(r),
    2: (r) => void vec(r, () => this.coreInstance(r)),
    3: (r) => void vec(r, () => coreType(r, this.s)),
    4: (r) => this.nestedComponent(r),
    5: (r) => void vec(r, () => this.instance(r)),
    6: (r) => void vec(r, () => this.alias(r)),
    7: (r) => void vec(r, () => this.s.types.push(defType(r, this.s))),
    8: (r) => void vec(r, () => this.canon(r)),
    10: (r) => void vec(r, () => this.import(r)),
    11: (r) => void vec(r, () => this.export(r)),
  };

  private coreModule(r: Reader): void {
    r.take(r.remaining());
    this.s.coreModules++;
    this.info.coreModules++;
  }

  private coreInstance(r: Reader): void {
    const kind = r.byte();
    if (kind === 0x00) {
      const module = r.u32();
      if (module >= this.s.coreModules) throw unreadable(`core module index ${module} out of range`);
      const args = vec(r, () => [r.string(), r.byte(), r.u32()]);
      if (args.some(([, sort, i]) => sort !== 0x12 || Number(i) >= this.info.coreInstances.length)) throw unreadable('bad core instantiation argument');
      this.info.coreInstances.push({ from: 'instantiate', module, args: args.length });
    } else if (kind === 0x01) {
      vec(r, () => [r.string(), r.byte(), r.u32()]);
      this.info.coreInstances.push({ from: 'exports' });
    } else throw unreadable(`unknown core instance 0x${kind.toString(16)}`);
  }

  private nestedComponent(r: Reader): void {
    const { info } = read(r.take(r.remaining()), this.s);
    this.s.components.push({ k: 'component', imports: info.imports, exports: new Map(info.exports.map((e) => [e.name, e])) });
    this.info.others++;
  }

  private instance(r: Reader): void {
    const kind = r.byte();
    if (kind === 0x00) {
      const exports = componentExports(this.s.component(r.u32()));
      vec(r, () => this.sortIndex(r.string(), r));
      this.s.instances.push(exports);
    } else if (kind === 0x01) {
      const exports: Exports = new Map();
      for (const e of vec(r, () => this.sortIndex(externName(r), r))) exports.set(e.name, e);
      this.s.instances.push(exports);
    } else throw unreadable(`unknown instance 0x${kind.toString(16)}`);
    this.info.others++;
  }

  /** A `sortidx` named `name`: what it refers to, as an extern of this component. */
  private sortIndex(name: string, r: Reader): Extern {
    const sort = readSort(r);
    const i = r.u32();
    if (sort.core) {
      if (sort.name !== 'module' || i >= this.s.coreModules) throw unreadable(`core ${sort.name} ${i} cannot be passed to a component`);
      return { name, sort: 'module' };
    }
    return { name, ...this.item(sort.name, i) };
  }

  private item(sort: string, i: number): Pick<Extern, 'sort' | 'type'> {
    if (sort === 'func') return { sort, type: this.s.func(i) };
    if (sort === 'type') return { sort, type: this.s.type(i) };
    if (sort === 'instance') return { sort, type: { k: 'instance', exports: this.s.instance(i) } };
    if (sort === 'component') return { sort, type: this.s.component(i) };
    throw unreadable(`${sort} items are not supported`);
  }

  private alias(r: Reader): void {
    const start = r.pos;
    const sort = readSort(r);
    if (!sort.core || r.peek() !== 0x01) {
      r.pos = start;
      alias(r, this.s);
      return;
    }
    r.byte();
    const instance = r.u32();
    const name = r.string();
    if (instance >= this.info.coreInstances.length) throw unreadable(`core instance index ${instance} out of range`);
    if (sort.name === 'func') this.info.coreFuncs.push({ from: 'alias', instance, name });
    else if (sort.name === 'memory') this.info.coreMemories.push({ from: 'alias', instance, name });
    else this.info.otherCoreAliases++;
  }

  private canon(r: Reader): void {
    const kind = r.byte();
    if (kind === 0x00) {
      this.lift(r);
      return;
    }
    if (kind === 0x01) {
      if (r.byte() !== 0x00) throw unreadable('canon lower of something not a func');
      this.s.func(r.u32());
      this.info.coreFuncs.push({ from: 'lower', opts: canonOpts(r) });
      return;
    }
    if (kind < 0x02 || kind > 0x04) throw unreadable(`unsupported canonical built-in 0x${kind.toString(16)}`);
    this.s.type(r.u32()); // resource.new, resource.drop, resource.rep
    this.info.coreFuncs.push({ from: 'other' });
    this.info.others++;
  }

  private lift(r: Reader): void {
    if (r.byte() !== 0x00) throw unreadable('canon lift of something not a core func');
    const coreFunc = r.u32();
    if (coreFunc >= this.info.coreFuncs.length) throw unreadable(`core func index ${coreFunc} out of range`);
    const opts = canonOpts(r);
    const type = this.s.type(r.u32());
    if (unnamed(type)?.k !== 'func') throw unreadable('canon lift to a type that is not a func type');
    this.info.lifts.push({ coreFunc, opts, type });
    this.s.funcs.push(type);
  }

  private import(r: Reader): void {
    const e = externDecl(r, this.s);
    this.s.define(e);
    this.info.imports.push(e);
  }

  private export(r: Reader): void {
    const name = externName(r);
    const e = this.sortIndex(name, r);
    const ascribed = readOptional(r, () => externType(r, this.s));
    if (ascribed && ascribed.sort !== e.sort) throw unreadable(`export ${name} ascribed a ${ascribed.sort} type but is a ${e.sort}`);
    const exported: Extern = ascribed?.type ? { ...e, type: ascribed.type } : e;
    this.s.define(exported);
    this.info.exports.push(exported);
  }
}

function readOptional<T>(r: Reader, f: () => T): T | undefined {
  const flag = r.byte();
  if (flag > 1) throw unreadable(`bad option flag ${flag}`);
  return flag === 1 ? f() : undefined;
}

const ENCODINGS = ['utf8', 'utf16', 'latin1+utf16'] as const;

/** Binary.md `opts`: each option at most once. */
function canonOpts(r: Reader): CanonOpts {
  const opts: CanonOpts = {};
  const seen = new Set<number>();
  const n = count(r);
  for (let i = 0; i < n; i++) {
    const code = r.byte();
    const kind = code <= 0x02 ? 0 : code; // the three string encodings exclude each other
    if (seen.has(kind)) throw unreadable('a canonical option given twice');
    seen.add(kind);
    canonOpt(code, r, opts);
  }
  return opts;
}

function canonOpt(code: number, r: Reader, opts: CanonOpts): void {
  const encoding = ENCODINGS[code];
  if (encoding) opts.encoding = encoding;
  else if (code === 0x03) opts.memory = r.u32();
  else if (code === 0x04) opts.realloc = r.u32();
  else if (code === 0x05) opts.postReturn = r.u32();
  else if (code === 0x06) opts.async = true;
  else if (code === 0x07) opts.callback = r.u32();
  else throw unreadable(`unknown canonical option 0x${code.toString(16)}`);
}
