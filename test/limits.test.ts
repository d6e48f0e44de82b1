// Limits that hold against hostile guests: memory, time, output, input, traps,
// admission. After each hostile call, a plain call on the same runtime succeeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../dist/index.js';
import { WorkerRunner } from '../src/tiers/worker.js';
import { fixture, manifest, ROOT, tempDir, writeCapability, failure } from './helpers.js';

const MiB = 1024 * 1024;
let rt: Runtime;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  writeCapability(dir, 'test.counter', manifest('test.counter'), fixture('counter'));
  writeCapability(dir, 'test.sleep', manifest('test.sleep', { world: 'command', permissions: { clocks: true } }), fixture('sleep'));
  writeCapability(dir, 'test.small-input', manifest('test.small-input', { limits: { inputBytes: 64 } }), fixture('counter'));
  rt = await createRuntime({ capabilitiesDir: dir, pool: { maxThreads: 2 } });
});
afterAll(() => rt.close());

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

/** Every hostile call must leave the runtime serving. */
async function plainCallWorks(): Promise<void> {
  expect((await rt.run('test.counter', {})).output).toEqual({ count: 1 });
}

describe('memory', () => {
  it('a memory bomb under a 16 MiB limit reaches exactly 256 pages and no more (capped growth)', async () => {
    const { output, stats } = await rt.runFile<{ pages: number }>(fixture('membomb'), {}, { memoryLimitBytes: 16 * MiB });
    expect(output.pages).toBe(256);
    expect(stats.memoryBytes).toBeLessThanOrEqual(16 * MiB);
    await plainCallWorks();
  });

  it('the limit holds for all memories together, however many instances the component makes', async () => {
    // Five memories (one module instantiated four times, plus the main one): each gets a fifth of the limit.
    const { output } = await rt.runFile<{ pages: number }>(fixture('multi-memory'), {}, { memoryLimitBytes: 16 * MiB });
    expect(output.pages).toBeLessThanOrEqual(256);
    expect(output.pages).toBe(4 * Math.floor(256 / 5) + 1);
    await plainCallWorks();
  });

  it('a bomb that traps when growth fails is MEMORY_LIMIT', async () => {
    const e = await failure(rt.runFile(fixture('membomb-trap'), {}, { memoryLimitBytes: 16 * MiB }));
    expect(e.code).toBe('MEMORY_LIMIT');
    expect(e.message).toMatch(/16777216/);
    await plainCallWorks();
  });

  it('the manifest limit applies without a per-call override (default 128 MiB here)', async () => {
    const { output } = await rt.runFile<{ pages: number }>(fixture('membomb'), {});
    expect(output.pages).toBe(2048);
  });

  it('a worker killed for exhausting its JS heap is MEMORY_LIMIT and the pool recovers', async () => {
    const runner = new WorkerRunner({ maxThreads: 1, spare: 0, heapMb: 32 }, `${ROOT}/test/workers/heap-hog.mjs`);
    try {
      const job = { capabilityId: 'test.hog', limits: { timeoutMs: 20_000 } } as never;
      // The runner comes from src here, so its CapsuleError is not dist's class: compare the code.
      const e = (await runner.run(job).catch((err: unknown) => err)) as { code?: string };
      expect(e.code).toBe('MEMORY_LIMIT');
    } finally {
      await runner.close();
    }
  });
});

describe('wall-clock time', () => {
  // The limit runs from when a worker starts the guest (details.elapsedMs); the
  // caller's total also holds the first call's compile, so it gets a looser bound.
  it('an infinite loop with a 200 ms limit is TIMEOUT, well before 1 s', async () => {
    const started = Date.now();
    const e = await failure(rt.runFile(fixture('spin'), {}, { timeoutMs: 200 }));
    expect(e.code).toBe('TIMEOUT');
    expect(e.details?.elapsedMs).toBeGreaterThanOrEqual(199);
    expect(e.details?.elapsedMs).toBeLessThan(1000);
    expect(Date.now() - started).toBeLessThan(5000);
    await plainCallWorks();
  });

  it('a guest blocked forever inside a host call (a WASI sleep) is TIMEOUT too', async () => {
    const started = Date.now();
    const e = await failure(rt.run('test.sleep', {}, { timeoutMs: 200 }));
    expect(e.code).toBe('TIMEOUT');
    expect(e.details?.elapsedMs).toBeLessThan(1000);
    expect(Date.now() - started).toBeLessThan(5000);
    await plainCallWorks();
  });

  it("the caller's AbortSignal cancels a running call: ABORTED", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const e = await failure(rt.runFile(fixture('spin'), {}, { timeoutMs: 5000, signal: controller.signal }));
    expect(e.code).toBe('ABORTED');
    await plainCallWorks();
  });

  it('killed workers are replaced: the pool is back to its size (2 running + 1 spare)', async () => {
    await Promise.all([1, 2].map(() => failure(rt.runFile(fixture('spin'), {}, { timeoutMs: 100 }))));
    await plainCallWorks();
    for (let i = 0; i < 50 && rt.poolInfo().workers !== 3; i++) await new Promise((r) => setTimeout(r, 50));
    expect(rt.poolInfo().workers).toBe(3);
  });
});

describe('traps', () => {
  for (const [input, kind] of [
    ['unreachable', 'unreachable'],
    ['divide', 'integer divide by zero'],
    ['bounds', 'out-of-bounds memory access'],
  ]) {
    it(`${kind} is TRAP with the kind in the message`, async () => {
      const e = await failure(rt.runFile(fixture('trap'), input));
      expect(e.code).toBe('TRAP');
      expect(e.message).toContain(kind);
      await plainCallWorks();
    });
  }

  it('stack overflow is TRAP', async () => {
    const e = await failure(rt.runFile(fixture('stack'), {}));
    expect(e.code).toBe('TRAP');
    expect(e.message).toContain('stack overflow');
    await plainCallWorks();
  });
});

describe('output and input size', () => {
  it('8 MiB of output over the 1 MiB default is OUTPUT_TOO_LARGE', async () => {
    const e = await failure(rt.runFile(fixture('bigout'), {}));
    expect(e.code).toBe('OUTPUT_TOO_LARGE');
    expect(e.message).toMatch(/8388608 bytes/);
    await plainCallWorks();
  });

  it('a 100 MiB string through the canonical ABI is refused inside the worker, not copied out', async () => {
    const e = await failure(rt.runFile(fixture('bigout-100m'), {}));
    expect(e.code).toBe('OUTPUT_TOO_LARGE');
    expect(e.message).toMatch(/104857600 bytes/);
    await plainCallWorks();
  });

  it('input over limits.inputBytes is INPUT_TOO_LARGE and never reaches the guest', async () => {
    const e = await failure(rt.run('test.small-input', { text: 'x'.repeat(100) }));
    expect(e.code).toBe('INPUT_TOO_LARGE');
    expect((await rt.run('test.small-input', { ok: 1 })).output).toEqual({ count: 1 });
  });
});

describe('admission control', () => {
  // A call reserves 2 × memoryBytes (linear memory + host-side buffers) + 3 × outputBytes
  // (output or err message, stdout, stderr): README, Limits.
  const reserved = 2 * 16 * MiB + 3 * MiB;

  it('waits in a bounded queue, rejects past it, and releases reservations on timeout', async () => {
    const local = await createRuntime({
      capabilitiesDir: dir,
      pool: { maxThreads: 2 },
      admission: { memoryBytes: reserved, queueLength: 1 },
    });
    try {
      const opts = { memoryLimitBytes: 16 * MiB, outputBytes: MiB };
      const first = failure(local.runFile(fixture('spin'), {}, { ...opts, timeoutMs: 400 }));
      await until(() => local.poolInfo().inFlightBytes === reserved);
      const second = local.runFile(fixture('counter'), {}, opts);
      await until(() => local.poolInfo().waiting === 1);
      const third = await failure(local.runFile(fixture('counter'), {}, opts));
      expect(third.code).toBe('ADMISSION_REJECTED');
      expect((await first).code).toBe('TIMEOUT');
      expect((await second).output).toEqual({ count: 1 });
      expect(local.poolInfo().inFlightBytes).toBe(0);
    } finally {
      await local.close();
    }
  });

  it('a call that reserves more than the whole budget is ADMISSION_REJECTED at once', async () => {
    const local = await createRuntime({ capabilitiesDir: dir, admission: { memoryBytes: 8 * MiB } });
    try {
      const e = await failure(local.runFile(fixture('counter'), {}, { memoryLimitBytes: 16 * MiB }));
      expect(e.code).toBe('ADMISSION_REJECTED');
    } finally {
      await local.close();
    }
  });

  it('reserves what a call can really hold, not just its linear memory: 2 × memoryBytes + 3 × outputBytes', async () => {
    // 34 MiB covers the 16 MiB memory limit alone, but not 2 × 16 + 3 × 1 (the default outputBytes) = 35 MiB.
    const local = await createRuntime({ capabilitiesDir: dir, admission: { memoryBytes: 34 * MiB } });
    try {
      const e = await failure(local.runFile(fixture('counter'), {}, { memoryLimitBytes: 16 * MiB }));
      expect(e.code).toBe('ADMISSION_REJECTED');
      expect(e.message).toContain(`reserves ${35 * MiB} bytes`);
      expect((await local.runFile(fixture('counter'), {}, { memoryLimitBytes: 8 * MiB })).output).toEqual({ count: 1 });
    } finally {
      await local.close();
    }
  });
});
