// The index spaces of one component, component type or instance type while it is
// read: each definition appends to its sort's space, and every index read is
// checked against it (a dangling index means the binary is not one we read).
import { type Extern, type Type, unnamed, unreadable } from './model.js';

/** Nested components and component/instance/module types deeper than this are refused. */
export const MAX_DEPTH = 32;

export type Exports = Map<string, Extern>;

export class Scope {
  readonly types: Type[] = [];
  readonly funcs: (Type | undefined)[] = [];
  readonly instances: Exports[] = [];
  readonly components: Type[] = [];
  coreTypes = 0;
  coreModules = 0;

  constructor(
    readonly parent: Scope | undefined,
    readonly depth: number,
  ) {
    if (depth > MAX_DEPTH) throw unreadable(`nested more than ${MAX_DEPTH} deep`);
  }

  type(i: number): Type {
    return at(this.types, i, 'type');
  }

  instance(i: number): Exports {
    return at(this.instances, i, 'instance');
  }

  component(i: number): Type {
    return at(this.components, i, 'component');
  }

  func(i: number): Type | undefined {
    if (i >= this.funcs.length) throw unreadable(`func index ${i} out of range`);
    return this.funcs[i];
  }

  /** The scope `count` levels out (0 is this one), for outer aliases. */
  outer(count: number): Scope {
    let s: Scope | undefined = this;
    for (let n = 0; n < count && s; n++) s = s.parent;
    if (!s) throw unreadable(`outer alias ${count} levels out of ${this.depth + 1}`);
    return s;
  }

  /** Adds what an import, export or alias introduces to its index space. */
  define(e: Extern): void {
    if (e.sort === 'type') this.types.push(named(e));
    else if (e.sort === 'func') this.funcs.push(e.type);
    else if (e.sort === 'instance') this.instances.push(instanceExports(e.type));
    else if (e.sort === 'component') this.components.push(e.type ?? { k: 'component', imports: [], exports: new Map() });
    else if (e.sort === 'module') this.coreModules++;
    else throw unreadable(`${e.sort} definitions are not supported`);
  }
}

function at<T>(list: T[], i: number, what: string): T {
  const v = list[i];
  if (v === undefined) throw unreadable(`${what} index ${i} out of range`);
  return v;
}

/** A type brought in under a name keeps it, so a WIT-like rendering can show it. */
function named(e: Extern): Type {
  if (e.type === undefined) throw unreadable(`type ${e.name} has no type`);
  return { k: 'named', name: e.name, of: e.type };
}

/** The exports of an instance of type `t` (an instance type). */
export function instanceExports(t: Type | undefined): Exports {
  const it = unnamed(t);
  if (it?.k !== 'instance') throw unreadable('an instance whose type is not an instance type');
  return it.exports;
}

/** The exports an instantiation of component type `t` gives. */
export function componentExports(t: Type): Exports {
  const ct = unnamed(t);
  if (ct?.k !== 'component') throw unreadable('instantiating something that is not a component');
  return ct.exports;
}
