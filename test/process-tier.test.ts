// The process tier runs the job protocol end to end (dist/job-runner.js in a child
// process, under bubblewrap where it works): the same fixtures give the same answers
// as in the worker tier, and the limits hold.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapsuleError, type CommandOutput, createRuntime, type Runtime } from '../dist/index.js';
import type { FsGrant } from '../src/grants/fs.js';
import { childFs } from '../src/tiers/process/fs-grant.js';
import { ProcessRunner } from '../src/tiers/process/process-tier.js';
import { corpus, failure, fixture, manifest, ROOT, tempDir, writeCapability } from './helpers.js';

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

describe('grants are honoured in the process tier', () => {
  // Before: such a call was refused (ESCALATION_UNAVAILABLE "the process tier cannot honour
  // fs grants"), since inside the child a granted read failed and a fetch had no network.
  let caps: string;
  let data: string;
  let server: http.Server;
  let base: string;
  let granted: Runtime;
  let grantedFlagsOnly: Runtime;
  beforeAll(async () => {
    caps = tempDir('capsule-esc-grants-');
    data = tempDir('capsule-esc-data-');
    writeFileSync(path.join(data, 'a.txt'), 'granted');
    server = http.createServer((req, res) => res.end(`hello ${req.url}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const permissions = { fs: { read: [data] }, net: { outbound: [base] }, env: ['ESC_GRANTED'] };
    writeCapability(caps, 'esc.fs', manifest('esc.fs', { world: 'command', securityLevel: 'sandboxed', permissions }), fixture('attack-fs'));
    writeCapability(caps, 'esc.net', manifest('esc.net', { securityLevel: 'sandboxed', permissions }), fixture('attack-net'));
    const policy = { grants: [{ capabilities: 'esc.*', fs: { read: [data] }, net: { outbound: [base] }, env: ['ESC_GRANTED'] }] };
    process.env.ESC_GRANTED = 'visible';
    granted = await createRuntime({ capabilitiesDir: caps, policy });
    grantedFlagsOnly = await createRuntime({ capabilitiesDir: caps, policy, process: { bwrap: 'off' } });
  });
  afterAll(async () => {
    delete process.env.ESC_GRANTED;
    await granted.close();
    await grantedFlagsOnly.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const each = () =>
    [
      ['bubblewrap where it works', granted],
      ['Node permission flags only', grantedFlagsOnly],
    ] as const;

  it('a granted read and the granted env variable work, with and without bubblewrap', async () => {
    for (const [how, r] of each()) {
      const { output, stats } = await r.run<CommandOutput>('esc.fs', { args: ['read', `${data}/a.txt`, 'env', 'ESC_GRANTED'] }, { tier: 'process' });
      expect(stats.tier, how).toBe('process');
      expect(output.stdout, how).toBe(`read ${data}/a.txt ok granted\nenv ESC_GRANTED ok visible\n`);
    }
  });

  it('a granted fetch (server on 127.0.0.1) works through the parent, with and without bubblewrap', async () => {
    for (const [how, r] of each()) {
      const { output, stats } = await r.run('esc.net', { url: `${base}/hi` }, { tier: 'process' });
      expect(stats.tier, how).toBe('process');
      expect(output, how).toEqual({ status: 200, body: 'hello /hi', bytes: 9 });
    }
  });

  it('a granted path that resolves to a name with `*` (a wildcard to Node) is refused, not widened', async () => {
    const real = path.join(data, 'st*r');
    mkdirSync(real);
    const link = path.join(data, 'star-link');
    symlinkSync(real, link);
    const id = 'esc.star';
    const own = tempDir('capsule-esc-star-');
    writeCapability(own, id, manifest(id, { world: 'command', securityLevel: 'sandboxed', permissions: { fs: { read: [link] } } }), fixture('attack-fs'));
    const r = await createRuntime({ capabilitiesDir: own, policy: { grants: [{ capabilities: id, fs: { read: [link] } }] } });
    try {
      const e = await failure(r.run(id, { args: ['ls', link] }, { tier: 'process' }));
      expect(e.code).toBe('ESCALATION_UNAVAILABLE');
      expect(e.message).toMatch(/cannot pass .*st\*r.* to Node's permission model/);
      expect((await r.run<CommandOutput>(id, { args: ['ls', link] }, { tier: 'worker' })).output.stdout).toBe(`ls ${link} ok \n`);
    } finally {
      await r.close();
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

  it("with neither bubblewrap nor a permission model, fs and net grants are refused (the child would hold the host's whole disk and network)", () => {
    const bare = new ProcessRunner({ notes: [] });
    const fs: FsGrant = { preopens: ['/tmp'], read: ['/tmp'], write: [], blocked: [] };
    const grants = { host: [], clocks: false, random: false, env: {}, fs: { preopens: [], read: [], write: [], blocked: [] }, net: [], netBlocked: [] };
    expect(bare.cannotHonour({ grants })).toBeUndefined();
    expect(bare.cannotHonour({ grants: { ...grants, fs } })).toMatch(/neither bubblewrap nor Node's permission model.*the fs grant/);
    expect(bare.cannotHonour({ grants: { ...grants, net: ['http://127.0.0.1:1'] } })).toMatch(/the net grant/);
    // Either layer alone confines them.
    expect(new ProcessRunner({ notes: [], permission: '--permission' }).cannotHonour({ grants: { ...grants, fs } })).toBeUndefined();
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

describe('what the outer layers alone let through for a call with fs grants', () => {
  // capsule's WASI refuses all of these first; this is what is left if it did not.
  const probe = path.join(ROOT, 'test', 'probes', 'grant-layers.mjs');
  let t: string;
  let grant: FsGrant;
  let bundle: string;
  beforeAll(() => {
    t = tempDir('capsule-esc-layers-');
    for (const d of ['ro', 'rw/secret', 'rw/cache/bundle', 'files', 'outside']) mkdirSync(path.join(t, d), { recursive: true });
    for (const f of ['ro/r.txt', 'rw/w.txt', 'rw/.bashrc', 'rw/secret/key', 'rw/cache/bundle/glue.js', 'files/one.txt', 'files/two.txt', 'outside/o.txt']) {
      writeFileSync(path.join(t, f), 'ORIGINAL');
    }
    const at = (p: string) => path.join(t, p);
    bundle = at('rw/cache/bundle');
    grant = {
      preopens: [at('ro'), at('rw'), at('files')],
      read: [at('ro'), at('files/one.txt')],
      write: [at('rw')],
      blocked: [],
      blockedPaths: [at('rw/secret'), at('rw/cache')],
      readOnlyPaths: [at('rw/.bashrc')],
    };
  });
  const attempts = () =>
    [
      ['read', 'ro/r.txt'],
      ['write', 'ro/new'],
      ['read', 'files/one.txt'],
      ['read', 'files/two.txt'],
      ['write', 'rw/new'],
      ['write', 'rw/.bashrc'],
      ['read', 'rw/secret/key'],
      ['write', 'rw/cache/bundle/glue.js'],
      ['read', 'outside/o.txt'],
      ['read', '/etc/hostname'],
    ].map(([op, p]) => [op, path.isAbsolute(p as string) ? p : path.join(t, p as string)]);
  const run = (runner: ProcessRunner) => {
    const { command, args } = runner.command(probe, [bundle], 64 << 20, childFs(grant));
    const r = spawnSync(command, [...args, JSON.stringify(attempts())], { encoding: 'utf8', env: {}, timeout: 30_000 });
    expect(r.stderr).toBe('');
    const seen = JSON.parse(r.stdout) as Record<string, string>;
    return (op: string, p: string) => seen[`${op} ${path.isAbsolute(p) ? p : path.join(t, p)}`];
  };
  const unchanged = () => {
    for (const f of ['rw/.bashrc', 'rw/cache/bundle/glue.js']) expect(readFileSync(path.join(t, f), 'utf8'), f).toBe('ORIGINAL');
    expect(existsSync(path.join(t, 'ro/new'))).toBe(false);
  };

  it.skipIf(!existsSync('/usr/bin/bwrap'))(
    'bubblewrap binds exactly the granted paths: read-only ones, protected files and the bundle cannot be written, blocked ones are not there',
    async () => {
      const seen = run(await ProcessRunner.create());
      expect(seen('read', 'ro/r.txt')).toBe('allowed');
      expect(seen('write', 'ro/new')).toMatch(/EROFS|ERR_ACCESS_DENIED/);
      expect(seen('read', 'files/one.txt')).toBe('allowed');
      expect(seen('read', 'files/two.txt')).toBe('ENOENT'); // a granted file's neighbour is not bound
      expect(seen('write', 'rw/new')).toBe('allowed');
      expect(seen('write', 'rw/.bashrc')).toBe('EROFS');
      expect(seen('read', 'rw/secret/key')).toBe('ENOENT'); // an empty directory in its place
      expect(seen('write', 'rw/cache/bundle/glue.js')).toBe('EROFS');
      expect(seen('read', 'outside/o.txt')).toMatch(/ENOENT|ERR_ACCESS_DENIED/);
      expect(seen('read', '/etc/hostname')).toMatch(/ENOENT|ERR_ACCESS_DENIED/);
      unchanged();
    },
  );

  it('Node permission flags alone: reads and writes only inside the granted paths (finer rules are the WASI’s)', async () => {
    const seen = run(await ProcessRunner.create({ bwrap: 'off' }));
    expect(seen('read', 'ro/r.txt')).toBe('allowed');
    expect(seen('write', 'ro/new')).toBe('ERR_ACCESS_DENIED');
    expect(seen('write', 'rw/new')).toBe('allowed');
    expect(seen('read', 'outside/o.txt')).toBe('ERR_ACCESS_DENIED');
    expect(seen('read', '/etc/hostname')).toBe('ERR_ACCESS_DENIED');
    // Node's flags cannot carve a path out of a grant: here only capsule's WASI (tested by the attack suites) stands.
    expect(seen('read', 'files/two.txt')).toBe('allowed');
    expect(seen('write', 'rw/.bashrc')).toBe('allowed');
    writeFileSync(path.join(t, 'rw/.bashrc'), 'ORIGINAL');
    writeFileSync(path.join(t, 'rw/cache/bundle/glue.js'), 'ORIGINAL');
  });
});
