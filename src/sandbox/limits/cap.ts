// The load-time rewrite that caps what a core module may allocate, applied before
// it is compiled, in every tier:
// - every linear memory it defines or imports gets a maximum of `pagesPerMemory`
//   (memory.grow past it returns -1, as the spec says); a memory whose minimum is
//   over it is MEMORY_LIMIT;
// - every table it defines gets a maximum of min(declared max, max(min, tableGrowElements))
//   (table.grow past it returns -1). Without this V8 lets one table reach 10 M
//   elements and several of them exhaust the worker's JS heap, which aborts the
//   whole process. Imported tables are left as declared: the only tables a guest
//   can import are other core instances' (jco's glue creates none), capped there;
// - every memory and table it defines is also exported under a reserved name
//   (HIDDEN_EXPORT), so the runtime can tell after a trap whether the guest had
//   reached a cap even when the guest exports neither.
import { CapsuleError } from '../../errors.js';
import type { CallLimits } from './plan.js';
import { tableCap } from './plan.js';
import { readLimits, readRefType, Reader, rewriteSections, SECTION, skipImportDesc, Writer, writeLimits, type Limits } from './sections.js';

/** Prefix of the exports the rewrite adds: `capsule:table:N`, `capsule:memory:N` (N: index among defined ones). */
export const HIDDEN_EXPORT = 'capsule:';

type Caps = Pick<CallLimits, 'pagesPerMemory' | 'tableGrowElements'>;

export function capModule(module: Uint8Array, caps: Caps): Uint8Array<ArrayBuffer> {
  const imported = { tables: 0, memories: 0 };
  let defined = { tables: 0, memories: 0 };
  const out = rewriteSections(
    module,
    (id, body) => {
      if (id === SECTION.type) return checkTypes(body);
      if (id === SECTION.import) return rewriteImports(body, caps.pagesPerMemory, imported);
      if (id === SECTION.memory) {
        const r = rewriteMemories(body, caps.pagesPerMemory);
        defined = { ...defined, memories: r.count };
        return r.body;
      }
      if (id === SECTION.table) {
        const r = rewriteTables(body, caps.tableGrowElements);
        defined = { ...defined, tables: r.count };
        return r.body;
      }
      if (id === SECTION.export) return addExports(body, imported, defined);
      return undefined;
    },
    (id) => (id === SECTION.export && defined.tables + defined.memories > 0 ? addExports(undefined, imported, defined) : undefined),
  );
  return out;
}

/** Only the memory caps (the rewrite as it was before tables were capped). */
export function capMemories(module: Uint8Array, maxPages: number): Uint8Array<ArrayBuffer> {
  return capModule(module, { pagesPerMemory: maxPages, tableGrowElements: Number.MAX_SAFE_INTEGER });
}

const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

/**
 * Only function types with plain value types. Wasm GC structs and arrays (Node 22+)
 * live on the worker's JS heap, where one `array.new` can exceed the heap limit in a
 * single allocation and abort the process; nothing a component toolchain emits uses them.
 */
function checkTypes(body: Uint8Array): undefined {
  const r = new Reader(body);
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const form = r.byte();
    if (form !== 0x60) {
      throw new CapsuleError(
        'COMPONENT_INVALID',
        `core module type ${i} is not a function type (0x${form.toString(16)}): wasm GC and typed references are not supported`,
      );
    }
    for (let part = 0; part < 2; part++) {
      const n = r.u32();
      for (let k = 0; k < n; k++) {
        const t = r.byte();
        if (!VALTYPES.has(t)) {
          throw new CapsuleError(
            'COMPONENT_INVALID',
            `core module type ${i} uses value type 0x${t.toString(16)}: wasm GC and typed references are not supported`,
          );
        }
      }
    }
  }
  return undefined;
}

function rewriteMemories(body: Uint8Array, maxPages: number): { body: Uint8Array; count: number } {
  const r = new Reader(body);
  const w = new Writer();
  const count = r.u32();
  w.u32(count);
  for (let i = 0; i < count; i++) capMemory(readLimits(r), w, maxPages, `memory ${i}`);
  return { body: w.bytes(), count };
}

function rewriteTables(body: Uint8Array, grow: number): { body: Uint8Array; count: number } {
  const r = new Reader(body);
  const w = new Writer();
  const count = r.u32();
  w.u32(count);
  for (let i = 0; i < count; i++) {
    if (body[r.pos] === 0x40)
      throw new CapsuleError('COMPONENT_INVALID', 'core module cannot be capped: tables with initialiser expressions are not supported');
    w.byte(readRefType(r));
    const l = readLimits(r);
    const cap = tableCap(Number(l.min), l.max === undefined ? undefined : Number(l.max), grow);
    writeLimits(w, l, BigInt(cap));
  }
  return { body: w.bytes(), count };
}

function rewriteImports(body: Uint8Array, maxPages: number, imported: { tables: number; memories: number }): Uint8Array {
  const r = new Reader(body);
  const w = new Writer();
  const count = r.u32();
  w.u32(count);
  for (let i = 0; i < count; i++) {
    const from = r.pos;
    r.name();
    r.name();
    const kind = r.byte();
    w.raw(body.subarray(from, r.pos));
    if (kind === 0x02) {
      imported.memories++;
      capMemory(readLimits(r), w, maxPages, `imported memory ${i}`);
      continue;
    }
    if (kind === 0x01) imported.tables++;
    const descFrom = r.pos;
    skipImportDesc(r, kind);
    w.raw(body.subarray(descFrom, r.pos));
  }
  return w.bytes();
}

function capMemory(l: Limits, w: Writer, maxPages: number, what: string): void {
  const cap = BigInt(maxPages);
  if (l.min > cap) {
    throw new CapsuleError(
      'MEMORY_LIMIT',
      `${what} needs ${l.min} pages (${Number(l.min) * 65536} bytes) at start, over the memory limit of ${maxPages} pages`,
    );
  }
  writeLimits(w, l, l.max !== undefined && l.max < cap ? l.max : cap);
}

/** The export section with one reserved export per defined table and memory appended. */
function addExports(body: Uint8Array | undefined, imported: { tables: number; memories: number }, defined: { tables: number; memories: number }): Uint8Array {
  const w = new Writer();
  let existing = 0;
  let rest: Uint8Array = new Uint8Array(0);
  if (body) {
    const r = new Reader(body);
    existing = r.u32();
    rest = r.rest();
  }
  w.u32(existing + defined.tables + defined.memories);
  w.raw(rest);
  for (let i = 0; i < defined.tables; i++) {
    w.name(`${HIDDEN_EXPORT}table:${i}`);
    w.byte(0x01);
    w.u32(imported.tables + i);
  }
  for (let i = 0; i < defined.memories; i++) {
    w.name(`${HIDDEN_EXPORT}memory:${i}`);
    w.byte(0x02);
    w.u32(imported.memories + i);
  }
  return w.bytes();
}
