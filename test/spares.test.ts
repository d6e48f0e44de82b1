// Spare instances (sandbox/spare.ts, issue 11): a pool worker makes the next call's
// instance after answering a call. Each call must still run in an instance no call
// has run in, the spare's start must be charged to the call that takes it exactly as
// a fresh instance's is, and a hostile component's spare must never hold up another
// capability's call.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ComponentCompiler } from '../src/sandbox/compile.js';
import type { Job, JobResult } from '../src/sandbox/job.js';
import { HeldModules } from '../src/tiers/held-modules.js';
import { WorkerRunner } from '../src/tiers/worker.js';
import { type CallMessage, epochNow, type WorkerMessage, type WorkerStart, WorkerSlot } from '../src/tiers/worker-protocol.js';
import { componentJob } from './component-job.js';
import { fixture, ROOT, tempDir } from './helpers.js';

const compiler = new ComponentCompiler(tempDir('capsule-spares-'));
const WORKER = path.join(ROOT, 'dist', 'worker.cjs');
let runner: WorkerRunner | undefined;
afterEach(() => runner?.close());

async function job(name: string, limits: Partial<Job['limits']> = {}): Promise<Job> {
  const j = await componentJob(compiler, fixture(name), { id: `test.${name}`, input: '{}', limits });
  expect(j.directAbi).toBeDefined(); // spares are made for glue-free components
  return j;
}

async function calls(r: WorkerRunner, j: Job, n: number): Promise<JobResult[]> {
  const out: JobResult[] = [];
  // One after another, so each call finds the spare its thread made after the one before.
  for (let i = 0; i < n; i++) out.push(await r.run(j));
  return out;
}

describe('spare instances', () => {
  it('serve calls after the first, and no state survives between calls: a guest counter is 1 on every call', async () => {
    runner = new WorkerRunner({ maxThreads: 1, spare: 0 }, WORKER);
    const results = await calls(runner, await job('counter'), 6);
    expect(results.map((r) => r.outcome)).toEqual(Array(6).fill({ ok: true, value: '{"count":1}' }));
    // The first call had no spare yet; later ones (same thread) ran in spares. Allow one
    // miss: a call may reach the thread before its spare is made (it then makes a fresh one).
    expect(results[0]?.spare).toBeUndefined();
    expect(results.filter((r) => r.spare).length).toBeGreaterThanOrEqual(4);
    expect(new Set(results.map((r) => r.worker)).size).toBe(1);
  });

  it('are off with pool.spares false: every call instantiates its own', async () => {
    runner = new WorkerRunner({ maxThreads: 1, spare: 0, spares: false }, WORKER);
    const results = await calls(runner, await job('counter'), 4);
    expect(results.every((r) => r.outcome.ok && r.spare === undefined)).toBe(true);
  });

  it("charge their start function's fuel to the call that takes them, exactly as a fresh instance's", async () => {
    const j = await job('start-work');
    runner = new WorkerRunner({ maxThreads: 1, spare: 0, spares: false }, WORKER);
    const fresh = (await calls(runner, j, 1))[0] as JobResult;
    await runner.close();
    runner = new WorkerRunner({ maxThreads: 1, spare: 0 }, WORKER);
    const spared = (await calls(runner, j, 4)).filter((r) => r.spare);
    expect(spared.length).toBeGreaterThan(0);
    // The start loop's 100 000 turns are in both figures.
    expect(fresh.fuel).toBeGreaterThan(100_000);
    for (const r of spared) expect([r.outcome, r.fuel]).toEqual([fresh.outcome, fresh.fuel]);
    // A budget below what the start and the call need together is CPU_LIMIT with a spare too.
    const tight = { ...j, limits: { ...j.limits, fuel: (fresh.fuel as number) - 1 } };
    for (const r of await calls(runner, tight, 3)) expect(r.outcome.ok ? 'ok' : r.outcome.error.code).toBe('CPU_LIMIT');
  });

  it("are not made while another component's call waits: it starts first; a waiting call of the same component takes the spare", async () => {
    // Before: the thread made the spare first and the waiting call started after it
    // (0.06-0.16 ms late: a TIMEOUT's overshoot counted that). Driven directly, with two
    // calls posted at once, so the second is queued when the first is answered.
    const j = await job('start-work');
    const k = await job('counter');
    const w = new Worker(WORKER, { workerData: { glues: [], glueModules: 8, slot: new WorkerSlot().buffer } satisfies WorkerStart });
    try {
      const results = new Map<number, JobResult>();
      let ready = false;
      let failed: string | undefined;
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') ready = true;
        if (m.type === 'result') results.set(m.call, m.result);
        if (m.type === 'failed') failed = m.message;
      });
      const until = (ok: () => boolean) =>
        new Promise<void>((resolve) => {
          const poll = () => (ok() || failed !== undefined ? resolve() : setTimeout(poll, 5));
          poll();
        });
      const held = new HeldModules();
      const post = (call: number, { modules, ...rest }: Job) => {
        const packed = held.pack(modules);
        w.postMessage({ call, job: rest, modules: packed, spares: true, sentAt: epochNow() } satisfies CallMessage);
        held.commit(packed);
      };
      await until(() => ready);
      // Another component's call waiting: it starts at once, with no spare made before it.
      post(1, j);
      post(2, k);
      await until(() => results.size === 2);
      // Now nothing waits: a spare is made after the second call, and serves the third.
      post(3, k);
      await until(() => results.size === 3);
      // The same component's call waiting: the spare made for it serves it (it is the
      // instance the call would make itself), however the threads were scheduled.
      post(4, k);
      post(5, k);
      await until(() => results.size === 5);
      expect(failed).toBeUndefined();
      expect([1, 2, 3, 4, 5].map((n) => results.get(n)?.outcome.ok)).toEqual([true, true, true, true, true]);
      expect([1, 2, 3, 4, 5].map((n) => results.get(n)?.spare)).toEqual([undefined, undefined, true, true, true]);
    } finally {
      await w.terminate();
    }
  });

  it("a component whose start function never ends cannot hold up another capability's call", { timeout: 30_000 }, async () => {
    // One thread, so the other call has nowhere to go but the thread that tries the hostile spare.
    runner = new WorkerRunner({ maxThreads: 1, spare: 0 }, WORKER);
    const hostile = await job('spin-start', { timeoutMs: 200 });
    const other = await job('counter');
    for (let round = 0; round < 3; round++) {
      // Its own call is what fails: its start spins until the call's limit.
      const bad = await runner.run(hostile);
      expect(bad.outcome.ok ? 'ok' : bad.outcome.error.code).toBe('TIMEOUT');
      // Sent at once, while the thread may be trying the spare: it is served (without the
      // spare's bound it would wait for a start function that never ends).
      const t = performance.now();
      const good = await runner.run(other);
      const ms = performance.now() - t;
      expect(good.outcome).toEqual({ ok: true, value: '{"count":1}' });
      // Not a timing assertion of the fast path: far below the hostile call's own limit
      // would do; this only rules out waiting for the hostile start at all.
      expect(ms).toBeLessThan(5000);
    }
    expect(runner.threads).toBe(1);
  });
});
