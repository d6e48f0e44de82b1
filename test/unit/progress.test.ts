// The CLI's progress line for a slow load: written only once the load has run past the
// threshold (fake timers: no real time decides this test), and then closed with how it ended.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withProgress } from '../../src/cli/progress.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('withProgress', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('says nothing for a load that ends before the threshold', async () => {
    const lines: string[] = [];
    const d = deferred<string>();
    const p = withProgress(d.promise, { starting: 'loading x', done: () => 'loaded x', afterMs: 1000, write: (l) => lines.push(l) });
    await vi.advanceTimersByTimeAsync(999);
    d.resolve('ok');
    expect(await p).toBe('ok');
    await vi.advanceTimersByTimeAsync(5000);
    expect(lines).toEqual([]);
  });

  it('past the threshold writes what it is doing, then how it ended', async () => {
    const lines: string[] = [];
    const d = deferred<string>();
    const p = withProgress(d.promise, { starting: 'loading x', done: (v) => `loaded x: ${v}`, afterMs: 1000, write: (l) => lines.push(l) });
    await vi.advanceTimersByTimeAsync(1000);
    expect(lines).toEqual(['capsule: loading x…\n']);
    d.resolve('transpiled');
    expect(await p).toBe('transpiled');
    expect(lines).toEqual(['capsule: loading x…\n', 'capsule: loaded x: transpiled\n']);
  });

  it('a failed load rejects as it did, without a done line, and the text stays on one line', async () => {
    const lines: string[] = [];
    const d = deferred<string>();
    const p = withProgress(d.promise, { starting: 'loading a\nb', done: () => 'never', afterMs: 10, write: (l) => lines.push(l) });
    const settled = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    d.reject(new Error('boom'));
    expect(await settled).toMatchObject({ message: 'boom' });
    expect(lines).toEqual(['capsule: loading a\\nb…\n']);
  });
});
