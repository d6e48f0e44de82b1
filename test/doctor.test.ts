// `capsule doctor`: what this machine can run, and why not.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doctor } from '../src/doctor.js';
import type { HostInfo } from '../src/tiers/vm/apple-container.js';
import { cli, ROOT, STACK_TRACE } from './helpers.js';

const onLinux = process.platform === 'linux';

describe('capsule doctor', () => {
  it('--json: Node, every tier and every runner with a reason', () => {
    const r = cli(['doctor', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.node.version).toBe(process.version);
    expect(report.tiers.map((t: { tier: string }) => t.tier)).toEqual(['inline', 'worker', 'process', 'vm']);
    expect(report.runners.map((p: { name: string }) => p.name)).toEqual(['apple-container', 'docker', 'podman', 'bwrap']);
    for (const entry of [...report.tiers, ...report.runners]) expect(entry.reason).toMatch(/\w/);
    const process_ = report.tiers.find((t: { tier: string }) => t.tier === 'process');
    expect(process_.available).toBe(true);
    const bwrap = report.runners.find((p: { name: string }) => p.name === 'bwrap');
    expect(process_.runner).toBe(bwrap.available ? 'child process in bubblewrap' : 'child process');
    if (onLinux) {
      const vm = report.tiers.find((t: { tier: string }) => t.tier === 'vm');
      expect(vm.available).toBe(false);
      expect(vm.reason).toMatch(/Apple Container needs macOS 26 on Apple silicon; this is Linux/);
    }
  });

  it.skipIf(!existsSync('/usr/bin/bwrap'))('finds bubblewrap where it is installed', () => {
    const report = JSON.parse(cli(['doctor', '--json']).stdout);
    expect(report.runners.find((p: { name: string }) => p.name === 'bwrap')).toMatchObject({ available: true, path: '/usr/bin/bwrap' });
  });

  it('probes the docker CLI it finds on PATH (here: the test double)', () => {
    const doubles = path.join(ROOT, 'test', 'fixtures-bin');
    const r = cli(['doctor', '--json'], { env: { PATH: `${doubles}${path.delimiter}${process.env.PATH}` } });
    const docker = JSON.parse(r.stdout).runners.find((p: { name: string }) => p.name === 'docker');
    expect(docker).toMatchObject({ available: true, version: '28.2.2', path: path.join(doubles, 'docker') });
    // The double's egress network is internal, its gateway 127.0.0.1.
    const egress = JSON.parse(r.stdout).egress.find((e: { runner: string }) => e.runner === 'docker');
    expect(egress).toEqual({ runner: 'docker', available: true, reason: expect.stringMatching(/network capsule-egress \(internal, gateway 127\.0\.0\.1\)/) });
  });

  it('reports an egress network that is not internal as not usable, with why', () => {
    const doubles = path.join(ROOT, 'test', 'fixtures-bin');
    const env = { PATH: `${doubles}${path.delimiter}${process.env.PATH}`, CAPSULE_DOUBLE_NETWORK: 'open' };
    const r = cli(['doctor'], { env });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/EGRESS \(net grants of containers\)\s+USABLE\s+WHY/);
    expect(r.stdout).toMatch(/docker\s+no\s+docker: no egress network for net grants: network capsule-egress exists but is not --internal/);
  });

  it('a human table by default', () => {
    const r = cli(['doctor']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^node\s+v\d+/);
    expect(r.stdout).toMatch(/TIER\s+USABLE\s+RUNNER\s+WHY/);
    expect(r.stdout).toMatch(/RUNNER\s+USABLE\s+VERSION\s+WHY/);
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });
});

// Apple Container on a pretend macOS 26 host, with the `container` test double on PATH:
// each way a first run would fail is reported, and the vm tier is usable only when a run would start.
describe('capsule doctor: would a VM run start? (against the CLI test double)', () => {
  const mac: HostInfo = { platform: 'darwin', arch: 'arm64', macosVersion: async () => '26.1' };
  const doubles = path.join(ROOT, 'test', 'fixtures-bin');
  const savedPath = process.env.PATH;
  beforeEach(() => {
    process.env.PATH = `${doubles}${path.delimiter}${savedPath}`;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    for (const k of ['STATUS', 'VERSION', 'IMAGES', 'NETWORK']) delete process.env[`CAPSULE_DOUBLE_${k}`];
  });
  const vmTier = (r: Awaited<ReturnType<typeof doctor>>) => r.tiers.find((t) => t.tier === 'vm');
  const apple = (r: Awaited<ReturnType<typeof doctor>>) => r.runners.find((p) => p.name === 'apple-container');

  it('all there: CLI new enough, system running, runner image present', async () => {
    const r = await doctor({}, mac);
    expect(vmTier(r)).toMatchObject({ available: true, runner: 'apple-container' });
    expect(r.vmImage).toMatchObject({ image: 'capsule-runner', present: true });
    expect(r.egress).toContainEqual({ runner: 'apple-container', available: false, reason: expect.stringMatching(/Apple container has no internal network/) });
    expect(r.vmFlags.every((f) => f.supported)).toBe(true);
  });

  it('a CLI older than a flag capsule passes (0.7.1 lacks --read-only): not usable, naming the flag and release', async () => {
    process.env.CAPSULE_DOUBLE_VERSION = '0.7.1';
    const r = await doctor({}, mac);
    expect(apple(r)).toMatchObject({ available: false, version: '0.7.1' });
    expect(apple(r)?.reason).toMatch(/container 0\.7\.1 is older than 0\.8\.0: it lacks --read-only \(0\.8\.0\)/);
    expect(vmTier(r)?.available).toBe(false);
    expect(r.vmFlags.filter((f) => !f.supported).map((f) => f.flag)).toEqual(['--read-only', 'single-file mounts (a file grant)']);
    process.env.CAPSULE_DOUBLE_VERSION = '0.5.0';
    expect(apple(await doctor({}, mac))?.reason).toMatch(/--network none \(0\.6\.0\), --read-only \(0\.8\.0\)/);
  });

  it('the API server down: not usable, with the command that starts it', async () => {
    process.env.CAPSULE_DOUBLE_STATUS = 'stopped';
    const r = await doctor({}, mac);
    expect(vmTier(r)?.available).toBe(false);
    expect(vmTier(r)?.reason).toMatch(/container system status: exit 1; the API server is not running \(run: container system start\)/);
  });

  it('the runner image missing: not usable, with the command that builds it and the CLI message', async () => {
    process.env.CAPSULE_DOUBLE_IMAGES = '{}';
    const r = await doctor({}, mac);
    expect(vmTier(r)?.available).toBe(false);
    expect(r.vmImage).toMatchObject({ present: false });
    expect(vmTier(r)?.reason).toMatch(
      /capsule-runner is not present locally \(Error: notFound: "image not found: capsule-runner"\); build it from the checkout: container build -t capsule-runner -f Containerfile \./,
    );
  });
});
