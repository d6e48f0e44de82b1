// What the fuel checks (sandbox/limits/fuel.ts) cost a call: the same component's
// core modules compiled with and without them, run by the same execute() on this
// thread; the goals table interleaves the two sides (paired.ts). Also times the
// instrumentation pass itself on the component's core files (what a first load
// pays, once per component).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CapsuleError } from '../errors.js';
import { compileBundle } from '../sandbox/compile.js';
import { compileCore } from '../sandbox/core-compile.js';
import { execute } from '../sandbox/execute.js';
import type { Job } from '../sandbox/job.js';
import { callLimits, capModule, instrumentModule } from '../sandbox/limits/index.js';
import type { CapsuleContext } from './capsule-target.js';
import { loadedComponent } from './loaded-component.js';
import type { TimedCall } from './paired.js';
import type { Workload } from './workloads.js';

export interface FuelPair {
  /** Without fuel checks. */
  off: TimedCall;
  /** With fuel checks. */
  on: TimedCall;
  /** stats.fuel of the last call with checks. */
  fuelPerCall(): number;
  /** The instrumentation pass over the component's core files, ms. */
  instrumentMs: number;
  coreBytes: number;
  close(): Promise<void>;
}

/** Both sides for `w`, or why there are none (a capability that is not a component). */
export async function fuelPair(ctx: CapsuleContext, w: Workload, cacheDir: string): Promise<FuelPair | string> {
  const got = await loadedComponent(ctx, w, cacheDir);
  if (typeof got === 'string') return got;
  const { rt, c, decision } = got;
  try {
    const { bundle } = c;
    let instrumentMs = 0;
    let coreBytes = 0;
    const plain: Record<string, WebAssembly.Module> = {};
    const caps = callLimits(decision.limits.memoryBytes, bundle);
    for (const file of bundle.coreFiles) {
      const bytes = await readFile(path.join(bundle.dir, file));
      const t = performance.now();
      instrumentModule(bytes);
      instrumentMs += performance.now() - t;
      coreBytes += bytes.length;
      plain[file] = await compileCore(capModule(bytes, caps), file);
    }
    const fuelled = await compileBundle(bundle, decision.limits.memoryBytes);
    const job = (modules: Record<string, WebAssembly.Module>): Job => ({
      capabilityId: w.capability,
      digest: c.digest,
      glueUrl: c.glueUrl,
      modules,
      imports: c.glueImports,
      world: 'capability',
      ...(c.directAbi ? { directAbi: c.directAbi } : {}),
      grants: decision.grants,
      limits: decision.limits,
      input: JSON.stringify(w.input()),
      bundle,
    });
    const jobs = { off: job(plain), on: job(fuelled) };
    let fuel = 0;
    const call =
      (which: 'off' | 'on'): TimedCall =>
      async () => {
        const t = performance.now();
        const r = await execute(jobs[which]);
        const ms = performance.now() - t;
        if (!r.outcome.ok) throw new CapsuleError(r.outcome.error.code, r.outcome.error.message);
        w.check(JSON.parse(r.outcome.value));
        if (which === 'on') fuel = r.fuel ?? 0;
        return ms;
      };
    return { off: call('off'), on: call('on'), fuelPerCall: () => fuel, instrumentMs, coreBytes, close: () => rt.close() };
  } catch (e) {
    await rt.close();
    throw e;
  }
}
