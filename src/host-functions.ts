// The app's host functions (createRuntime({ host })): implementations of custom WIT
// interfaces a capability may import when its policy grants them (README: Host
// functions). Read once when the runtime is made; checked against each component's
// imports (every function it imports present, taking as many parameters) per call.
import { CapsuleError } from './errors.js';
import { isWasi, unversioned } from './grants/interfaces.js';
import type { HostImports } from './sandbox/job.js';

/** A host function: any JS function; it may return a Promise (worker tier). */
export type HostFunction = (...args: never[]) => unknown;

/** Interface name (`acme:kv/store`, a version suffix is ignored) → function name → implementation. */
export type HostFunctions = Record<string, Record<string, HostFunction>>;

/** The app's functions by unversioned interface name. */
export type HostTable = ReadonlyMap<string, Readonly<Record<string, (...args: unknown[]) => unknown>>>;

/** Interfaces capsule implements itself: an app cannot replace them. */
const OWN = new Set(['capsule:host/log', 'capsule:host/config']);

/** The `host` option read once into a table (USAGE naming what is wrong). */
export function hostTable(value: unknown): HostTable {
  const table = new Map<string, Record<string, (...args: unknown[]) => unknown>>();
  if (value === undefined) return table;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CapsuleError('USAGE', 'createRuntime option host must be an object: interface name → { function name: function }');
  }
  for (const [name, funcs] of Object.entries(value)) {
    const base = unversioned(name);
    if (!/^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*(\/[a-z][a-z0-9-]*)+$/.test(base)) {
      throw new CapsuleError('USAGE', `host interface ${JSON.stringify(name)} is not a WIT interface name (namespace:package/interface)`);
    }
    if (isWasi(base) || OWN.has(base)) throw new CapsuleError('USAGE', `host interface ${base} is capsule's own; an app cannot supply it`);
    if (table.has(base)) throw new CapsuleError('USAGE', `host interface ${base} is given twice`);
    if (typeof funcs !== 'object' || funcs === null || Array.isArray(funcs)) {
      throw new CapsuleError('USAGE', `host interface ${base} must be an object of functions`);
    }
    // No prototype: a component importing `constructor` or `to-string` finds nothing the app did not give.
    const copy: Record<string, (...args: unknown[]) => unknown> = Object.create(null);
    for (const [fn, f] of Object.entries(funcs)) {
      if (typeof f !== 'function') throw new CapsuleError('USAGE', `host function ${base}#${fn} is not a function`);
      copy[fn] = f as (...args: unknown[]) => unknown;
    }
    table.set(base, Object.freeze(copy));
  }
  return table;
}

/**
 * The app interfaces `imported` (a component's custom imports) uses, with their
 * functions' shapes, once each is checked against the app's object: IMPORT_DENIED
 * names a function the app lacks or one whose arity differs. Interfaces the app
 * does not supply are left out (the linker refuses those it does not implement).
 */
export function hostImportsFor(imported: HostImports, table: HostTable, granted: readonly string[]): HostImports | undefined {
  const grantedSet = new Set(granted.map(unversioned));
  const out: HostImports = {};
  for (const [iface, funcs] of Object.entries(imported)) {
    const app = table.get(iface);
    if (!app || !grantedSet.has(iface)) continue;
    for (const [fn, shape] of Object.entries(funcs)) {
      const f = Object.hasOwn(app, fn) ? app[fn] : undefined;
      if (f === undefined) {
        throw new CapsuleError('IMPORT_DENIED', `component imports ${iface}#${fn}: the app's host interface ${iface} has no function ${fn}`, {
          imports: [iface],
        });
      }
      // A rest parameter or defaults make length smaller; more declared than passed is the mismatch worth refusing.
      if (f.length > shape.params) {
        throw new CapsuleError('IMPORT_DENIED', `component imports ${iface}#${fn} with ${shape.params} parameters; the app's function takes ${f.length}`, {
          imports: [iface],
        });
      }
    }
    out[iface] = funcs;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
