// CPU budgets and cooperative interruption (issue 10): every core module is
// instrumented with fuel checks at load time (src/sandbox/limits/fuel.ts), so
// cpuMs/fuel end a spinning guest with CPU_LIMIT, the same fuel budget stops a
// deterministic guest at the same point on every run, a TIMEOUT interrupts the
// guest without killing its worker, and the inline tier gets real timeouts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../dist/index.js';
import { failure, fixture, manifest, tempDir, writeCapability } from './helpers.js';

let rt: Runtime;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  writeCapability(dir, 'cpu.spin', manifest('cpu.spin'), fixture('spin'));
  writeCapability(dir, 'cpu.spin-capped', manifest('cpu.spin-capped', { limits: { cpuMs: 30 } }), fixture('spin'));
  writeCapability(dir, 'cpu.fib', manifest('cpu.fib'), fixture('bench-fib'));
  writeCapability(dir, 'cpu.counter', manifest('cpu.counter'), fixture('counter'));
  writeCapability(dir, 'cpu.stack', manifest('cpu.stack'), fixture('stack'));
  writeCapability(dir, 'cpu.cat', manifest('cpu.cat', { world: 'command' }), fixture('exit-code'));
  writeCapability(dir, 'cpu.membomb', manifest('cpu.membomb'), fixture('membomb-trap'));
  writeCapability(dir, 'cpu.sleep', manifest('cpu.sleep', { world: 'command', permissions: { clocks: true } }), fixture('sleep'));
  // Inline runs only where a policy grant names it.
  const policy = { grants: [{ capabilities: ['cpu.*'], tier: 'inline' as const }] };
  // Its own cache, so its first fib call transpiles (and reports the instrumentation time).
  rt = await createRuntime({ capabilitiesDir: dir, policy, cacheDir: tempDir('capsule-fuel-cache-'), pool: { maxThreads: 1, spare: 0 } });
});
afterAll(() => rt.close());

describe.each(['worker', 'inline'] as const)('CPU budget, %s tier', (tier) => {
  // CPU_LIMIT, not TIMEOUT: the budget ended the guest before the wall-clock limit did.
  it('cpuMs on a spin loop is CPU_LIMIT, before the wall-clock limit', async () => {
    const e = await failure(rt.run('cpu.spin', {}, { tier, cpuMs: 20, timeoutMs: 5000 }));
    expect(e.code).toBe('CPU_LIMIT');
    expect(e.details?.cpuMs).toBe(20);
    expect(e.details?.fuel).toBeGreaterThanOrEqual(e.details?.limitFuel as number);
  });

  it("the manifest's cpuMs applies, and a per-call cpuMs may only lower it", async () => {
    const e = await failure(rt.run('cpu.spin-capped', {}, { tier, cpuMs: 1000, timeoutMs: 5000 }));
    expect(e.code).toBe('CPU_LIMIT');
    expect(e.details?.cpuMs).toBe(30);
  });

  it('the same fuel budget stops a deterministic guest at the same point, and stats.fuel is the same on every run', async () => {
    // The first call transpiled fib (once per runtime's cache): it says what instrumenting it took.
    if (tier === 'worker') expect((await rt.run('cpu.fib', '', { tier })).stats.instrumentMs).toBeGreaterThan(0);
    const full = await Promise.all([0, 1].map(() => rt.run('cpu.fib', '', { tier })));
    const used = full[0]?.stats.fuel as number;
    expect(used).toBeGreaterThan(1_000_000);
    expect(full.map((r) => [r.output, r.stats.fuel])).toEqual([
      [196418, used],
      [196418, used],
    ]);
    const stops = [];
    for (let i = 0; i < 2; i++) {
      const e = await failure(rt.run('cpu.fib', '', { tier, fuel: Math.floor(used / 2) }));
      expect(e.code).toBe('CPU_LIMIT');
      stops.push(e.details?.fuel);
    }
    expect(stops[0]).toBeGreaterThanOrEqual(Math.floor(used / 2));
    expect(stops[0]).toBeLessThan(used);
    expect(stops[1]).toBe(stops[0]);
    // Enough fuel: the answer.
    expect((await rt.run('cpu.fib', '', { tier, fuel: used })).output).toBe(196418);
  });
});

describe('through jco glue (a C command: several core instances, WASI adapter)', () => {
  it('stats.fuel is the same on every run, and a budget below it is CPU_LIMIT', async () => {
    const input = { args: ['3'], stdin: 'hi\n' };
    const runs = await Promise.all([0, 1].map(() => rt.run<{ exitCode: number; stdout: string }>('cpu.cat', input)));
    const used = runs[0]?.stats.fuel as number;
    expect(used).toBeGreaterThan(0);
    expect(runs.map((r) => [r.output.exitCode, r.output.stdout, r.stats.fuel])).toEqual([
      [3, 'hi\n', used],
      [3, 'hi\n', used],
    ]);
    const e = await failure(rt.run('cpu.cat', input, { fuel: Math.floor(used / 2) }));
    expect(e.code).toBe('CPU_LIMIT');
  });
});

describe('interruption', () => {
  it('a TIMEOUT of a spinning guest leaves its worker alive: the same thread serves the next call', async () => {
    const before = await rt.run('cpu.counter', {}, { tier: 'worker' });
    expect(before.stats.worker).toBeGreaterThan(0);
    const e = await failure(rt.run('cpu.spin', {}, { tier: 'worker', timeoutMs: 100 }));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toContain('the guest was stopped');
    const after = await rt.run('cpu.counter', {}, { tier: 'worker' });
    expect(after.stats.worker).toBe(before.stats.worker);
  });

  it('the inline tier stops a spinning guest on the calling thread: TIMEOUT', async () => {
    const started = performance.now();
    const e = await failure(rt.run('cpu.spin', {}, { tier: 'inline', timeoutMs: 100 }));
    expect(e.code).toBe('TIMEOUT');
    expect(performance.now() - started).toBeLessThan(2000);
    expect((await rt.run('cpu.counter', {}, { tier: 'inline' })).output).toEqual({ count: 1 });
  });

  it('an abort interrupts a spinning guest and the worker serves the next call', async () => {
    const before = await rt.run('cpu.counter', {}, { tier: 'worker' });
    expect(before.stats.worker).toBeGreaterThan(0);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const e = await failure(rt.run('cpu.spin', {}, { tier: 'worker', timeoutMs: 10_000, signal: controller.signal }));
    expect(e.code).toBe('ABORTED');
    expect((await rt.run('cpu.counter', {}, { tier: 'worker' })).stats.worker).toBe(before.stats.worker);
  });

  it('a guest blocked in a host call (a WASI sleep) still times out: its worker is terminated after the grace period', async () => {
    const before = await rt.run('cpu.counter', {}, { tier: 'worker' });
    // 1 s, so the guest is surely in its sleep (not still starting, where its own checks would stop it).
    const e = await failure(rt.run('cpu.sleep', {}, { tier: 'worker', timeoutMs: 1000 }));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toContain('worker was terminated');
    const after = await rt.run('cpu.counter', {}, { tier: 'worker' });
    expect(after.stats.worker).not.toBe(before.stats.worker);
  });
});

describe('process tier', () => {
  // bwrap off: Node's permission flags alone, so this runs wherever the process tier does.
  let proc: Runtime;
  beforeAll(async () => {
    proc = await createRuntime({ capabilitiesDir: dir, process: { bwrap: 'off' } });
  });
  afterAll(() => proc.close());

  it('cpuMs on a spin loop is CPU_LIMIT in the child process too, and fuel counts the same as in a worker', async () => {
    const e = await failure(proc.run('cpu.spin', {}, { tier: 'process', cpuMs: 20, timeoutMs: 10_000 }));
    expect(e.code).toBe('CPU_LIMIT');
    expect(e.details?.cpuMs).toBe(20);
    const there = await proc.run('cpu.fib', '', { tier: 'process' });
    const here = await rt.run('cpu.fib', '', { tier: 'worker' });
    expect(there.stats.fuel).toBe(here.stats.fuel);
  });
});

// The hostile suite's spin, stack and memory bombs, in every tier that runs on this host.
describe.each(['worker', 'inline', 'process'] as const)('hostile guests, %s tier', (tier) => {
  let local: Runtime;
  beforeAll(async () => {
    const policy = { grants: [{ capabilities: ['cpu.*'], tier: 'inline' as const }] };
    local = await createRuntime({ capabilitiesDir: dir, policy, pool: { maxThreads: 1 }, process: { bwrap: 'off' } });
  });
  afterAll(() => local.close());
  const plainCallWorks = async () => expect((await local.run('cpu.counter', {}, { tier })).output).toEqual({ count: 1 });

  it('spin: TIMEOUT', async () => {
    const e = await failure(local.run('cpu.spin', {}, { tier, timeoutMs: 200 }));
    expect(e.code).toBe('TIMEOUT');
    await plainCallWorks();
  });
  it('stack: TRAP (stack overflow)', async () => {
    const e = await failure(local.run('cpu.stack', {}, { tier }));
    expect(e.code).toBe('TRAP');
    expect(e.message).toContain('stack overflow');
    await plainCallWorks();
  });
  it('memory bomb: MEMORY_LIMIT', async () => {
    const e = await failure(local.run('cpu.membomb', {}, { tier, memoryLimitBytes: 16 << 20 }));
    expect(e.code).toBe('MEMORY_LIMIT');
    await plainCallWorks();
  });
});

// A guest blocked in an outbound HTTP call to a 127.0.0.1 server that never answers:
// the synchronous fetch holds its thread, so the interrupt is not seen, and the worker
// is terminated after the grace period.
describe('blocked in an HTTP call', () => {
  let server: Server;
  let net: Runtime;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') res.end('ok');
      // anything else: never answered
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const netDir = tempDir();
    const m = manifest('cpu.net', { securityLevel: 'sandboxed', permissions: { net: { outbound: [base] } } });
    writeCapability(netDir, 'cpu.net', m, fixture('attack-net'));
    net = await createRuntime({ capabilitiesDir: netDir, policy: { grants: [{ capabilities: 'cpu.*', net: { outbound: [base] } }] }, pool: { maxThreads: 1 } });
  });
  afterAll(async () => {
    await net.close();
    server.closeAllConnections();
    server.close();
  });

  it('is TIMEOUT: its worker is terminated after the grace period and replaced', async () => {
    const ok = await net.run<{ status: number; body: string }>('cpu.net', { url: `${base}/ok` });
    expect(ok.output).toMatchObject({ status: 200, body: 'ok' });
    const e = await failure(net.run('cpu.net', { url: `${base}/hang` }, { timeoutMs: 1000 }));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toContain('worker was terminated');
    const after = await net.run('cpu.net', { url: `${base}/ok` });
    expect(after.stats.worker).not.toBe(ok.stats.worker);
  });
});
