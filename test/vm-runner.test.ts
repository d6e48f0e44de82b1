// The VM runner: pure argv builders checked against the flags in APPLE_CONTAINER.md,
// Apple Container's system validation with a pretend host, and the runner's own
// behaviour (naming, timeouts, delete whatever happened) against a test double of
// the `container` / `docker` CLIs on PATH (test/fixtures-bin, clearly a double).
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../dist/index.js';
// Internals (not the package's API) come from src/; so does the CapsuleError their failures are.
import { CapsuleError } from '../src/errors.js';
import { appleDeleteArgv, appleRunArgv, type HostInfo, probeAppleContainer } from '../src/tiers/vm/apple-container.js';
import { ociDeleteArgv, ociRunArgv } from '../src/tiers/vm/oci.js';
import { signManifest } from '../src/registry/signature.js';
import { VmRunner } from '../src/tiers/vm/vm-tier.js';
import { type ContainerSpec, checkVmCpus } from '../src/tiers/vm/spec.js';
import { NO_GRANTS } from './component-job.js';
import { fixture, manifest, ROOT, tempDir, writeCapability } from './helpers.js';

const DOUBLES = path.join(ROOT, 'test', 'fixtures-bin');

/** An HTTP server on 127.0.0.1 that counts the requests it answers. */
async function loopbackServer(): Promise<{ server: http.Server; port: number; hits: number }> {
  const s = {
    server: http.createServer((_req, res) => {
      s.hits += 1;
      res.end('ok');
    }),
    port: 0,
    hits: 0,
  };
  await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', () => r()));
  s.port = (s.server.address() as AddressInfo).port;
  return s;
}
const JOB_RUNNER = path.join(ROOT, 'dist', 'job-runner.js');

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name: 'capsule-demo-echo-0001',
  image: 'capsule-runner',
  command: [],
  cpus: 1,
  memoryMiB: 512,
  mounts: [{ source: '/abs/bundle', target: '/capsule/bundle', readonly: true }],
  network: false,
  ...over,
});

describe('Apple container argv', () => {
  it('is the command in APPLE_CONTAINER.md', () => {
    expect(appleRunArgv(spec({ envFile: '/tmp/capsule-env-x/env', command: ['ARG1'] }))).toEqual([
      'run',
      '--rm',
      '-i',
      '--name',
      'capsule-demo-echo-0001',
      '--network',
      'none',
      '--no-dns',
      '--cpus',
      '1',
      '--memory',
      '512M',
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--mount',
      'type=bind,source=/abs/bundle,target=/capsule/bundle,readonly',
      '--env-file',
      '/tmp/capsule-env-x/env',
      'capsule-runner',
      'ARG1',
    ]);
    expect(appleDeleteArgv('capsule-demo-echo-0001')).toEqual(['delete', '--force', 'capsule-demo-echo-0001']);
  });

  it('never asks for less than 200 MiB, the least the API server accepts', () => {
    const argv = appleRunArgv(spec({ memoryMiB: 16 }));
    expect(argv[argv.indexOf('--memory') + 1]).toBe('200M');
  });

  it('--cpus as given (checked whole and bounded before); network only with a net grant', () => {
    const argv = appleRunArgv(spec({ cpus: 2, network: true }));
    expect(argv[argv.indexOf('--cpus') + 1]).toBe('2');
    expect(argv).not.toContain('--network');
    expect(argv).not.toContain('--no-dns');
  });

  it('a writable grant mount has no readonly option', () => {
    const argv = appleRunArgv(spec({ mounts: [{ source: '/srv/out', target: '/srv/out', readonly: false }] }));
    expect(argv).toContain('type=bind,source=/srv/out,target=/srv/out');
  });
});

describe('vm.cpus is bounded: at most 8, at most the host has, a whole number', () => {
  it('refuses more than 8, more than the host has, fractions and zero (USAGE)', () => {
    // Before: vm.cpus 64 reached --cpus 64, and 2.4 was silently rounded.
    expect(checkVmCpus(8, 16)).toBe(8);
    expect(checkVmCpus(undefined, 2)).toBeUndefined();
    expect(() => checkVmCpus(9, 16)).toThrow(/vm.cpus must be a whole number from 1 to 8 \(at most 8\), got 9/);
    expect(() => checkVmCpus(4, 2)).toThrow(/from 1 to 2 \(this host has 2\), got 4/);
    for (const bad of [2.4, 0, -1, Number.NaN, '2']) {
      const e = (() => {
        try {
          checkVmCpus(bad, 16);
        } catch (x) {
          return x;
        }
      })();
      expect(e).toBeInstanceOf(CapsuleError);
      expect((e as CapsuleError).code).toBe('USAGE');
    }
  });

  it('createRuntime refuses it up front, before any VM call', async () => {
    const e = await createRuntime({ capabilitiesDir: tempDir('capsule-esc-'), vm: { runner: 'docker', cpus: 64 } }).catch((x: unknown) => x);
    expect((e as CapsuleError).code).toBe('USAGE');
    expect((e as CapsuleError).message).toMatch(/vm.cpus must be a whole number from 1 to \d+ \(at most 8\), got 64/);
  });
});

describe('docker and podman argv', () => {
  it('docker takes --runtime after run; podman before it', () => {
    const d = ociRunArgv('docker', spec({ runtime: 'kata' }));
    expect(d.slice(0, 5)).toEqual(['run', '--rm', '-i', '--name', 'capsule-demo-echo-0001']);
    expect(d[d.indexOf('--runtime') + 1]).toBe('kata');
    const p = ociRunArgv('podman', spec({ runtime: 'runsc' }));
    expect(p.slice(0, 3)).toEqual(['--runtime', 'runsc', 'run']);
    expect(ociDeleteArgv('podman', 'n', 'runsc')).toEqual(['--runtime', 'runsc', 'rm', '-f', '-t', '0', 'n']);
    expect(ociDeleteArgv('docker', 'n')).toEqual(['rm', '-f', 'n']);
  });

  it('no network, no capabilities, read-only root, memory and cpus', () => {
    const d = ociRunArgv('docker', spec());
    for (const flag of [
      ['--network', 'none'],
      ['--cap-drop', 'ALL'],
      ['--memory', '512m'],
      ['--cpus', '1'],
    ] as const) {
      expect(d[d.indexOf(flag[0]) + 1]).toBe(flag[1]);
    }
    expect(d).toContain('--read-only');
    expect(d.at(-1)).toBe('capsule-runner');
  });

  it('--rootfs mode runs from a host root overlay instead of an image', () => {
    const p = ociRunArgv('podman', spec({ rootfs: '/', command: ['/usr/bin/node', '/x/job-runner.js'] }));
    expect(p.slice(-4)).toEqual(['--rootfs', '/:O', '/usr/bin/node', '/x/job-runner.js']);
    expect(p).not.toContain('capsule-runner');
  });
});

describe('Apple Container system validation', () => {
  const host = (platform: NodeJS.Platform, arch: string, macos?: string): HostInfo => ({
    platform,
    arch,
    macosVersion: async () => macos,
  });
  it('needs macOS 26 on Apple silicon', async () => {
    expect((await probeAppleContainer(host('linux', 'x64'))).reason).toBe('Apple Container needs macOS 26 on Apple silicon; this is Linux x86_64');
    expect((await probeAppleContainer(host('darwin', 'x64', '26.0'))).reason).toMatch(/this is macOS x86_64$/);
    const old = await probeAppleContainer(host('darwin', 'arm64', '15.5'));
    expect(old).toMatchObject({ available: false, reason: 'Apple Container needs macOS 26 on Apple silicon; this is macOS 15.5' });
  });

  it('then the CLI and a running system (checked with the test double)', async () => {
    const mac = host('darwin', 'arm64', '26.1');
    expect((await probeAppleContainer(mac, path.join(DOUBLES, 'nothing-here'))).reason).toMatch(/CLI not found/);
    process.env.CAPSULE_DOUBLE_STATUS = 'stopped';
    const stopped = await probeAppleContainer(mac, path.join(DOUBLES, 'container')).finally(() => {
      delete process.env.CAPSULE_DOUBLE_STATUS;
    });
    expect(stopped).toMatchObject({ available: false, version: '1.2.2' });
    expect(stopped.reason).toMatch(/container system start/);
    const ok = await probeAppleContainer(mac, path.join(DOUBLES, 'container'));
    expect(ok).toMatchObject({ available: true, version: '1.2.2' });
  });
});

describe('the runner against a CLI test double', () => {
  let logFile: string;
  const calls = (): { cli: string; argv: string[]; envFileMode?: string }[] =>
    readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  /** The run and the delete a container command makes, in that order. */
  const runAndDelete = () => {
    const [run, del] = calls();
    if (!run || !del) throw new Error('expected a run and a delete call');
    return [run, del] as const;
  };
  const nameIn = (argv: string[]) => argv[argv.indexOf('--name') + 1];
  const limits = { memoryBytes: 64 << 20, timeoutMs: 2_000, outputBytes: 1 << 20, inputBytes: 1 << 20 };
  const grants = { host: [], clocks: false, random: false, env: {}, fs: { preopens: [], read: [], write: [], blocked: [] }, net: [], netBlocked: [] };
  const call = (command: string[], stdin = '') => ({ capabilityId: 'esc.tool', image: 'alpine:3', command, input: { stdin }, grants, limits });
  const notes: string[] = [];
  const apple = (config = {}) =>
    new VmRunner({ kind: 'apple-container', command: path.join(DOUBLES, 'container') }, config, (id, note) => notes.push(`${id}: ${note}`));

  beforeAll(() => {
    logFile = path.join(tempDir('capsule-esc-double-'), 'calls.jsonl');
    process.env.CAPSULE_DOUBLE_LOG = logFile;
  });
  afterEach(() => {
    rmSync(logFile, { force: true });
    for (const k of ['RUN', 'DELETE', 'STATUS', 'VERSION', 'IMAGES', 'UNKNOWN', 'LOOSE']) delete process.env[`CAPSULE_DOUBLE_${k}`];
  });

  it('runs a container command: stdin in, stdout, stderr and exit code out; then deletes it by name', async () => {
    const r = apple();
    const out = await r.runCommand(call(['sh', '-c', 'cat; echo oops >&2; exit 3'], 'piped in'));
    expect(out).toEqual({ exitCode: 3, stdout: 'piped in', stderr: 'oops\n', denials: [] });
    const [run, del] = runAndDelete();
    expect(run.argv.slice(0, 4)).toEqual(['run', '--rm', '-i', '--name']);
    expect(nameIn(run.argv)).toMatch(/^capsule-esc-tool-[0-9a-f]{8}$/);
    expect(run.argv.slice(run.argv.indexOf('--memory'), run.argv.indexOf('--memory') + 2)).toEqual(['--memory', '200M']);
    expect(r.notes.at(-1)).toMatch(/memory 64 MiB raised to 200 MiB/);
    expect(notes.at(-1)).toBe('esc.tool: memory 64 MiB raised to 200 MiB, the least Apple Container accepts');
    // The command runs behind the handshake shell, which the double runs on the host as the image would.
    expect(run.argv.slice(run.argv.indexOf('--entrypoint'), run.argv.indexOf('--entrypoint') + 3)).toEqual(['--entrypoint', '/bin/sh', 'alpine:3']);
    expect(run.argv.slice(-4)).toEqual(['capsule-entry', 'sh', '-c', 'cat; echo oops >&2; exit 3']);
    expect(del.argv).toEqual(['delete', '--force', nameIn(run.argv)]);
  });

  it('a hanging `container run` is killed at its bound (TIMEOUT), and the container still deleted', async () => {
    process.env.CAPSULE_DOUBLE_RUN = 'hang';
    const started = Date.now();
    const e = await apple({ startTimeoutMs: 2_000 })
      .runCommand({ ...call(['true']), limits: { ...limits, timeoutMs: 200 } })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CapsuleError);
    expect((e as CapsuleError).code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000);
    const [run, del] = runAndDelete();
    expect((e as CapsuleError).message).toContain(`container ${nameIn(run.argv)} was killed`);
    expect(del.argv).toEqual(['delete', '--force', nameIn(run.argv)]);
  });

  it('a failing run still deletes; a hanging delete is bounded too', async () => {
    process.env.CAPSULE_DOUBLE_RUN = 'fail';
    process.env.CAPSULE_DOUBLE_DELETE = 'hang';
    const started = Date.now();
    const docker = new VmRunner({ kind: 'docker', command: path.join(DOUBLES, 'docker') }, { deleteTimeoutMs: 2_000 });
    const e = await docker.runCommand(call(['true'])).catch((x: unknown) => x);
    expect((e as CapsuleError).code).toBe('ESCALATION_UNAVAILABLE');
    expect((e as CapsuleError).message).toMatch(
      /docker could not start container capsule-esc-tool-[0-9a-f]{8}: Error: the docker test double was told to fail/,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    const [run, del] = runAndDelete();
    expect(del.argv).toEqual(['rm', '-f', nameIn(run.argv)]);
  });

  // Each way a real CLI fails before the command runs, as the double imitates it: the
  // call is ESCALATION_UNAVAILABLE with the CLI's own message, never the command's exit
  // code. Before the handshake, Apple's failures were `{ exitCode: 1 }` (and 64 for a
  // usage error), as if the command had failed.
  const startFailures: { name: string; env: Record<string, string>; cli: 'container' | 'docker'; says: RegExp }[] = [
    { name: 'missing image (Apple)', env: { CAPSULE_DOUBLE_IMAGES: '{}' }, cli: 'container', says: /image not found: alpine:3/ },
    { name: 'missing image (docker)', env: { CAPSULE_DOUBLE_IMAGES: '{}' }, cli: 'docker', says: /No such image: alpine:3/ },
    { name: 'unknown flag (docker)', env: { CAPSULE_DOUBLE_UNKNOWN: '--cap-drop' }, cli: 'docker', says: /unknown flag: --cap-drop/ },
    { name: 'CLI too old for --read-only (Apple 0.7.1)', env: { CAPSULE_DOUBLE_VERSION: '0.7.1' }, cli: 'container', says: /Unknown option '--read-only'/ },
    { name: 'API server down (Apple)', env: { CAPSULE_DOUBLE_STATUS: 'stopped' }, cli: 'container', says: /XPC connection error[\s\S]*container system start/ },
  ];
  for (const f of startFailures) {
    it(`a start failure is ESCALATION_UNAVAILABLE with the CLI's message: ${f.name}`, async () => {
      Object.assign(process.env, f.env);
      const kind = f.cli === 'container' ? 'apple-container' : 'docker';
      const r = new VmRunner({ kind, command: path.join(DOUBLES, f.cli) });
      const e = await r.runCommand(call(['sh', '-c', 'echo ran']), undefined).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CapsuleError);
      expect((e as CapsuleError).code).toBe('ESCALATION_UNAVAILABLE');
      expect((e as CapsuleError).message).toMatch(f.says);
      expect((e as CapsuleError).details).toMatchObject({ runner: kind, cliMessage: expect.stringMatching(f.says) });
      const [run, del] = runAndDelete();
      expect(del.argv).toContain(nameIn(run.argv));
    });
  }

  it("a command's own exit code is its answer, even the ones CLIs use for their failures (125, 64)", async () => {
    // Before: docker's exit 125 was taken for docker's own failure, so a command exiting 125 was reported as one.
    for (const code of [125, 64, 1]) {
      const out = await new VmRunner({ kind: 'docker', command: path.join(DOUBLES, 'docker') }).runCommand(call(['sh', '-c', `echo said >&2; exit ${code}`]));
      expect(out).toEqual({ exitCode: code, stdout: '', stderr: 'said\n', denials: [] });
    }
  });

  it('granted env values never reach the command line: a 0600 --env-file, deleted after the call', async () => {
    // Before: `-e KEY=VALUE`, readable by every user of the host in ps or /proc/PID/cmdline.
    const secret = 's3cret-value-for-the-test';
    const withEnv = { ...call(['sh', '-c', 'printf %s "$API_TOKEN|$FROM_INPUT"']), grants: { ...grants, env: { API_TOKEN: secret } } };
    const out = await apple().runCommand({ ...withEnv, input: { env: { FROM_INPUT: 'x y=z' } } });
    expect(out).toMatchObject({ exitCode: 0, stdout: `${secret}|x y=z` });
    const [run] = runAndDelete();
    expect(JSON.stringify(run.argv)).not.toContain(secret);
    expect(run.argv).not.toContain('-e');
    expect(run.envFileMode).toBe('600');
    const file = run.argv[run.argv.indexOf('--env-file') + 1] ?? '';
    expect(existsSync(file)).toBe(false);
    expect(existsSync(path.dirname(file))).toBe(false);
  });

  it('an env value an env file cannot carry (a line break) is refused, never cut, and nothing runs', async () => {
    const withEnv = { ...call(['true']), grants: { ...grants, env: { A: 'one\nB=two' } } };
    const e = await apple()
      .runCommand(withEnv)
      .catch((x: unknown) => x);
    expect((e as CapsuleError).code).toBe('INPUT_INVALID');
    expect((e as CapsuleError).message).toMatch(/env A holds a line break or NUL/);
    expect(existsSync(logFile)).toBe(false);
  });

  it('a file grant on an Apple CLI before 0.12.0 (single-file mounts said "Not a directory") is refused before the run', () => {
    const dir = tempDir('capsule-esc-file-');
    const file = path.join(dir, 'data.txt');
    writeFileSync(file, 'x');
    const fileGrant = { ...grants, fs: { ...grants.fs, read: [file] } };
    const dirGrant = { ...grants, fs: { ...grants.fs, read: [dir] } };
    const runner = (version: string) => new VmRunner({ kind: 'apple-container', command: path.join(DOUBLES, 'container'), version });
    for (const native of [true, false]) {
      expect(runner('0.11.0').cannotHonour({ grants: fileGrant, limits }, native)).toMatch(
        /a grant of a single file \(.*data\.txt\) is mounted as that file, which Apple container 0\.11\.0 cannot do before 0\.12\.0/,
      );
      expect(runner('0.11.0').cannotHonour({ grants: dirGrant, limits }, native)).toBeUndefined();
      expect(runner('1.2.2').cannotHonour({ grants: fileGrant, limits }, native)).toBeUndefined();
    }
    // docker has always mounted single files.
    expect(new VmRunner({ kind: 'docker', command: 'docker', version: '1.0.0' }).cannotHonour({ grants: fileGrant, limits }, true)).toBeUndefined();
  });

  describe('an image pinned by digest runs only when the local image holds that digest', () => {
    const digestOf = (name: string) => `sha256:${createHash('sha256').update(name).digest('hex')}`;
    const pinned = `alpine:3@${digestOf('alpine:3')}`;
    for (const [cli, kind] of [
      ['container', 'apple-container'],
      ['docker', 'docker'],
    ] as const) {
      it(`${kind}: present with that digest runs, after an image inspect`, async () => {
        const out = await new VmRunner({ kind, command: path.join(DOUBLES, cli) }).runCommand({ ...call(['sh', '-c', 'echo ok']), image: pinned });
        expect(out).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
        const [inspect, run] = calls();
        expect(inspect?.argv.slice(0, 2)).toEqual(['image', 'inspect']);
        expect(inspect?.argv.at(-1)).toBe(pinned);
        expect(run?.argv).toContain(pinned);
      });

      it(`${kind}: not present is ESCALATION_UNAVAILABLE (nothing is pulled), and nothing runs`, async () => {
        process.env.CAPSULE_DOUBLE_IMAGES = '{}';
        const e = await new VmRunner({ kind, command: path.join(DOUBLES, cli) }).runCommand({ ...call(['true']), image: pinned }).catch((x: unknown) => x);
        expect((e as CapsuleError).code).toBe('ESCALATION_UNAVAILABLE');
        expect((e as CapsuleError).message).toMatch(/image alpine:3@sha256:[0-9a-f]{64} is not present locally \(.*No such image|image not found/);
        expect(calls().filter((c) => c.argv.includes('run'))).toEqual([]);
      });

      it(`${kind}: a local image with another digest is DIGEST_MISMATCH, and nothing runs`, async () => {
        // The store answers for the name whatever the pin says: the runner compares the digest itself.
        process.env.CAPSULE_DOUBLE_LOOSE = '1';
        process.env.CAPSULE_DOUBLE_IMAGES = JSON.stringify({ 'alpine:3': digestOf('something else') });
        const e = await new VmRunner({ kind, command: path.join(DOUBLES, cli) }).runCommand({ ...call(['true']), image: pinned }).catch((x: unknown) => x);
        expect((e as CapsuleError).code).toBe('DIGEST_MISMATCH');
        expect((e as CapsuleError).message).toContain(`has digest ${digestOf('something else')}, not ${digestOf('alpine:3')}`);
        expect(calls().filter((c) => c.argv.includes('run'))).toEqual([]);
      });
    }
  });

  it('each call gets its own name', async () => {
    const r = apple();
    await r.runCommand(call(['true']));
    await r.runCommand(call(['true']));
    const names = calls()
      .filter((c) => c.argv[0] === 'run')
      .map((c) => nameIn(c.argv));
    expect(new Set(names).size).toBe(2);
  });
});

describe('the vm tier through a runtime, with the docker double as its runner', () => {
  let rt: Runtime;
  let logFile: string;
  const savedPath = process.env.PATH;
  beforeAll(async () => {
    process.env.PATH = `${DOUBLES}${path.delimiter}${savedPath}`;
    process.env.CAPSULE_DOUBLE_JOB_RUNNER = JOB_RUNNER;
    logFile = path.join(tempDir('capsule-esc-double-'), 'calls.jsonl');
    process.env.CAPSULE_DOUBLE_LOG = logFile;
    const dir = tempDir('capsule-esc-');
    writeCapability(dir, 'esc.full', manifest('esc.full', { securityLevel: 'full' }), fixture('counter'));
    writeCapability(dir, 'esc.spin', manifest('esc.spin', { securityLevel: 'full', limits: { timeoutMs: 300 } }), fixture('esc-spin'));
    writeCapability(dir, 'esc.tool', manifest('esc.tool', { runtime: 'container', world: 'command', container: { image: 'alpine:3', command: ['wc', '-w'] } }));
    // kata: a VM runtime, so this docker serves the vm tier (the double ignores it).
    rt = await createRuntime({ capabilitiesDir: dir, vm: { runner: 'docker', runtime: 'kata' } });
  });
  afterAll(async () => {
    process.env.PATH = savedPath;
    await rt.close();
  });

  it('a full capability runs through the job runner with its bundle mounted read-only, no network', async () => {
    const { output, stats } = await rt.run('esc.full', {});
    expect(output).toEqual({ count: 1 });
    expect(stats.tierDecision).toMatchObject({ tier: 'vm', runner: 'docker' });
    const run = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((c) => c.argv[0] === 'run');
    expect(run.argv[run.argv.indexOf('--network') + 1]).toBe('none');
    expect(run.argv.find((a: string) => a.startsWith('type=bind'))).toMatch(/^type=bind,source=\/.+,target=\/capsule\/bundle,readonly$/);
    // The image's entrypoint is node; the runner passes the limits and the job runner.
    expect(run.argv.slice(-4)).toEqual(['capsule-runner', '--max-old-space-size=128', '--wasm-max-mem-pages=2048', '/capsule/app/job-runner.js']);
  });

  it('TIMEOUT inside the vm tier kills the container run and deletes the container', async () => {
    rmSync(logFile, { force: true });
    const e = await rt.run('esc.spin', {}).catch((x: unknown) => x);
    expect((e as CapsuleError).code).toBe('TIMEOUT');
    const lines = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const name = lines[0].argv[lines[0].argv.indexOf('--name') + 1];
    expect(lines.at(-1).argv).toEqual(['rm', '-f', name]);
  });

  it('a wasm job whose container never starts (missing runner image) is ESCALATION_UNAVAILABLE with the CLI message', async () => {
    // Before: the job runner's silence was described as the guest's exit, INTERNAL.
    process.env.CAPSULE_DOUBLE_IMAGES = '{}';
    try {
      const e = await rt.run('esc.full', {}).catch((x: unknown) => x);
      expect((e as CapsuleError).code).toBe('ESCALATION_UNAVAILABLE');
      expect((e as CapsuleError).message).toMatch(
        /docker could not start container capsule-esc-full-[0-9a-f]{8}: docker: Error response from daemon: No such image: capsule-runner/,
      );
    } finally {
      delete process.env.CAPSULE_DOUBLE_IMAGES;
    }
  });

  it('a wasm job in an image that is not the job runner (no handshake, exit 0) is INTERNAL: a protocol break', async () => {
    process.env.CAPSULE_DOUBLE_RUN = 'not-runner';
    try {
      const e = await rt.run('esc.full', {}).catch((x: unknown) => x);
      expect((e as CapsuleError).code).toBe('INTERNAL');
      expect((e as CapsuleError).message).toMatch(/does not speak the job protocol: it exited 0 without its handshake, having written "hello from an image/);
    } finally {
      delete process.env.CAPSULE_DOUBLE_RUN;
    }
  });

  it('a container capability without container.command is MANIFEST_INVALID at load (the schema requires it: the command replaces the entrypoint)', async () => {
    const dir = tempDir('capsule-esc-');
    writeCapability(dir, 'esc.bare', manifest('esc.bare', { runtime: 'container', world: 'command', container: { image: 'alpine:3' } }));
    const bare = await createRuntime({ capabilitiesDir: dir, vm: { runner: 'docker', runtime: 'kata' } });
    try {
      const e = await bare.run('esc.bare', { stdin: '' }).catch((x: unknown) => x);
      expect((e as CapsuleError).code).toBe('MANIFEST_INVALID');
      expect((e as CapsuleError).message).toMatch(/esc\.bare\/capability\.json: missing field \/container\/command/);
    } finally {
      await bare.close();
    }
  });

  it('a container capability: command-world input and output', async () => {
    const { output, stats } = await rt.run('esc.tool', { stdin: 'one two three\n' });
    expect(output).toEqual({ exitCode: 0, stdout: expect.stringMatching(/^\s*3\s*$/), stderr: '' });
    expect(stats.tier).toBe('vm');
  });

  it('a container capability granted one host reaches it through the egress proxy, and nothing else', async () => {
    // Before: net grants were refused for every container (it would have reached the whole network).
    // The double runs the command on the host, so only the proxy's rules are checked here:
    // the network isolation itself is checked with real podman (vm-podman-egress.test.ts).
    rmSync(logFile, { force: true });
    const granted = await loopbackServer();
    const other = await loopbackServer();
    const servers = [granted, other];
    const dir = tempDir('capsule-esc-');
    const outbound = [`http://127.0.0.1:${granted.port}`];
    const fetchBoth = 'curl -s -o /dev/null -w "%{http_code} " "$1"; curl -s -o /dev/null -w "%{http_code}" "$2"';
    const netRt = await netTool(dir, outbound, ['sh', '-c', fetchBoth, 'fetch']);
    try {
      const args = [`http://127.0.0.1:${granted.port}/`, `http://127.0.0.1:${other.port}/`];
      const { output, denials } = await netRt.run<{ stdout: string }>('esc.net-tool', { args });
      expect(output.stdout).toBe('200 403');
      expect(granted.hits).toBe(1);
      expect(other.hits).toBe(0);
      expect(denials).toEqual([{ kind: 'net', target: `http://127.0.0.1:${other.port}/`, reason: 'host not granted' }]);
      const calls = readFileSync(logFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { argv: string[]; envFileMode?: string });
      expect(calls.map((c) => c.argv.slice(0, 2).join(' '))).toContain('network inspect');
      const run = calls.find((c) => c.argv[0] === 'run');
      expect(run?.argv.join(' ')).toContain('--network capsule-egress');
      // The proxy's secret travels in the 0600 env file, never on the command line.
      expect(run?.envFileMode).toBe('600');
      expect(run?.argv.join(' ')).not.toMatch(/capsule:[0-9a-f]+@/);
      // The network is found once per runner: the next call runs the container without asking again.
      rmSync(logFile, { force: true });
      expect((await netRt.run<{ stdout: string }>('esc.net-tool', { args })).output.stdout).toBe('200 403');
      const again = readFileSync(logFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { argv: string[] });
      expect(again.map((c) => c.argv[0])).not.toContain('network');
      expect(again.map((c) => c.argv[0])).toContain('run');
    } finally {
      await netRt.close();
      for (const s of servers) s.server.close();
    }
  });

  it('net grants with an egress network that is not internal, or cannot be made: ESCALATION_UNAVAILABLE, nothing run', async () => {
    const dir = tempDir('capsule-esc-');
    const netRt = await netTool(dir, ['https://api.example.com'], ['wc', '-w']);
    try {
      for (const [state, said] of [
        ['open', /network capsule-egress exists but is not --internal/],
        ['missing', /non-overlapping IPv4 address pool/],
      ] as const) {
        rmSync(logFile, { force: true });
        process.env.CAPSULE_DOUBLE_NETWORK = state;
        const e = await netRt.run('esc.net-tool', { stdin: 'a b\n' }).catch((x: unknown) => x);
        expect((e as CapsuleError).code).toBe('ESCALATION_UNAVAILABLE');
        expect((e as CapsuleError).message).toMatch(said);
        const calls = readFileSync(logFile, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { argv: string[] });
        expect(calls.filter((c) => c.argv[0] === 'run')).toEqual([]);
      }
    } finally {
      delete process.env.CAPSULE_DOUBLE_NETWORK;
      await netRt.close();
    }
  });

  it('Apple container still refuses net grants for a container capability: it has no internal network to hold it to the proxy', () => {
    const runner = new VmRunner({ kind: 'apple-container', command: 'container', version: '1.2.2' });
    const grants = { ...NO_GRANTS, net: ['https://api.example.com'] };
    const limits = { memoryBytes: 1 << 26, timeoutMs: 1000, outputBytes: 1 << 20, inputBytes: 1 << 20 };
    expect(runner.cannotHonour({ grants, limits }, true)).toMatch(
      /Apple container cannot limit a container to the granted hosts \(https:\/\/api\.example\.com\): it would reach the whole network/,
    );
    // A wasm job keeps capsule's WASI rules inside the VM: not refused.
    expect(runner.cannotHonour({ grants, limits }, false)).toBeUndefined();
  });

  it('a container capability with a CPU or fuel budget is refused up front: a container has no fuel checks', async () => {
    // Before: limits.cpuMs and limits.fuel reached the container runner and were ignored.
    rmSync(logFile, { force: true });
    for (const limits of [{ cpuMs: 50 }, { fuel: 1000 }]) {
      const e = await rt.run('esc.tool', { stdin: 'a b\n' }, limits).catch((x: unknown) => x);
      expect((e as CapsuleError).code).toBe('ESCALATION_UNAVAILABLE');
      expect((e as CapsuleError).message).toMatch(/a container cannot be held to a CPU or fuel budget \((cpuMs 50|fuel 1000)\)/);
    }
    const calls = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean) : [];
    expect(calls.map((l) => JSON.parse(l)).filter((c) => c.argv[0] === 'run')).toEqual([]);
  });

  it('a container capability run is audited like any other: run.start, then run.end', async () => {
    const auditLog = path.join(tempDir('capsule-esc-audit-'), 'audit.jsonl');
    const dir = tempDir('capsule-esc-');
    writeCapability(dir, 'esc.tool', manifest('esc.tool', { runtime: 'container', world: 'command', container: { image: 'alpine:3', command: ['wc', '-w'] } }));
    const audited = await createRuntime({ capabilitiesDir: dir, vm: { runner: 'docker' }, auditLog });
    try {
      await audited.run('esc.tool', { stdin: 'a b\n' });
    } finally {
      await audited.close();
    }
    const events = readFileSync(auditLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const runs = events.filter((e) => e.event === 'run.start' || e.event === 'run.end');
    expect(runs.map((e) => `${e.event} ${e.capability} ${e.outcome ?? ''}`.trim())).toEqual(['run.start esc.tool', 'run.end esc.tool ok']);
  });
});

describe('docker without a VM runtime is a plain container: labelled so, never standing in for a VM', () => {
  let rt: Runtime;
  const savedPath = process.env.PATH;
  beforeAll(async () => {
    process.env.PATH = `${DOUBLES}${path.delimiter}${savedPath}`;
    process.env.CAPSULE_DOUBLE_JOB_RUNNER = JOB_RUNNER;
    const dir = tempDir('capsule-esc-');
    writeCapability(dir, 'esc.full', manifest('esc.full', { securityLevel: 'full' }), fixture('counter'));
    writeCapability(dir, 'esc.isolated', manifest('esc.isolated', { isolation: 'vm' }), fixture('counter'));
    writeCapability(dir, 'esc.plain', manifest('esc.plain'), fixture('counter'));
    const tool = { runtime: 'container', world: 'command', container: { image: 'alpine:3', command: ['wc', '-w'] } };
    writeCapability(dir, 'esc.tool', manifest('esc.tool', tool));
    writeCapability(dir, 'esc.full-tool', manifest('esc.full-tool', { ...tool, securityLevel: 'full' }));
    rt = await createRuntime({ capabilitiesDir: dir, vm: { runner: 'docker' } });
  });
  afterAll(async () => {
    process.env.PATH = savedPath;
    await rt.close();
  });

  it('a capability that needs a VM (securityLevel full, isolation vm, a full container capability) is refused', async () => {
    // Before: vm.runner docker with runc ran them and reported tier vm.
    for (const id of ['esc.full', 'esc.isolated', 'esc.full-tool']) {
      const e = await rt.run(id, id === 'esc.full-tool' ? { stdin: 'a' } : {}).catch((x: unknown) => x);
      expect((e as CapsuleError).code).toBe('ESCALATION_UNAVAILABLE');
      expect((e as CapsuleError).message).toMatch(/docker without a VM runtime runs a plain container, not a VM \(set vm.runtime to kata, krun or runsc\)/);
    }
  });

  it('a container capability below full runs there, labelled a container', async () => {
    const { output, stats } = await rt.run('esc.tool', { stdin: 'one two\n' });
    expect(output).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^\s*2\s*$/) });
    expect(stats.tierDecision).toMatchObject({ tier: 'vm', runner: 'docker (container, not a VM)' });
  });

  it('a caller asking for tier vm for a capability that does not need it gets the container, labelled so', async () => {
    const { output, stats } = await rt.run('esc.plain', {}, { tier: 'vm' });
    expect(output).toEqual({ count: 1 });
    expect(stats.tierDecision).toMatchObject({ tier: 'vm', required: 'worker', runner: 'docker (container, not a VM)' });
  });
});

// A container capability has no component for a signature to cover: its image's pinned digest
// stands in. Before: container capabilities skipped the signature check altogether, so a policy
// requiring signatures for their level let an unsigned, unpinned image run.
describe('container capabilities and the policy requireSignature', () => {
  const savedPath = process.env.PATH;
  const digest = `sha256:${createHash('sha256').update('alpine:3').digest('hex')}`;
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
  const policy = { requireSignature: ['sandboxed' as const], trustedKeys: [{ id: 'alice', publicKey: `ed25519:${raw}` }] };
  const tool = (image: string) =>
    manifest('esc.tool', { runtime: 'container', world: 'command', securityLevel: 'sandboxed', container: { image, command: ['wc', '-w'] } });
  beforeAll(() => {
    process.env.PATH = `${DOUBLES}${path.delimiter}${savedPath}`;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
  });
  const runWith = async (m: Record<string, unknown>) => {
    const dir = tempDir('capsule-esc-sig-');
    writeCapability(dir, 'esc.tool', m);
    const rt = await createRuntime({ capabilitiesDir: dir, vm: { runner: 'docker' }, policy });
    try {
      return await rt.run('esc.tool', { stdin: 'a b c\n' });
    } finally {
      await rt.close();
    }
  };

  it('an unpinned image is refused: no signature could cover it', async () => {
    const e = await runWith(tool('alpine:3')).catch((x: unknown) => x);
    expect((e as CapsuleError).code).toBe('SIGNATURE_INVALID');
    expect((e as CapsuleError).message).toMatch(
      /the policy requires a signature for securityLevel sandboxed, but its image "alpine:3" is not pinned by digest/,
    );
  });

  it('a pinned image without a signature is refused; signed over the pinned digest, it runs', async () => {
    const pinned = tool(`alpine:3@${digest}`);
    const unsigned = await runWith(pinned).catch((x: unknown) => x);
    expect((unsigned as CapsuleError).code).toBe('SIGNATURE_INVALID');
    const signed = { ...pinned, signature: signManifest(pinned, digest, privateKey, 'alice') };
    const { output } = await runWith(signed);
    expect(output).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^\s*3\s*$/) });
    // Signed, then re-pointed at another image: the signature no longer verifies.
    const moved = { ...signed, container: { image: `alpine:3@sha256:${'0'.repeat(64)}`, command: ['wc', '-w'] } };
    expect(((await runWith(moved).catch((x: unknown) => x)) as CapsuleError).code).toBe('SIGNATURE_INVALID');
  });
});

/** A runtime (docker double) with `esc.net-tool`: a container capability granted `outbound`, running `command`. */
function netTool(dir: string, outbound: string[], command: string[]) {
  writeCapability(
    dir,
    'esc.net-tool',
    manifest('esc.net-tool', {
      runtime: 'container',
      world: 'command',
      securityLevel: 'sandboxed',
      permissions: { net: { outbound } },
      container: { image: 'alpine:3', command },
    }),
  );
  const policy = { grants: [{ capabilities: 'esc.net-tool', net: { outbound } }] };
  return createRuntime({ capabilitiesDir: dir, vm: { runner: 'docker' }, policy });
}
