// Compiled modules cached per pool worker (src/tiers/held-modules.ts, issue 11): a
// module crosses to a worker once and is named by id afterwards; the worker's map is
// bounded by what the main side tells it to drop; and a worker never runs a module
// other than the one the job's digest names.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ComponentCompiler } from '../src/sandbox/compile.js';
import { HeldModules, WorkerModules } from '../src/tiers/held-modules.js';
import { WorkerRunner } from '../src/tiers/worker.js';
import { componentJob } from './component-job.js';
import { fixture, ROOT, tempDir } from './helpers.js';

const compiler = new ComponentCompiler(tempDir('capsule-held-modules-'));
const WORKER = path.join(ROOT, 'dist', 'worker.cjs');
let runner: WorkerRunner | undefined;
afterEach(() => runner?.close());

// Three distinct modules (the smallest valid one, compiled three times: three objects).
const EMPTY = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
const [m1, m2, m3] = [0, 1, 2].map(() => new WebAssembly.Module(EMPTY)) as [WebAssembly.Module, WebAssembly.Module, WebAssembly.Module];
const A = { capabilityId: 'test.a', digest: 'sha256:a' };
const B = { capabilityId: 'test.b', digest: 'sha256:b' };
const C = { capabilityId: 'test.c', digest: 'sha256:c' };

/** One call's message from main to worker, as PoolThread.send does it. */
function deliver(main: HeldModules, worker: WorkerModules, modules: Record<string, WebAssembly.Module>, job: typeof A) {
  const m = main.pack(modules);
  main.commit(m);
  return { sentModules: Object.values(m.refs).filter((r) => r.module).length, got: worker.resolve(m, job) };
}

describe('modules held per worker', () => {
  it('are sent once, then by id; the bound is kept on both sides by telling the worker what to drop', () => {
    const main = new HeldModules(2);
    const worker = new WorkerModules();
    expect(deliver(main, worker, { 'a.wasm': m1 }, A)).toEqual({ sentModules: 1, got: { 'a.wasm': m1 } });
    expect(deliver(main, worker, { 'a.wasm': m1 }, A)).toEqual({ sentModules: 0, got: { 'a.wasm': m1 } });
    expect(deliver(main, worker, { 'b.wasm': m2 }, B)).toEqual({ sentModules: 1, got: { 'b.wasm': m2 } });
    // A third module: the least recently used (m1) is dropped on both sides.
    expect(deliver(main, worker, { 'c.wasm': m3 }, C)).toEqual({ sentModules: 1, got: { 'c.wasm': m3 } });
    expect(worker.size).toBe(2);
    // m1 was dropped, so it is sent again (not named by an id the worker no longer holds).
    expect(deliver(main, worker, { 'a.wasm': m1 }, A)).toEqual({ sentModules: 1, got: { 'a.wasm': m1 } });
    expect(worker.size).toBe(2);
    expect(main.sent).toBe(4);
  });

  it('a worker refuses an id it does not hold, or one sent for another component or core file: it never runs that module', () => {
    const worker = new WorkerModules();
    worker.resolve({ refs: { 'a.wasm': { id: 101, module: m1 } } }, A);
    // B's job naming A's module id: refused, not run as B.
    expect(() => worker.resolve({ refs: { 'a.wasm': { id: 101 } } }, B)).toThrow(/sent for sha256:a a\.wasm, not sha256:b a\.wasm/);
    // A's id under another file name of A: refused too.
    expect(() => worker.resolve({ refs: { 'other.wasm': { id: 101 } } }, A)).toThrow(/not sha256:a other\.wasm/);
    expect(() => worker.resolve({ refs: { 'a.wasm': { id: 999 } } }, A)).toThrow(/not held by this worker/);
    expect(worker.resolve({ refs: { 'a.wasm': { id: 101 } } }, A)).toEqual({ 'a.wasm': m1 });
  });

  it('a pool thread is sent each module once, and every call runs its own component', { timeout: 30_000 }, async () => {
    runner = new WorkerRunner({ maxThreads: 1, spare: 0 }, WORKER);
    const counter = await componentJob(compiler, fixture('counter'), { id: 'test.counter', input: '{}' });
    const trap = await componentJob(compiler, fixture('trap'), { id: 'test.trap', input: '{}' });
    const sets = Object.keys(counter.modules).length + Object.keys(trap.modules).length;
    for (let i = 0; i < 3; i++) {
      expect((await runner.run(counter)).outcome).toEqual({ ok: true, value: '{"count":1}' });
      const t = await runner.run(trap);
      expect(t.outcome.ok ? 'ok' : t.outcome.error.code).toBe('CAPABILITY_ERROR');
    }
    expect(runner.threads).toBe(1);
    expect(runner.modulesSent).toBe(sets);
  });
});
