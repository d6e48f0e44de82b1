// Where a pool call's clock starts (callClock, tiers/worker-protocol.ts): at its send,
// so the caller hears of a TIMEOUT close to its limit after calling, but a thread slow
// to pick the call up takes at most PICKUP_COUNTED_MS from the guest's own time.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ComponentCompiler } from '../src/sandbox/compile.js';
import type { JobResult } from '../src/sandbox/job.js';
import { HeldModules } from '../src/tiers/held-modules.js';
import { type CallMessage, callClock, epochNow, PICKUP_COUNTED_MS, type WorkerMessage, type WorkerStart, WorkerSlot } from '../src/tiers/worker-protocol.js';
import { componentJob } from './component-job.js';
import { fixture, ROOT, tempDir } from './helpers.js';

describe('callClock', () => {
  it('starts at the send when the thread picked the call up within PICKUP_COUNTED_MS', () => {
    expect(callClock(1000, 1000.4)).toBe(1000);
    expect(callClock(1000, 1000 + PICKUP_COUNTED_MS)).toBe(1000);
  });

  it('counts no more than PICKUP_COUNTED_MS of a slow pick-up against the guest', () => {
    expect(callClock(1000, 1050)).toBe(1050 - PICKUP_COUNTED_MS);
  });

  it('never starts after the thread started the call (clocks of two threads a hair apart)', () => {
    expect(callClock(1000.5, 1000.2)).toBe(1000.2);
  });
});

describe('a pool worker', () => {
  it("takes the call's clock from the send, capped: a call sent a second before it was posted loses PICKUP_COUNTED_MS, not a second", async () => {
    const compiler = new ComponentCompiler(tempDir('capsule-clock-'));
    const { modules, ...job } = await componentJob(compiler, fixture('counter'), { id: 'test.counter', input: '{}' });
    const slot = new WorkerSlot();
    const w = new Worker(path.join(ROOT, 'dist', 'worker.cjs'), {
      workerData: { glues: [], glueModules: 8, slot: slot.buffer } satisfies WorkerStart,
    });
    try {
      let posted = 0;
      const answer = new Promise<JobResult>((resolve, reject) => {
        w.on('message', (m: WorkerMessage) => {
          if (m.type === 'ready') {
            posted = epochNow();
            const message = { call: 1, job, modules: new HeldModules().pack(modules), spares: false, sentAt: posted - 1000 };
            w.postMessage(message satisfies CallMessage);
          }
          if (m.type === 'result') resolve(m.result);
          if (m.type === 'failed') reject(new Error(m.message));
        });
      });
      expect((await answer).outcome).toEqual({ ok: true, value: '{"count":1}' });
      const clock = slot.startedAt(1) as number;
      // Capped: counted from the send alone, it would be posted − 1000.
      expect(clock).toBeGreaterThanOrEqual(posted - PICKUP_COUNTED_MS);
      expect(clock).toBeLessThanOrEqual(epochNow());
    } finally {
      await w.terminate();
    }
  });
});
