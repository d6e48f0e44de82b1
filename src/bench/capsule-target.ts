// capsule itself as a bench target: one runtime per tier × workload, created
// with an empty transpile cache so the first call is truly cold.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRuntime } from '../api.js';
import type { Tier } from '../policy/tier.js';
import type { PolicyDocument } from '../policy/policy.js';
import type { Runtime } from '../runtime.js';
import type { Target } from './measure.js';
import type { Workload } from './workloads.js';
import { removeCacheDir } from '../sandbox/transpile-cache.js';

export interface CapsuleContext {
  capabilitiesDirs: string[];
  policy: PolicyDocument;
}

export function capsuleTarget(ctx: CapsuleContext, tier: Tier, w: Workload): Target {
  let rt: Runtime | undefined;
  let cacheDir: string | undefined;
  const input = w.input();
  const call = async () => {
    if (!rt) throw new Error(`${w.name}: called before cold() opened the runtime`);
    return (await rt.run(w.capability, input, { tier })).output;
  };
  return {
    async cold() {
      cacheDir = await mkdtemp(path.join(tmpdir(), 'capsule-bench-cache-'));
      const t = performance.now();
      // Two threads at most, so concurrency 2 can use both cores; one started up front, as `capsule run` does.
      rt = await createRuntime({ ...ctx, capabilitiesDir: ctx.capabilitiesDirs, cacheDir, pool: { minThreads: 1, maxThreads: 2 } });
      const r = await rt.run(w.capability, input, { tier });
      return { ms: performance.now() - t, output: r.output, cache: r.stats.cache, memoryBytes: r.stats.memoryBytes };
    },
    call,
    async prepare() {},
    async close() {
      await rt?.close();
      if (cacheDir) await removeCacheDir(cacheDir);
    },
  };
}

/**
 * Runs echo once in `tier` to learn whether the tier has a runner; returns why it cannot run, or null.
 * It transpiles into a throwaway cache, so the transpiler is loaded before any cold call is timed
 * and no tier's cold figure carries that one-time cost.
 */
export async function probeTier(ctx: CapsuleContext, tier: Tier): Promise<{ status: 'unavailable' | 'failed'; reason: string } | null> {
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'capsule-bench-cache-'));
  const rt = await createRuntime({ capabilitiesDir: ctx.capabilitiesDirs, policy: ctx.policy, cacheDir, pool: { minThreads: 0, maxThreads: 1 } });
  try {
    await rt.run('bench.echo', null, { tier });
    return null;
  } catch (e) {
    const { code, details } = e as { code?: string; details?: { unavailable?: string } };
    // The runner's own reason applies to every workload of the tier, not just the probe's.
    const reason = details?.unavailable ?? (e as Error).message ?? String(e);
    return code === 'ESCALATION_UNAVAILABLE' ? { status: 'unavailable', reason } : { status: 'failed', reason: `${code ?? 'error'}: ${reason}` };
  } finally {
    await rt.close();
    await removeCacheDir(cacheDir);
  }
}
