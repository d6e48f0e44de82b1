// `capsule run` starts its worker thread before the rest of its code loads and hands
// the pool to Runtime.create (src/cli/run-worker.ts): the runtime runs the worker tier
// on that pool and closes it; a pool with no host functions is refused beside `host`.
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Runtime } from '../src/runtime.js';
import { WorkerRunner } from '../src/tiers/worker.js';
import { CapsuleError } from '../src/errors.js';
import { CAPABILITIES, ROOT, cli } from './helpers.js';

const WORKER = path.join(ROOT, 'dist', 'worker.cjs');
const POOL = { minThreads: 1, maxThreads: 1, spare: 0 };

describe('a worker pool started before the runtime', () => {
  it('serves the worker tier and is closed with the runtime', async () => {
    const worker = new WorkerRunner(POOL, WORKER);
    const run = vi.spyOn(worker, 'run');
    const close = vi.spyOn(worker, 'close');
    const rt = await Runtime.create({ capabilitiesDir: CAPABILITIES, pool: POOL }, { worker });
    try {
      const r = await rt.run('demo.echo', { a: 1 });
      expect(r.output).toEqual({ a: 1 });
      expect(r.stats.tier).toBe('worker');
      expect(run).toHaveBeenCalledTimes(1);
    } finally {
      await rt.close();
    }
    expect(close).toHaveBeenCalled();
  });

  it('is refused beside host functions, which it could not serve', async () => {
    const worker = new WorkerRunner(POOL, WORKER);
    try {
      const host = { 'acme:app/greet': { hello: () => 'hi' } };
      const e = await Runtime.create({ capabilitiesDir: CAPABILITIES, host }, { worker }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(CapsuleError);
      expect(e).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/cannot serve host functions/) });
    } finally {
      await worker.close();
    }
  });

  it('capsule run of a component writes nothing to stderr: no ExperimentalWarning (nothing on its path imports node:wasi)', () => {
    const r = cli(['run', 'demo.echo', '--input', '{"a":1}', '--capabilities', CAPABILITIES]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });
});
