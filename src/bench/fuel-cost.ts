// What the fuel checks (sandbox/limits/fuel.ts) cost a call: the same component's
// core modules compiled with and without them, run by the same execute() on this
// thread, alternately one call each (which goes first alternates too), so a change
// in the machine's load hits both sides alike. Also times the instrumentation pass
// itself on the component's core files (what a first load pays, once per component).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createRuntime } from '../api.js';
import { CapsuleError, messageOf } from '../errors.js';
import { compileBundle } from '../sandbox/compile.js';
import { compileCore } from '../sandbox/core-compile.js';
import { execute } from '../sandbox/execute.js';
import type { Job } from '../sandbox/job.js';
import { callLimits, capModule, instrumentModule } from '../sandbox/limits/index.js';
import type { CapsuleContext } from './capsule-target.js';
import { type Budget, summarize } from './stats.js';
import type { FuelCost } from './types.js';
import type { Workload } from './workloads.js';

const WARMUP_CALLS = 3;

export async function measureFuelCost(ctx: CapsuleContext, w: Workload, budget: Budget): Promise<FuelCost> {
  const rt = await createRuntime({ capabilitiesDir: ctx.capabilitiesDirs, policy: ctx.policy, auditLog: false });
  try {
    const loaded = await rt.load(w.capability);
    const c = loaded.component;
    if (!c) return { workload: w.name, status: 'unavailable', reason: `${w.capability} is not a wasm component` };
    const { decision } = rt.plan(loaded);
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
    const call = async (which: 'off' | 'on') => {
      const t = performance.now();
      const r = await execute(jobs[which]);
      const ms = performance.now() - t;
      if (!r.outcome.ok) throw new CapsuleError(r.outcome.error.code, r.outcome.error.message);
      w.check(JSON.parse(r.outcome.value));
      if (which === 'on') fuel = r.fuel ?? 0;
      return ms;
    };
    for (let i = 0; i < WARMUP_CALLS; i++) {
      await call('off');
      await call('on');
    }
    const off: number[] = [];
    const on: number[] = [];
    const end = performance.now() + budget.durationMs;
    while (off.length < budget.maxSamples && (off.length < budget.minSamples || performance.now() < end)) {
      if (off.length % 2 === 0) {
        off.push(await call('off'));
        on.push(await call('on'));
      } else {
        on.push(await call('on'));
        off.push(await call('off'));
      }
    }
    const offS = summarize(off);
    const onS = summarize(on);
    return {
      workload: w.name,
      status: 'ok',
      off: offS,
      on: onS,
      ratio: onS.p50 / offS.p50,
      fuelPerCall: fuel,
      fuelPerMs: fuel / onS.p50,
      instrumentMs,
      coreBytes,
    };
  } catch (e) {
    return { workload: w.name, status: 'failed', reason: e instanceof CapsuleError ? `${e.code}: ${e.message}` : messageOf(e) };
  } finally {
    await rt.close();
  }
}
