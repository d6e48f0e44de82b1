// `capsule doctor`: what this machine can run. Node and its permission model, each
// tier and why it is or is not usable, each runner's own probe (Apple Container's
// system validation: macOS >= 26, arm64, CLI, system status; docker/podman; bwrap).
import type { Tier } from './policy/tier.js';
import { currentHost, type HostInfo } from './tiers/vm/apple-container.js';
import { hostName, type Probe } from './tiers/probe.js';
import { permissionFlag } from './tiers/process/node-flags.js';
import { type ProcessTierOptions, probeProcessSandbox } from './tiers/process/process-tier.js';
import { probeRunner, selectVm, type VmOptions } from './tiers/vm/select.js';
import type { VmRunnerKind } from './tiers/vm/vm-tier.js';

export interface DoctorReport {
  node: { version: string; permissionFlag: string | null };
  host: { platform: string; arch: string; name: string; macosVersion: string | null };
  tiers: { tier: Tier; available: boolean; runner: string; reason: string }[];
  runners: ({ name: VmRunnerKind | 'bwrap' } & Probe)[];
}

export async function doctor(opts: { vm?: VmOptions; process?: ProcessTierOptions } = {}, host: HostInfo = currentHost): Promise<DoctorReport> {
  const [vm, proc, macos] = await Promise.all([selectVm(opts.vm, host), probeProcessSandbox(opts.process), host.macosVersion()]);
  const runners: DoctorReport['runners'] = [];
  for (const kind of ['apple-container', 'docker', 'podman'] as const) {
    runners.push({ name: kind, ...(vm.probes[kind] ?? (await probeRunner(kind, host))) });
  }
  runners.push({ name: 'bwrap', ...proc.bwrap });
  const perm = permissionFlag();
  return {
    node: { version: process.version, permissionFlag: perm ?? null },
    host: { platform: host.platform, arch: host.arch, name: hostName(host.platform, host.arch), macosVersion: macos ?? null },
    tiers: [
      { tier: 'inline', available: true, runner: 'calling thread', reason: 'no isolation beyond wasm; only where a policy grant names it' },
      { tier: 'worker', available: true, runner: 'worker threads', reason: 'the default tier' },
      {
        tier: 'process',
        available: true,
        runner: proc.sandbox.bwrap ? 'child process in bubblewrap' : 'child process',
        reason: proc.sandbox.notes.join('; '),
      },
      { tier: 'vm', available: vm.cli !== undefined, runner: vm.cli?.kind ?? 'none', reason: vm.reason },
    ],
    runners,
  };
}
