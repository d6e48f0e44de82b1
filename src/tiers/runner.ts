import type { Job, JobResult } from '../sandbox/job.js';

/** One contract for every tier: take a Job, give back a JobResult or a CapsuleError. */
export interface TierRunner {
  run(job: Job, signal?: AbortSignal): Promise<JobResult>;
  close(): Promise<void>;
}
