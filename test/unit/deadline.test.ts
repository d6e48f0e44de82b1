// The two-stage call clock every tier uses (src/tiers/deadline.ts), on fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallDeadline, type StopReason } from '../../src/tiers/deadline.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function clock(startMs: number, callMs: number, signal?: AbortSignal) {
  const stops: StopReason[] = [];
  return { deadline: new CallDeadline(startMs, callMs, (why) => stops.push(why), signal), stops };
}

describe('CallDeadline', () => {
  it('a call that never starts stops at the start bound', () => {
    const { deadline, stops } = clock(100, 1000);
    vi.advanceTimersByTime(99);
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(stops).toEqual(['start-timeout']);
    expect(deadline.stopped).toBe('start-timeout');
  });

  it("once started, the call's own limit counts from then, not from the start", () => {
    const { deadline, stops } = clock(100, 50);
    vi.advanceTimersByTime(90);
    deadline.started();
    vi.advanceTimersByTime(49);
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(stops).toEqual(['timeout']);
  });

  it('started() after dispose() arms no timer: a settled call keeps nothing alive', () => {
    // The worker tier learns "started" from an Atomics.waitAsync promise, which can
    // resolve after the result came back: that late started() armed a timeoutMs timer
    // that kept `capsule bench` (and any CLI run) alive up to timeoutMs after the last call.
    const { deadline, stops } = clock(100, 50);
    deadline.dispose();
    deadline.started();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(stops).toEqual([]);
  });

  it('started() twice does not restart the clock', () => {
    const { deadline, stops } = clock(100, 50);
    deadline.started();
    vi.advanceTimersByTime(40);
    deadline.started();
    vi.advanceTimersByTime(10);
    expect(stops).toEqual(['timeout']);
  });

  it("the caller's abort stops the call once, at once; an already aborted signal stops it in the constructor", () => {
    const caller = new AbortController();
    const { deadline, stops } = clock(100, 50, caller.signal);
    deadline.started();
    caller.abort();
    vi.advanceTimersByTime(1000);
    expect(stops).toEqual(['aborted']);
    const early = clock(100, 50, AbortSignal.abort());
    expect(early.stops).toEqual(['aborted']);
  });

  it('dispose() leaves no timer and no listener behind', () => {
    const caller = new AbortController();
    const { deadline, stops } = clock(100, 50, caller.signal);
    deadline.dispose();
    caller.abort();
    vi.advanceTimersByTime(1000);
    expect(stops).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
