// The fuel instrumentation pass (src/sandbox/limits/fuel.ts, opcodes.ts) on core
// modules written in WAT: checks land where they should and count deterministically,
// every function index the new import shifts is shifted (calls, tail calls, ref.func,
// element segments of every form, exports, start), instructions of every proposal
// V8 accepts are copied intact, and what cannot be instrumented is refused.
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describe, expect, it } from 'vitest';
import { capModule, FUEL_EXPORT, FUEL_IMPORT, instrumentModule, sections } from '../../src/sandbox/limits/index.js';
import { customName } from '../../src/sandbox/limits/sections.js';
import { refusal } from './refusal.js';

type Fn = (...a: number[]) => number;

/** An instance of the instrumented module whose refuel hands out `slice` at a time and counts it. */
function fuelled(bytes: Uint8Array, imports: WebAssembly.Imports = {}, slice = 1000) {
  const meter = { handed: 0, calls: 0 };
  const refuel = (v: number) => {
    meter.calls++;
    meter.handed += slice;
    return v + slice;
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(instrumentModule(bytes)), {
    ...imports,
    [FUEL_IMPORT.module]: { [FUEL_IMPORT.name]: refuel },
  });
  const global = instance.exports[FUEL_EXPORT] as WebAssembly.Global;
  const used = () => meter.handed - (global.value as number);
  const reset = () => {
    meter.handed = 0;
    meter.calls = 0;
    global.value = 0;
  };
  return { instance, fn: (name: string) => instance.exports[name] as Fn, used, reset, meter };
}

const FIB = `(module
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1))) (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "count") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 1)))`;

describe('fuel checks', () => {
  it('charges a loop body per iteration: the count grows linearly with the trip count, the same every run', async () => {
    const m = fuelled(await parse(FIB));
    const cost = (n: number) => {
      m.reset();
      expect(m.fn('count')(n)).toBe(n);
      return m.used();
    };
    const c10 = cost(10);
    const c20 = cost(20);
    const perIteration = (c20 - c10) / 10;
    // local.get, i32.const, i32.add, local.set, local.get, local.get, i32.lt_u, br_if, end.
    expect(perIteration).toBe(9);
    expect(cost(10)).toBe(c10);
    expect(cost(1000)).toBe(c10 + 990 * perIteration);
  });

  it('charges every call at its entry (recursion cannot run free) and refuels when the counter goes below zero', async () => {
    const m = fuelled(await parse(FIB), {}, 100);
    m.reset();
    expect(m.fn('fib')(15)).toBe(610);
    const calls = 1973; // fib(15) makes 1973 calls
    const used = m.used();
    expect(used % calls).toBe(0);
    expect(used / calls).toBeGreaterThan(5);
    expect(m.meter.calls).toBe(Math.ceil(used / 100));
  });

  it('a refuel that throws stops a spinning guest at its next check', async () => {
    const spin = await parse('(module (func (export "spin") (loop $l (br $l))))');
    let calls = 0;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(instrumentModule(spin)), {
      [FUEL_IMPORT.module]: {
        [FUEL_IMPORT.name]: (v: number) => {
          if (++calls > 3) throw new Error('out of fuel');
          return v + 1000;
        },
      },
    });
    expect(() => (instance.exports.spin as () => void)()).toThrow('out of fuel');
    expect(calls).toBe(4);
  });

  it('shifts calls, tail calls, ref.func, every element segment form, exports and the start function', async () => {
    const wat = `(module
      (import "env" "twice" (func $twice (param i32) (result i32)))
      (import "env" "g" (global $g i32))
      (type $t (func (result i32)))
      (table $tab 16 funcref)
      (global $fr funcref (ref.func $seven))
      (global $started (mut i32) (i32.const 0))
      (func $seven (type $t) (i32.const 7))
      (func $eight (type $t) (i32.const 8))
      (func $nine (type $t) (i32.const 9))
      (func $start (global.set $started (i32.const 1)))
      (start $start)
      (elem (i32.const 0) $seven $eight)
      (elem $p func $nine)
      (elem (table $tab) (i32.const 2) func $nine)
      (elem declare func $eight)
      (elem (i32.const 3) funcref (ref.func $eight) (ref.null func))
      (elem $pe funcref (ref.func $seven))
      (elem (table $tab) (i32.const 4) funcref (ref.func $nine))
      (elem declare funcref (ref.func $nine))
      (func (export "at") (param i32) (result i32) (call_indirect (type $t) (local.get 0)))
      (func (export "direct") (result i32) (i32.add (call $twice (call $eight)) (global.get $g)))
      (func (export "tail") (result i32) (return_call $nine))
      (func (export "viaRef") (result i32) (call_indirect (type $t) (i32.const 5)))
      (func (export "init") (table.init $tab $p (i32.const 5) (i32.const 0) (i32.const 1))
        (table.init $tab $pe (i32.const 6) (i32.const 0) (i32.const 1))
        (table.set $tab (i32.const 7) (ref.func $eight)))
      (func (export "started") (result i32) (global.get $started))
      (export "seven" (func $seven)))`;
    const m = fuelled(await parse(wat), { env: { twice: (x: number) => 2 * x, g: 100 } });
    const at = m.fn('at');
    expect([at(0), at(1), at(2), at(3), at(4)]).toEqual([7, 8, 9, 8, 9]);
    expect(m.fn('direct')()).toBe(116);
    expect(m.fn('tail')()).toBe(9);
    m.fn('init')();
    expect([at(5), at(6), at(7)]).toEqual([9, 7, 8]);
    expect(m.fn('seven')()).toBe(7);
    expect(m.fn('started')()).toBe(1);
  });

  it('copies instructions of every proposal it knows intact (SIMD, bulk memory, sat-trunc, sign-ext, exceptions, atomics)', async () => {
    const wat = `(module
      (memory 1 1 shared)
      (tag $e (param i32))
      (func (export "simd") (result i32)
        (i32x4.extract_lane 2 (i32x4.add (v128.const i32x4 1 2 3 4) (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (v128.const i64x2 5 6) (v128.const i64x2 7 8)))))
      (func (export "bulk") (result i32)
        (memory.fill (i32.const 0) (i32.const 9) (i32.const 16))
        (memory.copy (i32.const 32) (i32.const 0) (i32.const 16))
        (i32.add (i32.load8_u offset=40 (i32.const 0)) (v128.any_true (v128.load64_zero (i32.const 32)))))
      (func (export "conv") (result i32)
        (i32.add (i32.trunc_sat_f32_s (f32.const 1e20)) (i32.extend8_s (i32.const 0xff))))
      (func (export "atomics") (result i32)
        (drop (i32.atomic.rmw.add (i32.const 64) (i32.const 5))) (atomic.fence) (i32.atomic.load (i32.const 64)))
      (func (export "catches") (result i32)
        try (result i32) (throw $e (i32.const 41)) catch $e (i32.add (i32.const 1)) end))`;
    const bytes = await parse(wat);
    const plain = new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.from(bytes))).exports;
    const m = fuelled(bytes);
    for (const name of ['simd', 'bulk', 'conv', 'atomics', 'catches']) {
      expect(m.fn(name)(), name).toBe((plain[name] as Fn)());
    }
    expect(m.fn('catches')()).toBe(42);
  });

  it('drops the name section and keeps other custom sections; composes with the memory cap', async () => {
    const bytes = await parse('(module $named (memory 1) (func $f (export "f") (result i32) (i32.const 1)) (@custom "keep" "x"))');
    const names = (b: Uint8Array) =>
      sections(b)
        .filter((s) => s.id === 0)
        .map((s) => customName(s.body));
    expect(names(bytes)).toContain('name');
    const out = instrumentModule(bytes);
    expect(names(out)).toEqual(['keep']);
    const capped = capModule(out, { pagesPerMemory: 2, tableGrowElements: 10 });
    const i = new WebAssembly.Instance(new WebAssembly.Module(capped), { [FUEL_IMPORT.module]: { [FUEL_IMPORT.name]: (v: number) => v + 10 } });
    expect((i.exports.f as Fn)()).toBe(1);
    expect(i.exports[FUEL_EXPORT]).toBeInstanceOf(WebAssembly.Global);
  });

  it('refuses an invalid module: code naming the global one past the end would otherwise set the fuel counter', async () => {
    const ok = await parse('(module (global (mut i32) (i32.const 0)) (func (export "f") (global.set 0 (i32.const 5))))');
    const bad = Uint8Array.from(ok);
    const at = bad.findIndex((b, i) => b === 0x24 && bad[i + 1] === 0x00); // global.set 0
    bad[at + 1] = 0x01; // global.set 1: the counter, once appended
    expect(WebAssembly.validate(bad)).toBe(false);
    const e = refusal(() => instrumentModule(bad));
    expect(e.code).toBe('COMPONENT_INVALID');
    expect(e.message).toContain('does not validate');
    expect(e.message).toMatch(/^core module cannot be instrumented/);
  });

  it('refuses a module that already exports the reserved name, and an unknown opcode, with COMPONENT_INVALID naming it', async () => {
    const taken = await parse(`(module (global (export "${FUEL_EXPORT}") i32 (i32.const 0)))`);
    expect(refusal(() => instrumentModule(taken)).message).toContain(FUEL_EXPORT);
    // A function body holding opcode 0xff (reserved) instead of an instruction.
    const ok = await parse('(module (func (export "f") nop))');
    const bad = Uint8Array.from(ok);
    const at = bad.lastIndexOf(0x01); // the nop
    bad[at] = 0xff;
    const e = refusal(() => instrumentModule(bad));
    expect(e.code).toBe('COMPONENT_INVALID');
    expect(e.message).toContain('0xff');
  });
});
