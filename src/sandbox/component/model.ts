// What the component reader (read.ts) knows of a component: its top-level imports
// and exports with their types, and the counts and canonical options the
// direct-ABI check (direct-abi.ts) decides on. Types are resolved to objects as
// they are read (an index always names something defined before it), so nothing
// here needs the index spaces they came from.
import { CapsuleError } from '../../errors.js';

export type Sort = 'func' | 'value' | 'type' | 'component' | 'instance' | 'module';

/** A component-level type, as far as capsule needs to see into it. */
export type Type =
  | { k: 'prim'; name: string }
  | { k: 'record'; fields: [string, Type][] }
  | { k: 'variant'; cases: [string, Type | undefined][] }
  | { k: 'list' | 'option'; of: Type }
  | { k: 'tuple'; of: Type[] }
  | { k: 'flags' | 'enum'; names: string[] }
  | { k: 'result'; ok?: Type; err?: Type }
  | { k: 'own' | 'borrow'; of: Type }
  | { k: 'stream' | 'future'; of?: Type }
  | { k: 'resource' }
  | { k: 'func'; params: [string, Type][]; result?: Type }
  | { k: 'instance'; exports: Map<string, Extern> }
  | { k: 'component'; imports: Extern[]; exports: Map<string, Extern> }
  /** A type given a name by an import or export (WIT shows the name). */
  | { k: 'named'; name: string; of: Type };

/** An import or export: its name (version suffix included) and what it is. */
export interface Extern {
  name: string;
  sort: Sort;
  /** For func, instance, component and type externs; undefined for core modules and values. */
  type?: Type;
}

/** A canonical-ABI option list (string encoding, memory, realloc, post-return...). */
export interface CanonOpts {
  encoding?: 'utf8' | 'utf16' | 'latin1+utf16';
  memory?: number;
  realloc?: number;
  postReturn?: number;
  async?: boolean;
  callback?: number;
}

/** Where a core func or memory of the component comes from. */
export type CoreItem = { from: 'alias'; instance: number; name: string } | { from: 'lower'; opts: CanonOpts } | { from: 'other' };

export type CoreInstance = { from: 'instantiate'; module: number; args: number } | { from: 'exports' };

/** One component (or nested component) as read from its binary. */
export interface ComponentInfo {
  imports: Extern[];
  exports: Extern[];
  /** Core modules defined in this component (section 1), not counting nested components'. */
  coreModules: number;
  coreInstances: CoreInstance[];
  coreFuncs: CoreItem[];
  coreMemories: CoreItem[];
  /** Other core items aliased (tables, globals, tags, types, modules, instances). */
  otherCoreAliases: number;
  lifts: { coreFunc: number; opts: CanonOpts; type: Type }[];
  /** Nested components, component instances, canon built-ins other than lift and lower. */
  others: number;
}

/** Thrown for anything the reader cannot read or does not support; callers see COMPONENT_INVALID. */
export function unreadable(why: string): CapsuleError {
  return new CapsuleError('COMPONENT_INVALID', `component cannot be read: ${why}`);
}

/** The type behind any names given to it. */
export function unnamed(t: Type | undefined): Type | undefined {
  let at = t;
  while (at?.k === 'named') at = at.of;
  return at;
}
