// The piscina worker: runs each Job it is given in a fresh instance. It holds no
// state between calls except the glue module cache (code, not data).
import { execute } from '../sandbox/execute.js';
import type { Job, JobResult } from '../sandbox/job.js';

export default function runJob(job: Job): Promise<JobResult> {
  return execute(job);
}
