// Recognises the simplest capability components — one core module, no imports,
// `run` lifted straight from that module's exports — so they can be called
// without jco's glue. For such a component the glue is pure overhead (it sets up
// the component-model async machinery on every instantiation, ~0.5 ms); calling
// the core module directly costs one `new WebAssembly.Instance`.
//
// The check is deliberately strict: it reads the component's printed WAT, and
// anything it does not recognise line by line means "use the glue". A miss
// costs speed, never correctness.

/** Core export names that implement the lifted `run`, all from the one core instance. */
export interface DirectAbi {
  coreFile: string;
  run: string;
  memory: string;
  realloc: string;
  postReturn?: string;
}

const TOP_LEVEL_OK = /^\((type|export|@producers|@custom|@name)\b/;

export function directAbiFromWat(wat: string, coreFiles: string[]): DirectAbi | undefined {
  if (coreFiles.length !== 1) return undefined;
  const items = topLevelItems(wat);
  if (!items) return undefined;
  let modules = 0;
  let instance: string | undefined;
  const funcs = new Map<string, string>(); // core func reference → export name
  const memories = new Map<string, string>();
  let lift: string | undefined;
  for (const item of items) {
    if (item.startsWith('(core module')) {
      modules++;
      continue;
    }
    const inst = /^\(core instance (\$\S+ )?\(;0;\) \(instantiate (\$\S+|0)\)\)$/.exec(item);
    if (inst) {
      if (instance !== undefined) return undefined;
      instance = inst[1]?.trim() ?? '0';
      continue;
    }
    const [alias, from, exported = '', sort, name, index = ''] =
      /^\(alias core export (\S+) "([^"]+)" \(core (func|memory) (\$\S+ )?\(;(\d+);\)\)\)$/.exec(item) ?? [];
    if (alias) {
      if (from !== instance && from !== '0') return undefined;
      const table = sort === 'func' ? funcs : memories;
      table.set(index, exported);
      if (name) table.set(name.trim(), exported);
      continue;
    }
    if (/^\(func \S+ (\(;0;\) )?\(type \S+\) \(canon lift /.test(item) || /^\(func \(;0;\) \(type \S+\) \(canon lift /.test(item)) {
      if (lift !== undefined) return undefined;
      lift = item;
      continue;
    }
    if (TOP_LEVEL_OK.test(item)) continue;
    return undefined; // imports, nested components, lowered functions, start functions...
  }
  if (modules !== 1 || instance === undefined || lift === undefined) return undefined;
  const [m, runRef = '', memoryRef = '', reallocRef = '', , , postRef] =
    /\(canon lift \(core func (\S+)\) \(memory (\S+)\) \(realloc (\S+)\)( string-encoding=utf8)?( \(post-return (\S+)\))?\)\)$/.exec(lift) ?? [];
  const [coreFile] = coreFiles;
  if (!m || coreFile === undefined) return undefined;
  const run = funcs.get(runRef);
  const memory = memories.get(memoryRef);
  const realloc = funcs.get(reallocRef);
  const postReturn = postRef === undefined ? undefined : funcs.get(postRef);
  if (!run || !memory || !realloc || (postRef !== undefined && !postReturn)) return undefined;
  return { coreFile, run, memory, realloc, ...(postReturn ? { postReturn } : {}) };
}

/** The component's top-level items, one string each, or undefined if the layout is unexpected. */
function topLevelItems(wat: string): string[] | undefined {
  const lines = wat.split('\n');
  if (lines[0]?.trim() !== '(component') return undefined;
  const items: string[] = [];
  for (const line of lines.slice(1)) {
    if (line === ')' || line.trim() === '') continue;
    const continues = /^ {3,}\S/.test(line) || line === '  )';
    if (continues && items.length > 0) items[items.length - 1] += ` ${line.trim()}`;
    else if (/^ {2}\S/.test(line)) items.push(line.trim());
    else return undefined;
  }
  return items;
}
