// Recognises the simplest capability components — one core module, no imports,
// `run` lifted straight from that module's exports — so they can be called
// without jco's glue. For such a component the glue is pure overhead (it sets up
// the component-model async machinery on every instantiation, ~0.5 ms); calling
// the core module directly costs one `new WebAssembly.Instance`.
//
// The check is deliberately strict: it reads the component's structure
// (component/read.ts), and anything beyond that one layout means "use the glue".
// A miss costs speed, never correctness.
import type { CanonOpts, ComponentInfo, CoreItem } from './component/model.js';

/** Core export names that implement the lifted `run`, all from the one core instance. */
export interface DirectAbi {
  coreFile: string;
  run: string;
  memory: string;
  realloc: string;
  postReturn?: string;
}

export function directAbiOf(info: ComponentInfo, coreFiles: string[]): DirectAbi | undefined {
  const [coreFile, ...more] = coreFiles;
  const [lift, ...lifts] = info.lifts;
  if (coreFile === undefined || more.length > 0 || lift === undefined || lifts.length > 0) return undefined;
  if (!isOneModuleOneInstance(info) || !plainOpts(lift.opts)) return undefined;
  const { memory, realloc, postReturn } = lift.opts;
  const names = {
    run: exported(info.coreFuncs, lift.coreFunc),
    memory: exported(info.coreMemories, memory),
    realloc: exported(info.coreFuncs, realloc),
    postReturn: exported(info.coreFuncs, postReturn),
  };
  if (!names.run || !names.memory || !names.realloc || (postReturn !== undefined && !names.postReturn)) return undefined;
  return { coreFile, run: names.run, memory: names.memory, realloc: names.realloc, ...(names.postReturn ? { postReturn: names.postReturn } : {}) };
}

/** No imports, nested components, component instances or built-ins; one core module instantiated once, with nothing. */
function isOneModuleOneInstance(info: ComponentInfo): boolean {
  const [instance, ...more] = info.coreInstances;
  const onlyAliases = info.otherCoreAliases === 0 && [...info.coreFuncs, ...info.coreMemories].every((c) => c.from === 'alias');
  const plain = instance?.from === 'instantiate' && instance.module === 0 && instance.args === 0 && more.length === 0;
  return info.imports.length === 0 && info.coreModules === 1 && info.others === 0 && onlyAliases && plain;
}

/** UTF-8 strings, a memory and a realloc, synchronous. */
function plainOpts(o: CanonOpts): boolean {
  return (o.encoding ?? 'utf8') === 'utf8' && !o.async && o.callback === undefined && o.memory !== undefined && o.realloc !== undefined;
}

/** The export name of the one core instance behind core item `i`. */
function exported(items: CoreItem[], i: number | undefined): string | undefined {
  const item = i === undefined ? undefined : items[i];
  return item?.from === 'alias' ? item.name : undefined;
}
