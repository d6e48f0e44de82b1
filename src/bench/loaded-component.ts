// The in-thread sides of the goals table (fresh vs warm instance, fuel checks on vs
// off) start from the same thing: a runtime with the workload's component loaded
// and planned, its limits and grants decided as a call's would be.
import { createRuntime } from '../api.js';
import type { Runtime } from '../runtime.js';
import type { Plan } from '../plan/plan.js';
import type { CompiledComponent } from '../sandbox/compile.js';
import type { CapsuleContext } from './capsule-target.js';
import type { Workload } from './workloads.js';

export interface LoadedComponent {
  /** Closed by whoever holds it (the side's close()). */
  rt: Runtime;
  c: CompiledComponent;
  decision: Plan['decision'];
}

/** `w`'s component, or why there is none (a capability that is not a wasm component). */
export async function loadedComponent(ctx: CapsuleContext, w: Workload, cacheDir: string): Promise<LoadedComponent | string> {
  const rt = await createRuntime({ capabilitiesDir: ctx.capabilitiesDirs, policy: ctx.policy, cacheDir, auditLog: false });
  try {
    const loaded = await rt.load(w.capability);
    const c = loaded.component;
    if (!c) {
      await rt.close();
      return `${w.capability} is not a wasm component`;
    }
    return { rt, c, decision: rt.plan(loaded).decision };
  } catch (e) {
    await rt.close();
    throw e;
  }
}
