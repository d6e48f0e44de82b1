// The worker pool (src/tiers/worker.ts) when its workers cannot start: a clear
// error for the call, no restart loop, no 60 s wait.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CapsuleError } from '../src/errors.js';
import type { Job } from '../src/sandbox/job.js';
import { WorkerRunner } from '../src/tiers/worker.js';
import { NO_GRANTS } from './component-job.js';
import { ROOT } from './helpers.js';

let runner: WorkerRunner | undefined;
afterEach(() => runner?.close());

// Never reaches a worker: only its id and limits are read before one is ready.
const job: Job = {
  capabilityId: 'test.nothing',
  digest: 'sha256:0',
  glueUrl: 'file:///nothing.js',
  modules: {},
  imports: [],
  world: 'capability',
  grants: NO_GRANTS,
  limits: { memoryBytes: 1 << 20, timeoutMs: 1000, outputBytes: 1 << 20, inputBytes: 1 << 20 },
  input: '{}',
};

describe('a pool whose workers cannot start', () => {
  it('fails the call with why (INTERNAL), and starts no more workers than it may', { timeout: 30_000 }, async () => {
    runner = new WorkerRunner({ maxThreads: 1, spare: 1 }, path.join(ROOT, 'test', 'workers', 'broken.mjs'));
    for (let i = 0; i < 2; i++) {
      const e = await runner.run(job).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CapsuleError);
      expect((e as CapsuleError).code).toBe('INTERNAL');
      expect((e as CapsuleError).message).toContain('fails on purpose');
      expect(runner.threads).toBeLessThanOrEqual(2);
    }
  });
});
