// The process tier runs the job protocol end to end (dist/job-runner.js in a child
// process, under bubblewrap where it works): the same fixtures give the same answers
// as in the worker tier, and the limits hold.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapsuleError, createRuntime, type Runtime } from '../dist/index.js';
import { ProcessRunner } from '../src/tiers/process/process-tier.js';
import { corpus, fixture, manifest, ROOT, tempDir, writeCapability } from './helpers.js';

let rt: Runtime;
let plain: Runtime;
let dir: string;
const logs: { capability: string; message: string; source: string }[] = [];

beforeAll(async () => {
  dir = tempDir('capsule-esc-');
  const cap = (id: string, from: string, extra: Record<string, unknown> = {}) => writeCapability(dir, id, manifest(id, extra), from);
  cap('esc.counter', fixture('counter'));
  cap('esc.log', fixture('log'), { permissions: { host: ['capsule:host/log'] } });
  cap('esc.fail', fixture('fail'));
  cap('esc.not-json', fixture('not-json'));
  cap('esc.exit-code', fixture('exit-code'), { world: 'command' });
  cap('esc.probe', fixture('wasi-probe'), { world: 'command' });
  cap('esc.hello', corpus('hello_stdout.component.wasm'), { world: 'command' });
  cap('esc.spin', fixture('esc-spin'), { limits: { timeoutMs: 300 } });
  cap('esc.spin-long', fixture('esc-spin'), { limits: { timeoutMs: 60_000 } });
  cap('esc.membomb', fixture('membomb-trap'), {});
  cap('esc.isolated', fixture('counter'), { isolation: 'process' });
  cap('esc.grow', fixture('esc-grow'));
  cap('esc.wordcount', path.join(ROOT, 'capabilities', 'demo.text.wordcount', 'component.wasm'));
  const policy = { grants: [{ capabilities: ['esc.log'], host: ['capsule:host/log'] }] };
  rt = await createRuntime({ capabilitiesDir: dir, policy, logger: (r) => logs.push(r), pool: { maxThreads: 1 } });
  plain = await createRuntime({ capabilitiesDir: dir, policy, process: { bwrap: 'off' } });
});
afterAll(async () => {
  await rt.close();
  await plain.close();
});

async function outcome(r: Runtime, id: string, input: unknown, tier: 'worker' | 'process', opts: object = {}) {
  try {
    const { output, stats } = await r.run(id, input, { tier, ...opts });
    return { output, tier: stats.tier };
  } catch (e) {
    if (!(e instanceof CapsuleError)) throw e;
    return { error: e.code, message: e.message.replace(/^.*?: /, '').slice(0, 40), tier };
  }
}

describe('grants the process tier cannot honour are refused before the call', () => {
  // Before: the call ran, and inside the child a granted read failed ("Capabilities
  // insufficient") or a fetch trapped on a raw permission error: the grant was dropped silently.
  const cases: [string, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
    ['fs', { fs: { read: ['DATA'] } }, { fs: { read: ['DATA'] } }, /the process tier cannot honour fs grants \(.+\)/],
    [
      'net',
      { net: { outbound: ['https://api.example.com'] } },
      { net: { outbound: ['https://api.example.com'] } },
      /the process tier cannot honour net grants \(https:\/\/api\.example\.com/,
    ],
  ];
  it.each(cases)('%s grants: ESCALATION_UNAVAILABLE naming them; the worker tier runs the same call', async (kind, permissions, grant, message) => {
    const caps = tempDir('capsule-esc-grants-');
    const data = tempDir('capsule-esc-data-');
    const fill = (o: Record<string, unknown>) => JSON.parse(JSON.stringify(o).replaceAll('DATA', data)) as Record<string, unknown>;
    const id = `esc.granted-${kind}`;
    writeCapability(caps, id, manifest(id, { securityLevel: 'sandboxed', permissions: fill(permissions) }), fixture('counter'));
    const granted = await createRuntime({ capabilitiesDir: caps, policy: { grants: [{ capabilities: id, ...fill(grant) }] } });
    try {
      const e = await granted.run(id, {}, { tier: 'process' }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CapsuleError);
      expect((e as CapsuleError).code).toBe('ESCALATION_UNAVAILABLE');
      expect((e as CapsuleError).message).toMatch(message);
      expect((await granted.run(id, {}, { tier: 'worker' })).output).toEqual({ count: 1 });
    } finally {
      await granted.close();
    }
  });
});

describe('same fixtures, same answers as the worker tier', () => {
  const cases: [string, unknown][] = [
    ['esc.counter', {}],
    ['esc.log', {}],
    ['esc.fail', {}],
    ['esc.not-json', {}],
    ['esc.exit-code', { args: ['3'], stdin: 'echo me' }],
    ['esc.probe', { args: ['a b'], env: { ONLY: 'this' } }],
    ['esc.hello', {}],
  ];
  for (const [id, input] of cases) {
    it(id, async () => {
      const inWorker = await outcome(rt, id, input, 'worker');
      const inProcess = await outcome(rt, id, input, 'process');
      expect(inProcess.tier).toBe('process');
      expect({ ...inProcess, tier: 'same' }).toEqual({ ...inWorker, tier: 'same' });
    });
  }

  it('a guest log from the process tier reaches the logger like one from a worker', async () => {
    logs.length = 0;
    await rt.run('esc.log', {}, { tier: 'process' });
    expect(logs).toEqual([{ level: 'info', message: 'hello from guest', capability: 'esc.log', source: 'log' }]);
  });

  it('a guest in the process tier sees no preopens and no host env', async () => {
    process.env.CAPSULE_TEST_SECRET = 'hunter2';
    try {
      const { output } = await rt.run<{ stdout: string }>('esc.probe', {}, { tier: 'process' });
      const seen = JSON.parse(output.stdout);
      expect(seen.preopens).toEqual([]);
      expect(seen.env).toEqual([]);
      expect(output.stdout).not.toContain('hunter2');
    } finally {
      delete process.env.CAPSULE_TEST_SECRET;
    }
  });
});

describe('how the process tier is chosen and built', () => {
  it('manifest isolation process runs there; opts.tier process (stronger) is always allowed', async () => {
    const a = await rt.run('esc.isolated', {});
    expect(a.stats.tier).toBe('process');
    expect(a.stats.tierDecision).toMatchObject({ tier: 'process', reason: 'the manifest asks for isolation process' });
    expect(a.stats.tierDecision.required).toBeUndefined();
    const b = await rt.run('esc.counter', {}, { tier: 'process' });
    expect(b.stats.tierDecision).toMatchObject({ tier: 'process', required: 'worker', reason: 'requested process' });
  });

  it.skipIf(!existsSync('/usr/bin/bwrap'))('uses bubblewrap where it works, and Node permission flags alone when told not to', async () => {
    const inBwrap = await rt.run('esc.counter', {}, { tier: 'process' });
    expect(inBwrap.stats.tierDecision.runner).toBe('bwrap+node-permissions');
    const flagsOnly = await plain.run('esc.counter', {}, { tier: 'process' });
    expect(flagsOnly.stats.tierDecision.runner).toBe('node-permissions');
    expect(flagsOnly.output).toEqual({ count: 1 });
  });
});

describe('limits in the process tier', () => {
  // The child's own fuel checks stop the guest at its deadline, or the parent kills the child: whichever comes first.
  it('TIMEOUT on an infinite loop: the guest is stopped (or the child killed), and the next call runs', async () => {
    for (const r of [rt, plain]) {
      const started = Date.now();
      const e = await r.run('esc.spin', {}, { tier: 'process' }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CapsuleError);
      expect((e as CapsuleError).code).toBe('TIMEOUT');
      expect((e as CapsuleError).message).toMatch(/no result within 300 ms; (its child process was killed|the guest was stopped)/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await r.run('esc.counter', {}, { tier: 'process' })).output).toEqual({ count: 1 });
    }
  });

  it('the worker tier gives TIMEOUT for the same fixture', async () => {
    const e = await rt.run('esc.spin', {}).catch((x: unknown) => x);
    expect((e as CapsuleError).code).toBe('TIMEOUT');
  });

  it('MEMORY_LIMIT when a guest traps at the linear-memory cap (the same fixture as the worker tier)', async () => {
    const e = await rt.run('esc.membomb', {}, { tier: 'process', memoryLimitBytes: 16 << 20 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CapsuleError);
    expect((e as CapsuleError).code).toBe('MEMORY_LIMIT');
    expect((e as CapsuleError).message).toMatch(/linear memory reached its limit of 16777216 bytes/);
  });

  it('linear memory stops growing at the call memory limit (V8 --wasm-max-mem-pages in the child)', async () => {
    for (const [limit, pages] of [
      [1 << 20, 16],
      [2 << 20, 32],
    ] as const) {
      const { output, stats } = await rt.run('esc.grow', {}, { tier: 'process', memoryLimitBytes: limit });
      expect(output).toEqual({ pages });
      expect(stats.memoryBytes).toBe(pages * 65536);
    }
  });

  it('MEMORY_LIMIT when a module needs more linear memory than the limit to start', async () => {
    // wordcount's memory starts at 2 pages; a 1-page limit cannot hold it.
    const e = await rt.run('esc.wordcount', { text: 'a' }, { tier: 'process', memoryLimitBytes: 65536 }).catch((x: unknown) => x);
    expect((e as CapsuleError).code).toBe('MEMORY_LIMIT');
    expect((await rt.run('esc.wordcount', { text: 'a b' }, { tier: 'process', memoryLimitBytes: 1 << 20 })).output).toMatchObject({ words: 2 });
  });

  it('closing the runtime kills its children', async () => {
    const own = await createRuntime({ capabilitiesDir: dir });
    const pending = own.run('esc.spin-long', {}, { tier: 'process' }).catch((x: unknown) => x);
    await new Promise((r) => setTimeout(r, 300));
    await own.close();
    expect(((await pending) as CapsuleError).code).toBe('ABORTED');
  });

  it('closing the runtime before the call reaches its runner: ABORTED, and no child is started after close', async () => {
    // Before: a call still loading or probing when close() ran made its runner afterwards
    // and started a child nobody would kill (it ran to its own time limit).
    const own = await createRuntime({ capabilitiesDir: dir });
    const pending = own.run('esc.spin-long', {}, { tier: 'process' }).catch((x: unknown) => x);
    await own.close();
    const e = (await pending) as CapsuleError;
    expect(e.code).toBe('ABORTED');
    expect(e.message).toMatch(/the runtime was closed before the call ran/);
  });

  it('ABORTED when the caller aborts: the child is killed', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const e = await rt.run('esc.spin-long', {}, { tier: 'process', signal: ac.signal }).catch((x: unknown) => x);
    expect((e as CapsuleError).code).toBe('ABORTED');
  });
});

describe('what a process-tier child can reach', () => {
  const probe = path.join(ROOT, 'test', 'probes', 'esc-escape.mjs');
  const tryEscape = async (sandbox: ProcessRunner, port: number) => {
    const bundle = tempDir('capsule-esc-bundle-');
    const { command, args } = sandbox.command(probe, [bundle], 64 << 20);
    const r = spawnSync(command, [...args, String(port)], { encoding: 'utf8', env: {}, timeout: 30_000 });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as Record<string, string | number>;
  };
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('Node permission flags alone: only its own directory and the bundle are readable; no writes, processes or workers', async () => {
    const r = await tryEscape(await ProcessRunner.create({ bwrap: 'off' }), port);
    expect(r).toMatchObject({ readOwnDir: 'allowed', readEtc: 'ERR_ACCESS_DENIED', readHome: 'ERR_ACCESS_DENIED' });
    expect(r).toMatchObject({ writeTmp: 'ERR_ACCESS_DENIED', spawn: 'ERR_ACCESS_DENIED', worker: 'ERR_ACCESS_DENIED', env: '' });
  });

  it.skipIf(!existsSync('/usr/bin/bwrap'))('in bubblewrap as well: no network, not even the host loopback', async () => {
    const runner = await ProcessRunner.create();
    expect(runner.sandbox.bwrap).toBeDefined();
    const r = await tryEscape(runner, port);
    expect(r).toMatchObject({ readOwnDir: 'allowed', readEtc: 'ERR_ACCESS_DENIED', writeTmp: 'ERR_ACCESS_DENIED', spawn: 'ERR_ACCESS_DENIED', env: 'PWD' }); // bwrap sets PWD=/ and nothing else
    expect(r.connect).toBe('ECONNREFUSED');
  });
});
