// What a component imports and exports, read from its binary (component/read.ts)
// before any instantiation, and which capsule world it fits.
import { CapsuleError } from '../errors.js';
import { type ComponentInfo, type Extern, type Type, unnamed } from './component/model.js';
import { renderExterns } from './component/render.js';
import type { HostImports, World } from './job.js';

export interface ComponentShape {
  /** Every import the component declares (not only those jco sees used): `wasi:io/streams@0.2.3`, a bare func `log`. */
  imports: string[];
  /** One WIT-like line per export, e.g. `run: func(input: string) -> result<string, string>`. */
  exports: string[];
  /** capability, command, or null when it is neither. */
  world: World | null;
  /** The world's WIT text (jco's), for `inspect` only: nothing is decided on it. */
  wit: string;
}

/** The shape of a component read by readComponent; types are not imports or exports in WIT, so they are left out. */
export function shapeOf(info: ComponentInfo, wit: string): ComponentShape {
  const imports = info.imports.filter((e) => e.sort !== 'type').map((e) => e.name);
  const exports = info.exports.filter((e) => e.sort !== 'type');
  return { imports, exports: renderExterns(exports), world: worldOf(exports), wit };
}

function worldOf(exports: Extern[]): World | null {
  const [only] = exports;
  if (exports.length === 1 && only !== undefined && isCapabilityRun(only)) return 'capability';
  if (exports.some((e) => e.sort === 'instance' && /^wasi:cli\/run@0\.2\.\d+/.test(e.name))) return 'command';
  return null;
}

/** `run: func(input: string) -> result<string, string>`, exactly. */
function isCapabilityRun(e: Extern): boolean {
  const f = unnamed(e.type);
  if (e.name !== 'run' || e.sort !== 'func' || f?.k !== 'func') return false;
  const [param, ...more] = f.params;
  if (param === undefined || more.length > 0 || param[0] !== 'input' || !isString(param[1])) return false;
  const r = unnamed(f.result);
  return r?.k === 'result' && isString(r.ok) && isString(r.err);
}

function isString(t: Type | undefined): boolean {
  const s = unnamed(t);
  return s?.k === 'prim' && s.name === 'string';
}

/** Explain why a component is not one capsule can run, naming what it does export. */
export function notAWorld(shape: ComponentShape, expected?: World): CapsuleError {
  const has = shape.exports.length > 0 ? shape.exports.join('; ') : 'nothing';
  const want = expected ? `the ${expected} world` : 'the capability world (export run: func(input: string) -> result<string, string>) or a wasi:cli/command';
  return new CapsuleError('COMPONENT_INVALID', `not a capsule capability: expected ${want}, but it exports ${has}`, {
    exports: shape.exports,
  });
}

/**
 * The functions of each imported (non-WASI) interface, by unversioned name: how
 * many parameters each takes and whether it returns a WIT `result`. An app's host
 * functions are checked against these, and a throw becomes the err of one that does.
 */
export function importedFuncs(info: ComponentInfo): HostImports {
  const out: HostImports = {};
  for (const e of info.imports) {
    const t = unnamed(e.type);
    if (e.sort !== 'instance' || t?.k !== 'instance' || e.name.startsWith('wasi:')) continue;
    const funcs: HostImports[string] = {};
    for (const [name, x] of t.exports) {
      const f = unnamed(x.type);
      if (x.sort === 'func' && f?.k === 'func') funcs[name] = { params: f.params.length, result: unnamed(f.result)?.k === 'result' };
    }
    const at = e.name.indexOf('@');
    out[at === -1 ? e.name : e.name.slice(0, at)] = funcs;
  }
  return out;
}
