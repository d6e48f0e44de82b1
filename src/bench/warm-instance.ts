// A component's `run` on a fresh instance per call against `run` on one instance
// made once and reused (what a runtime without per-call isolation does), in this
// thread, with the same core modules (memory-capped, without fuel checks) and the
// same glue and host imports capsule links. The difference is instantiation plus
// whatever the guest does on its first call (a JS plugin's engine warming up from
// its snapshot): what capsule's fresh-instance-per-call costs that guest.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CallBudget } from '../sandbox/call-budget.js';
import { compileCore } from '../sandbox/core-compile.js';
import { loadGlue } from '../sandbox/execute.js';
import { glueHash } from '../sandbox/glue-id.js';
import type { LogRecord } from '../sandbox/job.js';
import { callLimits, capModule } from '../sandbox/limits/index.js';
import { linkImports } from '../sandbox/linker.js';
import { createWasi } from '../sandbox/wasi/index.js';
import type { CapsuleContext } from './capsule-target.js';
import { loadedComponent } from './loaded-component.js';
import type { TimedCall } from './paired.js';
import type { Workload } from './workloads.js';

type Run = (input: string) => string;

export interface FreshAndWarm {
  fresh: TimedCall;
  warm: TimedCall;
  close(): Promise<void>;
}

/** The two sides for `w`, or why they cannot be made (a capability without a glue-linked component). */
export async function freshAndWarm(ctx: CapsuleContext, w: Workload, cacheDir: string): Promise<FreshAndWarm | string> {
  const got = await loadedComponent(ctx, w, cacheDir);
  if (typeof got === 'string') return got;
  const { rt, c, decision } = got;
  try {
    const { bundle } = c;
    const caps = callLimits(decision.limits.memoryBytes, bundle);
    const modules: Record<string, WebAssembly.Module> = {};
    for (const file of bundle.coreFiles) modules[file] = await compileCore(capModule(await readFile(path.join(bundle.dir, file)), caps), file);
    const instantiate = await loadGlue(c.glueUrl, glueHash({ bundle }));
    const make = async (): Promise<Run> => {
      const logs: LogRecord[] = [];
      const budget = new CallBudget(w.capability, decision.limits);
      const wasi = createWasi({
        grants: decision.grants,
        args: [w.capability],
        env: { ...decision.grants.env },
        stdin: new Uint8Array(),
        outputCap: decision.limits.outputBytes,
        timeoutMs: decision.limits.timeoutMs,
        connections: decision.limits.connections ?? Number.POSITIVE_INFINITY,
        budget,
      });
      const imports = linkImports(c.glueImports, decision.grants, wasi, logs, budget);
      const exports = await instantiate(
        (name) => {
          const m = modules[name];
          if (!m) throw new Error(`no core module ${name}`);
          return m;
        },
        imports,
        (m, imp) => new WebAssembly.Instance(m, imp),
      );
      if (typeof exports.run !== 'function') throw new Error(`${w.capability} does not export run`);
      return exports.run as Run;
    };
    const input = JSON.stringify(w.input());
    const call = (run: Run) => w.check(JSON.parse(run(input)));
    const reused = await make();
    return {
      async fresh() {
        const t = performance.now();
        call(await make());
        return performance.now() - t;
      },
      async warm() {
        const t = performance.now();
        call(reused);
        return performance.now() - t;
      },
      close: () => rt.close(),
    };
  } catch (e) {
    await rt.close();
    throw e;
  }
}
