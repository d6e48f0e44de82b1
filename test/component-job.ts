// A Job for a component file, built as the runtime builds one but with no grants:
// for tests that hand jobs to execute() or a runner directly.
import { readFileSync } from 'node:fs';
import type { ComponentCompiler } from '../src/sandbox/compile.js';
import type { Grants, Job } from '../src/sandbox/job.js';

export const NO_GRANTS: Grants = {
  host: [],
  clocks: false,
  random: false,
  env: {},
  fs: { preopens: [], read: [], write: [], blocked: [] },
  net: [],
  netBlocked: [],
};

export const TEST_LIMITS: Job['limits'] = { memoryBytes: 16 << 20, timeoutMs: 5000, outputBytes: 1 << 20, inputBytes: 1 << 20 };

export async function componentJob(
  compiler: ComponentCompiler,
  file: string,
  opts: { id: string; input: string; limits?: Partial<Job['limits']> },
): Promise<Job> {
  const c = await compiler.transpile(readFileSync(file), file);
  return {
    capabilityId: opts.id,
    digest: c.digest,
    glueUrl: c.glueUrl,
    modules: await compiler.modulesFor(c, TEST_LIMITS.memoryBytes),
    imports: c.glueImports,
    world: 'capability',
    ...(c.directAbi ? { directAbi: c.directAbi } : {}),
    grants: NO_GRANTS,
    limits: { ...TEST_LIMITS, ...opts.limits },
    input: opts.input,
  };
}
