// The load-time memory/table rewriter (src/sandbox/limits) on core modules built
// byte by byte here: the section walker round-trips, caps land where they should,
// the engine honours them, and what cannot be capped is refused with its code.
import { describe, expect, it } from 'vitest';
import {
  bundleCensus,
  callLimits,
  capModule,
  censusOf,
  HIDDEN_EXPORT,
  MAX_CORE_INSTANCES,
  PAGE,
  rewriteSections,
  sections,
  TABLE_ELEMENT_BYTES,
  TABLE_GROWTH_SHARE,
  tableCap,
} from '../../src/sandbox/limits/index.js';
import { concat, Reader, section, Writer } from '../../src/sandbox/limits/sections.js';
import { refusal } from './refusal.js';

const HEADER = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
const FUNCREF = 0x70;

interface Lim {
  min: number;
  max?: number;
}

function limits(w: Writer, l: Lim): void {
  w.byte(l.max === undefined ? 0 : 1);
  w.u32(l.min);
  if (l.max !== undefined) w.u32(l.max);
}

function body(write: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  write(w);
  return w.bytes();
}

interface Spec {
  importedMemory?: Lim;
  memories?: Lim[];
  tables?: Lim[];
  /** Export a `grow(delta) -> old size` function over memory 0 and `tgrow` over table 0. */
  growers?: boolean;
  custom?: boolean;
}

/** A valid core module with the given memories and tables, sections in format order. */
function moduleOf(s: Spec): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [HEADER];
  if (s.custom) {
    parts.push(
      section(
        0,
        body((w) => {
          w.name('note');
          w.raw(new Uint8Array([1, 2, 3]));
        }),
      ),
    );
  }
  // type 0: (i32) -> i32
  if (s.growers) parts.push(section(1, new Uint8Array([1, 0x60, 1, 0x7f, 1, 0x7f])));
  const imported = s.importedMemory;
  if (imported) {
    parts.push(
      section(
        2,
        body((w) => {
          w.u32(1);
          w.name('env');
          w.name('mem');
          w.byte(0x02);
          limits(w, imported);
        }),
      ),
    );
  }
  if (s.growers) parts.push(section(3, new Uint8Array([2, 0, 0])));
  const tables = s.tables ?? [];
  if (tables.length) {
    parts.push(
      section(
        4,
        body((w) => {
          w.u32(tables.length);
          for (const t of tables) {
            w.byte(FUNCREF);
            limits(w, t);
          }
        }),
      ),
    );
  }
  const memories = s.memories ?? [];
  if (memories.length) {
    parts.push(
      section(
        5,
        body((w) => {
          w.u32(memories.length);
          for (const m of memories) limits(w, m);
        }),
      ),
    );
  }
  if (s.growers) {
    parts.push(
      section(
        7,
        body((w) => {
          w.u32(2);
          for (const [name, index] of [
            ['grow', 0],
            ['tgrow', 1],
          ] as const) {
            w.name(name);
            w.byte(0);
            w.u32(index);
          }
        }),
      ),
    );
    // grow: local.get 0; memory.grow 0.  tgrow: ref.null func; local.get 0; table.grow 0.
    const grow = [0, 0x20, 0, 0x40, 0, 0x0b];
    const tgrow = [0, 0xd0, FUNCREF, 0x20, 0, 0xfc, 15, 0, 0x0b];
    parts.push(section(10, new Uint8Array([2, grow.length, ...grow, tgrow.length, ...tgrow])));
  }
  if (s.custom)
    parts.push(
      section(
        0,
        body((w) => w.name('trailer')),
      ),
    );
  return concat(parts);
}

const ids = (m: Uint8Array) => sections(m).map((s) => s.id);

/** The export section's entries, read with the rewriter's own reader. */
function exportsOf(m: Uint8Array): { name: string; kind: number; index: number }[] {
  const bytes = sections(m).find((s) => s.id === 7)?.body;
  if (!bytes) return [];
  const r = new Reader(bytes);
  const out: { name: string; kind: number; index: number }[] = [];
  for (let n = r.u32(); n > 0; n--) {
    const len = r.u32();
    const name = new TextDecoder().decode(bytes.subarray(r.pos, r.pos + len));
    r.pos += len;
    out.push({ name, kind: r.byte(), index: r.u32() });
  }
  return out;
}

describe('the section walker', () => {
  it('reads every section in order, custom sections included', () => {
    const m = moduleOf({ custom: true, growers: true, memories: [{ min: 1 }], tables: [{ min: 1 }] });
    expect(WebAssembly.validate(m)).toBe(true);
    expect(ids(m)).toEqual([0, 1, 3, 4, 5, 7, 10, 0]);
  });

  it('rebuilds a module byte for byte when nothing is rewritten', () => {
    for (const spec of [{}, { custom: true }, { growers: true, memories: [{ min: 1, max: 3 }], tables: [{ min: 2 }] }, { importedMemory: { min: 1 } }]) {
      const m = moduleOf(spec);
      expect(Buffer.from(rewriteSections(m, () => undefined))).toEqual(Buffer.from(m));
    }
  });

  it('inserts a missing section where the format puts it, after what came before was rewritten', () => {
    const m = moduleOf({ growers: true, memories: [{ min: 1 }], tables: [{ min: 1 }] });
    const seen: number[] = [];
    const out = rewriteSections(
      m,
      (id) => {
        seen.push(id);
        return undefined;
      },
      (id) => {
        if (id !== 6) return undefined;
        seen.push(-6);
        return new Uint8Array([0]);
      },
    );
    expect(ids(out)).toEqual([1, 3, 4, 5, 6, 7, 10]);
    // The global section was offered after the memory section had been rewritten.
    expect(seen).toEqual([1, 3, 4, 5, -6, 7, 10]);
    expect(WebAssembly.validate(out)).toBe(true);
  });

  it('refuses what is not a core module, or whose sections run past the end', () => {
    expect(refusal(() => sections(new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]))).code).toBe('COMPONENT_INVALID');
    // A component (layer 1) is not a core module either.
    expect(refusal(() => sections(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]))).message).toMatch(/not a core module/);
    expect(refusal(() => sections(concat([HEADER, new Uint8Array([1, 10, 0])]))).message).toMatch(/section 1 runs past the end/);
    expect(refusal(() => sections(concat([HEADER, new Uint8Array([1])]))).message).toMatch(/unexpected end/);
    expect(refusal(() => sections(concat([HEADER, new Uint8Array([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])]))).message).toMatch(/LEB128 too long/);
  });
});

describe('capping memories and tables', () => {
  it('gives an unbounded memory the cap and keeps a smaller declared maximum', () => {
    const caps = { pagesPerMemory: 4, tableGrowElements: 10 };
    const memoryOf = (m: Uint8Array) => {
      const module = new WebAssembly.Module(capModule(m, caps));
      expect(WebAssembly.Module.exports(module)).toEqual([{ name: `${HIDDEN_EXPORT}memory:0`, kind: 'memory' }]);
      return new WebAssembly.Instance(module).exports[`${HIDDEN_EXPORT}memory:0`] as WebAssembly.Memory;
    };
    const unbounded = memoryOf(moduleOf({ memories: [{ min: 1 }] }));
    expect(unbounded.grow(3)).toBe(1);
    expect(() => unbounded.grow(1)).toThrow(RangeError);
    const small = memoryOf(moduleOf({ memories: [{ min: 1, max: 2 }] }));
    expect(() => small.grow(2)).toThrow(RangeError);
    expect(small.grow(1)).toBe(1);
  });

  it('memory.grow and table.grow past the cap return -1 inside the guest', () => {
    const m = moduleOf({ growers: true, memories: [{ min: 1 }], tables: [{ min: 2 }] });
    const capped = capModule(m, { pagesPerMemory: 3, tableGrowElements: 5 });
    const { grow, tgrow } = new WebAssembly.Instance(new WebAssembly.Module(capped)).exports as Record<string, (n: number) => number>;
    expect(grow?.(2)).toBe(1);
    expect(grow?.(1)).toBe(-1);
    expect(tgrow?.(3)).toBe(2);
    expect(tgrow?.(1)).toBe(-1);
    // Unchanged, the same module grows freely.
    const free = new WebAssembly.Instance(new WebAssembly.Module(m)).exports as Record<string, (n: number) => number>;
    expect(free.grow?.(10)).toBe(1);
    expect(free.tgrow?.(100)).toBe(2);
  });

  it('hidden exports index past the imported memories and follow the module`s own exports', () => {
    // Node 20 has no multi-memory, so this module is only read, not compiled.
    const two = capModule(moduleOf({ importedMemory: { min: 1 }, memories: [{ min: 1 }, { min: 1 }], tables: [{ min: 1 }] }), {
      pagesPerMemory: 8,
      tableGrowElements: 8,
    });
    expect(exportsOf(two)).toEqual([
      { name: `${HIDDEN_EXPORT}table:0`, kind: 1, index: 0 },
      { name: `${HIDDEN_EXPORT}memory:0`, kind: 2, index: 1 },
      { name: `${HIDDEN_EXPORT}memory:1`, kind: 2, index: 2 },
    ]);
    const m = moduleOf({ growers: true, importedMemory: { min: 1 }, tables: [{ min: 1 }] });
    const capped = capModule(m, { pagesPerMemory: 8, tableGrowElements: 8 });
    expect(WebAssembly.Module.exports(new WebAssembly.Module(capped)).map((e) => e.name)).toEqual(['grow', 'tgrow', `${HIDDEN_EXPORT}table:0`]);
    // The imported memory is capped too: a larger one no longer links.
    const imports = { env: { mem: new WebAssembly.Memory({ initial: 1, maximum: 100 }) } };
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(capped), imports)).toThrow(WebAssembly.LinkError);
    const small = { env: { mem: new WebAssembly.Memory({ initial: 1, maximum: 8 }) } };
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(capped), small)).not.toThrow();
  });

  it('a module with nothing to cap is rewritten to itself', () => {
    const m = moduleOf({ custom: true });
    expect(Buffer.from(capModule(m, { pagesPerMemory: 1, tableGrowElements: 1 }))).toEqual(Buffer.from(m));
  });

  it('a table`s maximum is min(declared max, max(min, growth room))', () => {
    expect(tableCap(2, undefined, 5)).toBe(5);
    expect(tableCap(10, undefined, 5)).toBe(10);
    expect(tableCap(2, 3, 5)).toBe(3);
    const capped = capModule(moduleOf({ tables: [{ min: 10 }, { min: 1, max: 3 }, { min: 1 }] }), { pagesPerMemory: 1, tableGrowElements: 5 });
    expect(censusOf(capped).tables).toEqual([
      { min: 10, max: 10 },
      { min: 1, max: 3 },
      { min: 1, max: 5 },
    ]);
  });
});

describe('what is refused', () => {
  const caps = { pagesPerMemory: 2, tableGrowElements: 10 };

  it('a memory whose minimum is over the cap: MEMORY_LIMIT', () => {
    const e = refusal(() => capModule(moduleOf({ memories: [{ min: 3 }] }), caps));
    expect(e.code).toBe('MEMORY_LIMIT');
    expect(e.message).toMatch(/memory 0 needs 3 pages .* over the memory limit of 2 pages/);
    expect(refusal(() => capModule(moduleOf({ importedMemory: { min: 5 } }), caps)).message).toMatch(/imported memory 0 needs 5 pages/);
  });

  it('wasm GC types and typed references: COMPONENT_INVALID', () => {
    const struct = concat([HEADER, section(1, new Uint8Array([1, 0x5f, 0]))]);
    expect(refusal(() => capModule(struct, caps))).toMatchObject({ code: 'COMPONENT_INVALID', message: expect.stringMatching(/not a function type/) });
    const refParam = concat([HEADER, section(1, new Uint8Array([1, 0x60, 1, 0x64, 0]))]);
    expect(refusal(() => capModule(refParam, caps)).message).toMatch(/value type 0x64/);
    const typedTable = concat([HEADER, section(4, new Uint8Array([1, 0x64, 0x70, 0, 1]))]);
    expect(refusal(() => capModule(typedTable, caps)).message).toMatch(/typed function references/);
    const initTable = concat([HEADER, section(4, new Uint8Array([1, 0x40, 0, FUNCREF, 0, 1, 0xd0, FUNCREF, 0x0b]))]);
    expect(refusal(() => capModule(initTable, caps)).message).toMatch(/initialiser expressions/);
  });
});

describe('sharing memoryBytes among memories and tables', () => {
  it('one memory gets what the tables leave, at least a page', () => {
    const census = bundleCensus({ 'a.wasm': moduleOf({ memories: [{ min: 1 }], tables: [{ min: 4 }] }) }, { 'a.wasm': 1 });
    expect(census).toEqual({ instantiations: { 'a.wasm': 1 }, memories: 1, tables: { 'a.wasm': [{ min: 4 }] } });
    const l = callLimits(64 * PAGE, census);
    expect(l.tableGrowElements).toBe(Math.floor((64 * PAGE) / TABLE_GROWTH_SHARE / TABLE_ELEMENT_BYTES));
    expect(l.tableBytes).toBe(l.tableGrowElements * TABLE_ELEMENT_BYTES);
    expect(l.pagesPerMemory).toBe(Math.floor((64 * PAGE - l.tableBytes) / PAGE));
    expect(callLimits(100, {}).pagesPerMemory).toBe(1);
  });

  it('memories and instances share the limit; together they stay within it', () => {
    const census = bundleCensus(
      { 'a.wasm': moduleOf({ memories: [{ min: 1 }] }), 'b.wasm': moduleOf({ memories: [{ min: 1 }] }) },
      { 'a.wasm': 3, 'b.wasm': 1 },
    );
    expect(census.memories).toBe(4);
    expect(callLimits(40 * PAGE, census).pagesPerMemory).toBe(10);
    // More memories than pages: each gets none, so one that needs a page is refused by the cap.
    expect(callLimits(2 * PAGE, census).pagesPerMemory).toBe(0);
  });

  it('tables whose minimums alone do not fit, and too many instances: MEMORY_LIMIT', () => {
    const census = { tables: { 'a.wasm': [{ min: 1000 }] } };
    const e = refusal(() => callLimits(1000 * TABLE_ELEMENT_BYTES - 1, census, 'test.t'));
    expect(e).toMatchObject({ code: 'MEMORY_LIMIT', message: expect.stringMatching(/^test\.t: table 0 of core module a\.wasm needs 1000 elements/) });
    expect(refusal(() => callLimits(1 << 30, { instantiations: { 'a.wasm': MAX_CORE_INSTANCES + 1 } })).message).toMatch(
      /core instances per call, over the limit/,
    );
  });
});
