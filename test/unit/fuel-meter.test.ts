// The host side of the fuel checks (src/sandbox/fuel-meter.ts): slices, the budget,
// the interrupt flag and the deadline, without a guest (refuel is called directly).
import { describe, expect, it, vi } from 'vitest';
import { FINE_SLICE, FUEL_PER_MS, FuelMeter, fuelBudget, INTERRUPT_ABORT, INTERRUPT_TIMEOUT, NEAR_DEADLINE_MS, SLICE } from '../../src/sandbox/fuel-meter.js';
import { refusal } from './refusal.js';

const LONG = { timeoutMs: 3_600_000 };

describe('FuelMeter', () => {
  it('a budget from fuel, cpuMs or both (the smaller), unlimited with neither', () => {
    expect(fuelBudget({})).toBe(Number.POSITIVE_INFINITY);
    expect(fuelBudget({ cpuMs: 2 })).toBe(2 * FUEL_PER_MS);
    expect(fuelBudget({ cpuMs: 2, fuel: 7 })).toBe(7);
  });

  it('hands out a slice at a time, then what is left, then stops with CPU_LIMIT, every later call too', () => {
    const m = new FuelMeter('t', { ...LONG, fuel: SLICE + 10 });
    expect(m.refuel(-5)).toBe(SLICE - 5);
    expect(m.refuel(-1)).toBe(9); // only 10 left
    const e = refusal(() => m.refuel(-3));
    expect(e.code).toBe('CPU_LIMIT');
    expect(e.details).toMatchObject({ limitFuel: SLICE + 10 });
    expect(refusal(() => m.refuel(0))).toBe(e);
    expect(m.failureData()).toMatchObject({ code: 'CPU_LIMIT' });
  });

  it("counts the call's time from when the call started (Job.startedAt), not from when the meter was made", () => {
    // Before: the worker's meter started after the glue was loaded, so a TIMEOUT the
    // waiting thread raised at its 200 ms reported elapsedMs 191 (seen in CI).
    const m = new FuelMeter('t', { timeoutMs: 200 }, undefined, performance.now() - 250);
    const e = refusal(() => m.refuel(-1));
    expect(e.code).toBe('TIMEOUT');
    expect(e.details?.elapsedMs).toBeGreaterThanOrEqual(250);
  });

  it('covers a charge larger than a slice in one refuel', () => {
    const m = new FuelMeter('t', LONG);
    expect(m.refuel(-3 * SLICE - 1)).toBe(SLICE - 1);
  });

  it('consumed = handed out minus what the tracked counters have left (an overdraft counts)', () => {
    const m = new FuelMeter('t', LONG);
    const a = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
    const b = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
    m.track(a);
    m.track(b);
    m.track('not a global');
    a.value = m.refuel(-10);
    b.value = m.refuel(-20);
    a.value = (a.value as number) - 100;
    b.value = -5;
    expect(m.consumed()).toBe(10 + 100 + 20 + (SLICE - 20) + 5);
  });

  it('the interrupt flag stops the guest: TIMEOUT or ABORTED', () => {
    const flag = new Int32Array(1);
    const m = new FuelMeter('t', LONG, flag);
    expect(m.refuel(-1)).toBe(SLICE - 1);
    Atomics.store(flag, 0, INTERRUPT_TIMEOUT);
    expect(refusal(() => m.refuel(-1)).code).toBe('TIMEOUT');
    const aborted = new FuelMeter('t', LONG, Int32Array.of(INTERRUPT_ABORT));
    expect(refusal(() => aborted.refuel(-1)).code).toBe('ABORTED');
  });

  it('a deadline already passed is TIMEOUT at the first refuel, with the limit in details', () => {
    const e = refusal(() => new FuelMeter('t', { timeoutMs: 0 }).refuel(-1));
    expect(e.code).toBe('TIMEOUT');
    expect(e.details).toMatchObject({ limitMs: 0 });
  });

  it('hands out short slices in the last millisecond before the deadline, so the check that sees it passed comes right after it', () => {
    // Before: a whole SLICE at any time, so a spinning guest was stopped up to a slice (~0.3 ms) after its deadline.
    const clock = vi.spyOn(performance, 'now');
    try {
      clock.mockReturnValue(1000);
      const m = new FuelMeter('t', { timeoutMs: 100 }, undefined, 1000);
      expect(m.refuel(-1)).toBe(SLICE - 1);
      clock.mockReturnValue(1100 - NEAR_DEADLINE_MS - 0.001);
      expect(m.refuel(-1)).toBe(SLICE - 1);
      clock.mockReturnValue(1100 - NEAR_DEADLINE_MS / 2);
      expect(m.refuel(-1)).toBe(FINE_SLICE - 1);
      clock.mockReturnValue(1100);
      expect(refusal(() => m.refuel(-1)).code).toBe('TIMEOUT');
    } finally {
      clock.mockRestore();
    }
  });

  it('a fuel budget stops at the same check whether the slices were short (near the deadline) or not', () => {
    // A guest that charges 7 per check: the check number and fuel it stops at.
    const stopAt = (m: FuelMeter) => {
      let counter = 0;
      for (let check = 1; ; check++) {
        counter -= 7;
        if (counter < 0) {
          try {
            counter = m.refuel(counter);
          } catch (e) {
            return { check, code: (e as { code?: string }).code, data: m.failureData() };
          }
        }
      }
    };
    const budget = 3 * FINE_SLICE + 12_345;
    const clock = vi.spyOn(performance, 'now');
    try {
      clock.mockReturnValue(0);
      const far = stopAt(new FuelMeter('t', { timeoutMs: 3_600_000, fuel: budget }, undefined, 0));
      const near = stopAt(new FuelMeter('t', { timeoutMs: NEAR_DEADLINE_MS / 2, fuel: budget }, undefined, 0));
      expect(far.code).toBe('CPU_LIMIT');
      expect(near).toEqual(far);
      expect(far.check).toBe(Math.floor(budget / 7) + 1);
    } finally {
      clock.mockRestore();
    }
  });

  it('makes the limit it throws from a fuel check without a stack trace (walking the guest frames cost the stopped call 0.1-0.2 ms)', () => {
    // Before: the TIMEOUT's stack listed the frames under refuel (in a real call, the guest's wasm frames).
    const frames = Error.stackTraceLimit;
    const timeout = refusal(() => new FuelMeter('t', { timeoutMs: 0 }).refuel(-1));
    const spent = refusal(() => new FuelMeter('t', { ...LONG, fuel: 1 }).refuel(-5));
    const aborted = refusal(() => new FuelMeter('t', LONG, Int32Array.of(INTERRUPT_ABORT)).refuel(-1));
    for (const e of [timeout, spent, aborted]) {
      expect(e.message).toMatch(/^t: /);
      expect(e.stack ?? '').not.toMatch(/\n\s+at /);
    }
    expect(Error.stackTraceLimit).toBe(frames);
    expect(new Error('other').stack).toMatch(/\n\s+at /);
  });
});
