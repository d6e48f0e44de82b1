// The OCI path for real, where podman can run containers (FACTS.md: podman 4.3 with
// runc and a host-root overlay, `--rootfs /:O`, since no registry is reachable). This
// is a container, not a VM; it checks the runner's real CLI use: argv, stdin/stdout
// protocol, limits and cleanup. Skipped where podman is not usable. A plain container
// never stands in for a VM, so the wasm capabilities here ask for tier vm themselves
// (the caller's choice, labelled a container) rather than being securityLevel full.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapsuleError, createRuntime, type Runtime } from '../dist/index.js';
import { probeOci } from '../src/tiers/vm/oci.js';
import { fixture, manifest, tempDir, writeCapability } from './helpers.js';

const podman = await probeOci('podman');
const VM = { tier: 'vm' as const };

describe.skipIf(!podman.available)(`podman --rootfs (${podman.reason})`, () => {
  let rt: Runtime;
  beforeAll(async () => {
    const dir = tempDir('capsule-esc-');
    const policy = { grants: [{ capabilities: 'esc.*', host: ['capsule:host/log'] }] };
    writeCapability(dir, 'esc.full', manifest('esc.full'), fixture('counter'));
    writeCapability(dir, 'esc.wc', manifest('esc.wc', { world: 'command' }), fixture('exit-code'));
    writeCapability(dir, 'esc.spin', manifest('esc.spin', { limits: { timeoutMs: 500 } }), fixture('esc-spin'));
    writeCapability(dir, 'esc.membomb', manifest('esc.membomb'), fixture('membomb-trap'));
    writeCapability(dir, 'esc.grow', manifest('esc.grow'), fixture('esc-grow'));
    writeCapability(
      dir,
      'esc.tool',
      manifest('esc.tool', {
        runtime: 'container',
        world: 'command',
        container: { image: 'ignored-in-rootfs-mode', command: ['sh', '-c', 'wc -w; id -u; cat /proc/net/dev | wc -l'] },
      }),
    );
    rt = await createRuntime({ capabilitiesDir: dir, policy, vm: { runner: 'podman', runtime: 'runc', rootfs: '/' } });
  });
  afterAll(() => rt.close());

  const ours = () =>
    execFileSync('podman', ['ps', '-a', '--format', '{{.Names}}'], { encoding: 'utf8' })
      .split('\n')
      .filter((n) => n.startsWith('capsule-esc-'));

  it('a full capability runs in the container through the job protocol', async () => {
    const { output, stats } = await rt.run('esc.full', {}, VM);
    expect(output).toEqual({ count: 1 });
    expect(stats.tierDecision).toMatchObject({ tier: 'vm', runner: 'podman (container, not a VM)' });
    const cmd = await rt.run('esc.wc', { args: ['4'], stdin: 'in' }, VM);
    expect(cmd.output).toEqual({ exitCode: 4, stdout: 'in', stderr: 'bye\n' });
  });

  it('a container capability: stdin in, stdout out, no network (only lo)', async () => {
    const { output } = await rt.run<{ exitCode: number; stdout: string }>('esc.tool', { stdin: 'a b c\n' });
    expect(output.exitCode).toBe(0);
    // wc -w, then the uid, then /proc/net/dev: two header lines and lo only.
    expect(
      output.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim()),
    ).toEqual(['3', '0', '3']);
  });

  it('TIMEOUT kills the container, and no container is left behind', async () => {
    const e = await rt.run('esc.spin', {}, VM).catch((x: unknown) => x);
    expect((e as CapsuleError).code).toBe('TIMEOUT');
    expect(ours()).toEqual([]);
  });

  it('linear memory stops at the call memory limit inside the container', async () => {
    const { output } = await rt.run('esc.grow', {}, { ...VM, memoryLimitBytes: 1 << 20 });
    expect(output).toEqual({ pages: 16 });
  });

  it('MEMORY_LIMIT at the linear-memory cap inside the container', async () => {
    const e = await rt.run('esc.membomb', {}, { ...VM, memoryLimitBytes: 16 << 20, timeoutMs: 30_000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CapsuleError);
    expect((e as CapsuleError).code).toBe('MEMORY_LIMIT');
  });
});
