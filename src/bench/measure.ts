// The measurement every subject (capsule tier, baseline, peer) goes through, so
// their figures are taken the same way: cold first call, warm latency, throughput.
import { sample, summarize, throughput, type Budget } from './stats.js';
import type { Row } from './types.js';
import type { Workload } from './workloads.js';

export interface Target {
  /** The first call from nothing (new runtime, worker or plugin); null where it does not apply. */
  cold(): Promise<{ ms: number; output: unknown; cache?: string; memoryBytes?: number } | null>;
  /** One warm call by caller `i` (0 or 1); resolves to the call's output. */
  call(i: number): Promise<unknown>;
  /** Makes sure `n` independent callers are ready (extra plugins or workers). */
  prepare(n: number): Promise<void>;
  close(): Promise<void>;
}

export type Measured = Pick<Row, 'cold' | 'warm' | 'throughput' | 'memoryBytes'>;

const WARMUP_CALLS = 3;

export async function measure(target: Target, w: Workload, budget: Budget): Promise<Measured> {
  try {
    const cold = await target.cold();
    if (cold) w.check(cold.output);
    await target.prepare(2);
    for (let i = 0; i < WARMUP_CALLS; i++) w.check(await target.call(0));
    const warm = summarize(await sample(budget, () => target.call(0)));
    const one = await throughput(budget, [() => target.call(0)]);
    // Both callers once before timing, so a second worker or plugin is not started inside the window.
    for (const out of await Promise.all([target.call(0), target.call(1)])) w.check(out);
    const two = await throughput(budget, [() => target.call(0), () => target.call(1)]);
    return {
      cold: cold ? { ms: cold.ms, cache: cold.cache ?? 'n/a' } : undefined,
      warm,
      throughput: [one, two],
      memoryBytes: cold?.memoryBytes,
    };
  } finally {
    await target.close();
  }
}
