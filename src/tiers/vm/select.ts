// Which VM runner serves the vm tier, from RuntimeOptions.vm: `auto` takes Apple
// Container when its probe passes, else docker/podman only when a VM runtime is
// configured (a plain runc container is not a VM); `off` never runs the vm tier.
import type { Probe } from '../probe.js';
import { currentHost, type HostInfo, probeAppleContainer } from './apple-container.js';
import { probeOci, VM_RUNTIMES } from './oci.js';
import type { ContainerCli, VmConfig, VmRunnerKind } from './vm-tier.js';

export interface VmOptions extends VmConfig {
  runner?: 'auto' | VmRunnerKind | 'off';
}

export interface VmSelection {
  cli?: ContainerCli;
  /** Why this runner, or why none: one line for errors, inspect and doctor. */
  reason: string;
  probes: Partial<Record<VmRunnerKind, Probe>>;
}

export async function probeRunner(kind: VmRunnerKind, host: HostInfo = currentHost): Promise<Probe> {
  return kind === 'apple-container' ? probeAppleContainer(host) : probeOci(kind);
}

export async function selectVm(o: VmOptions = {}, host: HostInfo = currentHost): Promise<VmSelection> {
  const wanted = o.runner ?? 'auto';
  if (wanted === 'off') return { reason: 'the VM tier is off (vm.runner: off)', probes: {} };
  if (wanted !== 'auto') {
    const probe = await probeRunner(wanted, host);
    // docker/podman are a VM only behind a VM runtime; asked for by name without one, they run plain containers.
    const isolation: ContainerCli['isolation'] =
      wanted === 'apple-container' || (o.runtime !== undefined && VM_RUNTIMES.includes(o.runtime)) ? 'vm' : 'container';
    const cli = probe.available ? { kind: wanted, command: probe.path ?? wanted, version: probe.version, isolation } : undefined;
    return { cli, reason: probe.available ? probe.reason : `no VM runner is usable here: ${probe.reason}`, probes: { [wanted]: probe } };
  }
  const apple = await probeAppleContainer(host);
  if (apple.available) {
    return {
      cli: { kind: 'apple-container', command: apple.path ?? 'container', version: apple.version },
      reason: apple.reason,
      probes: { 'apple-container': apple },
    };
  }
  if (o.runtime && VM_RUNTIMES.includes(o.runtime)) {
    const probes: VmSelection['probes'] = { 'apple-container': apple };
    for (const kind of ['docker', 'podman'] as const) {
      const p = await probeOci(kind);
      probes[kind] = p;
      if (p.available) return { cli: { kind, command: p.path ?? kind, version: p.version }, reason: `${p.reason}, runtime ${o.runtime}`, probes };
    }
    return { reason: `no VM runner is usable here: ${apple.reason}; neither docker nor podman can run containers here`, probes };
  }
  return {
    reason: `no VM runner is usable here: ${apple.reason} (docker/podman are used only with a VM runtime: vm.runtime kata, runsc or krun)`,
    probes: { 'apple-container': apple },
  };
}
