// The calling thread: no isolation beyond wasm itself and no way to stop a
// spinning guest. A baseline for benchmarks, and for `pure` capabilities a policy trusts.
import { execute } from '../sandbox/execute.js';
import type { Job, JobResult } from '../sandbox/job.js';
import type { TierRunner } from './tier-runner.js';

export class InlineRunner implements TierRunner {
  /** capsule's WASI runs on this thread with the host's access: every grant applies as decided. */
  cannotHonour(): undefined {
    return undefined;
  }

  run(job: Job): Promise<JobResult> {
    return execute(job);
  }
  async close(): Promise<void> {}
}
