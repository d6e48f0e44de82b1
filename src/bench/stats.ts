// Sampling loops and their summaries. Every figure is a measured sample of
// performance.now(); nothing is extrapolated.

import type { Summary, Throughput } from './types.js';

export function summarize(samples: number[]): Summary {
  if (samples.length === 0) throw new Error('no samples to summarize');
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => {
    const v = s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
    if (v === undefined) throw new Error('unreachable: an index within a non-empty array');
    return v;
  };
  return {
    n: s.length,
    p50: at(0.5),
    p99: at(0.99),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    min: at(0),
    max: at(1),
  };
}

export interface Budget {
  /** Keep sampling until this much time has passed... */
  durationMs: number;
  /** ...but take at least this many samples... */
  minSamples: number;
  /** ...and at most this many. */
  maxSamples: number;
}

/** Times `fn` sequentially within the budget; returns the samples in ms. */
export async function sample(budget: Budget, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  const end = performance.now() + budget.durationMs;
  while (out.length < budget.maxSamples && (out.length < budget.minSamples || performance.now() < end)) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/**
 * Completed calls per second with `concurrency` callers, each looping until the
 * budget ends. `fns[i]` is caller i's call (callers may need their own plugin).
 */
export async function throughput(budget: Budget, fns: Array<() => Promise<unknown>>): Promise<Throughput> {
  let calls = 0;
  const started = performance.now();
  const end = started + budget.durationMs;
  const perCaller = Math.max(1, Math.ceil(budget.minSamples / fns.length));
  await Promise.all(
    fns.map(async (fn) => {
      let mine = 0;
      while (mine < budget.maxSamples && (mine < perCaller || performance.now() < end)) {
        await fn();
        mine++;
        calls++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { concurrency: fns.length, callsPerSecond: calls / seconds, calls };
}
