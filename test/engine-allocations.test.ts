// Issue 9, class 1: engine allocations a guest controls besides tables. Each is
// either bounded by capsule (instances per call, memories sharing the limit, wasm
// GC types refused), by V8 itself (a test shows its limit), or by the component's
// size (stated per case). Hostile guests are written as WAT here and run in their
// own embedding process (test/embed.ts).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { beforeAll, describe, expect, it } from 'vitest';
import { capModule, callLimits, MAX_CORE_INSTANCES, TABLE_ELEMENT_BYTES, TABLE_GROWTH_SHARE } from '../src/sandbox/limits/index.js';
import { WorkerRunner } from '../src/tiers/worker.js';
import { embed, expectHostSurvived } from './embed.js';
import { CAPABILITIES, manifest, ROOT, tempDir, writeCapability } from './helpers.js';

const MiB = 1024 * 1024;
// The embedding process's own ~250 MB (runtime + 3 workers), the call's limit, 100 MB margin.
const maxRss = (limit: number) => 250 * MiB + limit + 100 * MiB;
let dir: string;
beforeAll(() => {
  dir = tempDir('capsule-engine-');
});

/** A capability-world component around `body` (core module text defining run and cabi_realloc over memory 0). */
async function component(name: string, text: string): Promise<string> {
  const file = path.join(dir, `${name}.wasm`);
  writeFileSync(file, await parse(text));
  return file;
}

const LIFT = `
  (func (export "run") (param "input" string) (result (result string (error string)))
    (canon lift (core func $i "run") (memory (core memory $i "memory")) (realloc (core func $i "cabi_realloc"))))`;
const REALLOC = `(func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))`;

describe('bounded by capsule', () => {
  // The component validator inside jco (wasmparser) allows at most 1 000 core
  // instances per component; capsule refuses more than MAX_CORE_INSTANCES per call
  // itself too, in case a future transpiler allows more. Each costs V8 ~1.4 KB.
  const manyInstances = (n: number) => `(component
  (core module $G (func (export "f")))
${Array.from({ length: n }, (_, i) => `  (core instance $g${i} (instantiate $G))`).join('\n')}
  (core module $m (memory (export "memory") 1) ${REALLOC} (func (export "run") (param i32 i32) (result i32) (unreachable)))
  (core instance $i (instantiate $m))${LIFT})`;

  it('998 + 1 core instances (the most a component may declare) run with the host RSS bounded', async () => {
    const r = embed({ file: await component('999-instances', manyInstances(998)), opts: { memoryLimitBytes: 16 * MiB } });
    expectHostSurvived(r, { codes: ['TRAP'], maxRssBytes: maxRss(16 * MiB) });
  });

  it('1 500 core instances: refused before anything runs', async () => {
    const r = embed({ file: await component('1500-instances', manyInstances(1499)), opts: { memoryLimitBytes: 16 * MiB } });
    expectHostSurvived(r, { codes: ['COMPONENT_INVALID'], maxRssBytes: maxRss(16 * MiB) });
    expect(() => callLimits(16 * MiB, { instantiations: { 'a.wasm': MAX_CORE_INSTANCES + 1 } })).toThrow(/over the limit of 1000/);
  });

  it('forty one-page memories under a 2 MiB limit (32 pages): MEMORY_LIMIT, not a page each', async () => {
    const insts = Array.from({ length: 39 }, (_, i) => `  (core instance $g${i} (instantiate $G))`).join('\n');
    const file = await component(
      'many-memories',
      `(component
  (core module $G (memory 1))
${insts}
  (core module $m (memory (export "memory") 1) ${REALLOC} (func (export "run") (param i32 i32) (result i32) (unreachable)))
  (core instance $i (instantiate $m))${LIFT})`,
    );
    const r = embed({ file, opts: { memoryLimitBytes: 2 * MiB } });
    expectHostSurvived(r, { codes: ['MEMORY_LIMIT'], maxRssBytes: maxRss(2 * MiB) });
    expect(r.hostile?.message).toMatch(/memory 0 needs 1 pages/);
  });

  it('five memories of 2 000 pages each at start (640 MB) are refused before they exist', async () => {
    const insts = Array.from({ length: 4 }, (_, i) => `  (core instance $g${i} (instantiate $G))`).join('\n');
    const file = await component(
      'huge-memories',
      `(component
  (core module $G (memory 2000))
${insts}
  (core module $m (memory (export "memory") 2000) ${REALLOC} (func (export "run") (param i32 i32) (result i32) (unreachable)))
  (core instance $i (instantiate $m))${LIFT})`,
    );
    const r = embed({ file, opts: { memoryLimitBytes: 16 * MiB } });
    expectHostSurvived(r, { codes: ['MEMORY_LIMIT'], maxRssBytes: maxRss(16 * MiB) });
    expect(r.hostile?.message).toMatch(/needs 2000 pages/);
  });

  it('wasm GC types (structs, arrays: JS-heap objects) are refused by the rewrite', () => {
    // (type (array (mut i8))): form 0x5e
    const module = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x5e, 0x78, 1]);
    expect(() => capModule(module, { pagesPerMemory: 1, tableGrowElements: 1 })).toThrow(/not a function type/);
  });
});

describe('tables: the plan and the rewrite', () => {
  const table = (min: number, max?: number) => {
    // (module (table min max? externref) (export "t" (table 0))), min and max below 128
    const limits = max === undefined ? [0, min] : [1, min, max];
    return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 4, 2 + limits.length, 1, 0x6f, ...limits, 7, 5, 1, 1, 0x74, 1, 0]);
  };

  it(`each table grows to its share of memoryBytes / ${TABLE_GROWTH_SHARE} at ${TABLE_ELEMENT_BYTES} bytes an element, and table.grow returns -1 past it`, () => {
    const limits = callLimits(16 * MiB, { instantiations: { 'a.wasm': 2 }, tables: { 'a.wasm': [{ min: 0 }] } });
    expect(limits.tableGrowElements).toBe(Math.floor((16 * MiB) / TABLE_GROWTH_SHARE / TABLE_ELEMENT_BYTES / 2));
    // The tables' reservation comes off the memories' share.
    expect(limits.tableBytes).toBe(2 * limits.tableGrowElements * TABLE_ELEMENT_BYTES);
    expect(limits.pagesPerMemory).toBe(Math.floor((16 * MiB - limits.tableBytes) / 65536));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(capModule(table(0), limits)));
    const t = instance.exports.t as WebAssembly.Table;
    expect(t.grow(limits.tableGrowElements)).toBe(0);
    expect(() => t.grow(1)).toThrow(RangeError); // JS's grow throws where the guest's table.grow returns -1
    expect(instance.exports['capsule:table:0']).toBe(t);
  });

  it('a declared maximum below the share is kept; a table with no growth left keeps its size', () => {
    const grow = callLimits(16 * MiB, { tables: { 'a.wasm': [{ min: 0 }] } }).tableGrowElements;
    const small = new WebAssembly.Instance(new WebAssembly.Module(capModule(table(0, 10), { pagesPerMemory: 1, tableGrowElements: grow })));
    expect(() => (small.exports.t as WebAssembly.Table).grow(11)).toThrow(RangeError);
    expect((small.exports.t as WebAssembly.Table).grow(10)).toBe(0);
  });

  it('a component without tables keeps the whole limit for its memories (unchanged)', () => {
    expect(callLimits(16 * MiB, { memories: 1 }).pagesPerMemory).toBe(256);
    expect(callLimits(16 * MiB, { memories: 5 }).pagesPerMemory).toBe(51);
  });
});

describe('bounded by V8 (and the component size)', () => {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  type Bytes = number[] | Uint8Array;
  const cat = (...parts: Bytes[]) => Buffer.concat(parts.map((p) => Uint8Array.from(p)));
  const sec = (id: number, ...body: Bytes[]) => {
    const b = cat(...body);
    return cat([id, ...leb(b.length)], b);
  };
  const HEAD = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  /** `n` copies of `item`, as bytes (built without a JS array of millions of numbers). */
  const many = (n: number, item: number[]) => {
    const out = new Uint8Array(n * item.length);
    for (const [k, v] of item.entries()) if (v !== 0) for (let i = 0; i < n; i++) out[i * item.length + k] = v;
    return out;
  };
  const compiles =
    (...parts: Bytes[]) =>
    () =>
      new WebAssembly.Module(cat(...parts));
  const TYPE = sec(1, [1, 0x60, 0, 0]);

  // V8's limits (wasm-limits.h): 1 000 000 types, functions, globals and tags per module.
  it('more than 1 000 000 globals, types, functions or exception tags: V8 refuses to compile', () => {
    const n = leb(1_000_001);
    expect(compiles(HEAD, sec(6, n, many(1_000_001, [0x7f, 0, 0x41, 0, 0x0b])))).toThrow(WebAssembly.CompileError);
    expect(compiles(HEAD, sec(1, n, many(1_000_001, [0x60, 0, 0])))).toThrow(WebAssembly.CompileError);
    expect(compiles(HEAD, TYPE, sec(3, n, many(1_000_001, [0])))).toThrow(WebAssembly.CompileError);
    expect(compiles(HEAD, TYPE, sec(13, n, many(1_000_001, [0, 0])))).toThrow(WebAssembly.CompileError);
  });

  it('passive data and element segments cost nothing at instantiation beyond the module bytes (V8 keeps them lazily)', () => {
    // A 4 MB passive data segment and a passive element segment of 4 M function indices.
    const data = cat(HEAD, sec(5, [1, 0, 1]), sec(12, [1]), sec(11, [1, 1, ...leb(4_000_000)], many(4_000_000, [7])));
    const elem = cat(HEAD, TYPE, sec(3, [1, 0]), sec(9, [1, 1, 0, ...leb(4_000_000)], many(4_000_000, [0])), sec(10, [1, 2, 0, 0x0b]));
    for (const bytes of [data, elem]) {
      const m = new WebAssembly.Module(bytes);
      const before = process.memoryUsage().heapUsed;
      const keep = Array.from({ length: 8 }, () => new WebAssembly.Instance(m, {}));
      expect(keep.length).toBe(8);
      // Eight instances of a 4 MB module: well under one copy of the segment each.
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * MiB);
    }
  });

  it('deep recursion with big frames is a stack-overflow TRAP, the host alive', async () => {
    const locals = Array.from({ length: 2000 }, () => 'v128').join(' ');
    const file = await component(
      'deep-frames',
      `(component
  (core module $m
    (memory (export "memory") 1) ${REALLOC}
    (func $deep (param $n i32) (result i32) (local ${locals})
      (i32.add (call $deep (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))
    (func (export "run") (param i32 i32) (result i32) (call $deep (i32.const 0))))
  (core instance $i (instantiate $m))${LIFT})`,
    );
    const r = embed({ file, opts: { memoryLimitBytes: 16 * MiB } });
    expectHostSurvived(r, { codes: ['TRAP'], maxRssBytes: maxRss(16 * MiB) });
    expect(r.hostile?.message).toMatch(/stack overflow/);
  });
});

describe('JS heap the glue allocates for a guest', () => {
  it('a 200 MB result string decoded in a worker whose JS heap is capped at 64 MiB: a CapsuleError, the host alive', async () => {
    // The glue lifts the guest's result into one JS string, far bigger than the worker's
    // heap limit. V8 aborts the process when one allocation cannot fit even after its
    // near-limit grace; here the string is large-object space and dies at once, so the
    // call ends (OUTPUT_INVALID: not JSON) and the host lives.
    const file = await component(
      'big-string',
      `(component
  (core module $m
    (memory (export "memory") 1) ${REALLOC}
    (func (export "run") (param i32 i32) (result i32)
      (drop (memory.grow (i32.const 3100)))
      (memory.fill (i32.const 65536) (i32.const 65) (i32.const 200000000))
      (i32.store8 (i32.const 0) (i32.const 0))
      (i32.store (i32.const 4) (i32.const 65536))
      (i32.store (i32.const 8) (i32.const 200000000))
      (i32.const 0)))
  (core instance $i (instantiate $m))${LIFT})`,
    );
    const caps = tempDir('capsule-engine-caps-');
    const limits = { memoryBytes: 256 * MiB, outputBytes: 256 * MiB, timeoutMs: 60_000 };
    writeCapability(caps, 'test.big-string', manifest('test.big-string', { limits }), file);
    const r = embed({ id: 'test.big-string', capabilitiesDir: [CAPABILITIES, caps], pool: { heapMb: 64 } });
    // The string is held by the worker and copied to the caller: up to three copies of 200 MB.
    expectHostSurvived(r, { codes: ['OUTPUT_INVALID', 'MEMORY_LIMIT'], maxRssBytes: 250 * MiB + 256 * MiB + 3 * 200 * MiB });
  });

  it('a worker that exhausts its JS heap step by step is MEMORY_LIMIT, and a new worker takes its place', async () => {
    const runner = new WorkerRunner({ maxThreads: 1, spare: 0, heapMb: 32 }, `${ROOT}/test/workers/heap-hog.mjs`);
    try {
      const job = { capabilityId: 'test.hog', limits: { timeoutMs: 20_000 } } as never;
      for (let i = 0; i < 2; i++) {
        // From src, so its CapsuleError is not dist's class: compare the code.
        const e = (await runner.run(job).catch((err: unknown) => err)) as { code?: string };
        expect(e.code).toBe('MEMORY_LIMIT');
      }
      for (let i = 0; i < 100 && runner.threads < 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(runner.threads).toBe(1);
    } finally {
      await runner.close();
    }
  });
});
