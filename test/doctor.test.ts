// `capsule doctor`: what this machine can run, and why not.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
    expect(docker).toMatchObject({ available: true, version: '0.0.0-double', path: path.join(doubles, 'docker') });
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
