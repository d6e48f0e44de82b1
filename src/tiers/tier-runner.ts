import type { Grants, Job, JobResult, Limits } from '../sandbox/job.js';

/** One contract for every tier: take a Job, give back a JobResult or a CapsuleError. */
export interface TierRunner {
  /**
   * What of a call's grants or limits this tier cannot honour, in words ("the process tier
   * cannot pass /x/st*r to Node's permission model"), or undefined when it honours them all. Asked when
   * the tier is decided, before anything runs: a grant or limit is refused up front (or the
   * policy's fallback taken), never dropped silently inside the guest. `native`: a container
   * capability, which has no capsule WASI inside to apply per-host or per-path rules, and no
   * fuel checks to hold it to a CPU budget.
   */
  cannotHonour(call: { grants: Grants; limits: Limits }, native: boolean): string | undefined;
  run(job: Job, signal?: AbortSignal): Promise<JobResult>;
  close(): Promise<void>;
}
