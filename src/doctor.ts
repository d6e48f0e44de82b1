// `capsule doctor`: what this machine can run. Node and its permission model, each
// tier and why it is or is not usable, each runner's own probe (Apple Container's
// system validation: macOS >= 26, arm64, the CLI's version against every flag capsule
// passes, system status; docker/podman; bwrap). The vm tier is "usable" only when a
// run would start: a runner, and its runner image present locally.
import type { Tier } from './policy/tier.js';
import { APPLE_FLAG_SINCE, APPLE_SINGLE_FILE_MOUNTS, currentHost, type HostInfo, versionBelow } from './tiers/vm/apple-container.js';
import { EGRESS_NETWORK, ensureEgressNetwork } from './tiers/vm/egress-network.js';
import { buildCommand, inspectImage } from './tiers/vm/image.js';
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
  /** The VM runner's image, when a runner was found and it runs images (not `vm.rootfs`). */
  vmImage: { image: string; present: boolean; reason: string } | null;
  /** Apple `container` only: each flag capsule passes, the release that first had it, and whether this CLI has it. */
  vmFlags: { flag: string; since: string; supported: boolean }[];
  /**
   * Each usable runner: can a container capability with net grants run there (docker/podman:
   * the internal egress network exists or was just created, as a first such run would do)?
   */
  egress: { runner: VmRunnerKind; available: boolean; reason: string }[];
}

async function egressCheck(runner: { name: VmRunnerKind } & Probe, networkName = EGRESS_NETWORK): Promise<DoctorReport['egress'][number]> {
  if (runner.name === 'apple-container') {
    return {
      runner: 'apple-container',
      available: false,
      reason: 'net grants of container capabilities are refused: Apple container has no internal network to hold a container to the egress proxy',
    };
  }
  try {
    const net = await ensureEgressNetwork(runner.name, runner.path ?? runner.name, 15_000, networkName);
    return {
      runner: runner.name,
      available: true,
      reason: `network ${net.name} (internal, gateway ${net.gateway}): net grants go through capsule's egress proxy`,
    };
  } catch (e) {
    return { runner: runner.name, available: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

export async function doctor(opts: { vm?: VmOptions; process?: ProcessTierOptions } = {}, host: HostInfo = currentHost): Promise<DoctorReport> {
  const [vm, proc, macos] = await Promise.all([selectVm(opts.vm, host), probeProcessSandbox(opts.process), host.macosVersion()]);
  const runners: DoctorReport['runners'] = [];
  for (const kind of ['apple-container', 'docker', 'podman'] as const) {
    runners.push({ name: kind, ...(vm.probes[kind] ?? (await probeRunner(kind, host))) });
  }
  runners.push({ name: 'bwrap', ...proc.bwrap });
  let vmImage: DoctorReport['vmImage'] = null;
  if (vm.cli && !opts.vm?.rootfs) {
    const image = opts.vm?.image ?? 'capsule-runner';
    const local = await inspectImage(vm.cli, image);
    vmImage = {
      image,
      present: local.present,
      reason: local.present
        ? `${image} is present locally`
        : `${image} is not present locally (${local.message}); build it from the checkout: ${buildCommand(vm.cli.kind, image)}`,
    };
  }
  const appleVersion = vm.probes['apple-container']?.version;
  const vmFlags = appleVersion
    ? [...APPLE_FLAG_SINCE, { flag: 'single-file mounts (a file grant)', since: APPLE_SINGLE_FILE_MOUNTS }].map((f) => ({
        ...f,
        supported: !versionBelow(appleVersion, f.since),
      }))
    : [];
  const egress = await Promise.all(
    runners.filter((r): r is { name: VmRunnerKind } & Probe => r.available && r.name !== 'bwrap').map((r) => egressCheck(r, opts.vm?.egressNetwork)),
  );
  const vmUsable = vm.cli !== undefined && (vmImage?.present ?? true);
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
      {
        tier: 'vm',
        available: vmUsable,
        runner: vm.cli?.kind ?? 'none',
        reason: vmImage && !vmImage.present ? `${vm.reason}; but ${vmImage.reason}` : vm.reason,
      },
    ],
    runners,
    vmImage,
    vmFlags,
    egress,
  };
}
