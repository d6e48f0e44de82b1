// docker and podman: the same runner through an OCI CLI, with an optional
// --runtime naming a VM-backed runtime (kata, krun) or gVisor (runsc). Without
// one it is a container, not a VM: `auto` never picks it then.
import { runBounded } from '../exec.js';
import type { Probe } from '../probe.js';
import { which } from '../which.js';
import type { ContainerSpec } from './spec.js';

export type OciCli = 'docker' | 'podman';

/** Runtimes that put each container behind a VM (kata, krun) or a user-space kernel (runsc). */
export const VM_RUNTIMES = ['kata', 'kata-runtime', 'kata-qemu', 'kata-fc', 'kata-clh', 'krun', 'runsc'];

export async function probeOci(cli: OciCli, command: string = cli): Promise<Probe> {
  const found = which(command);
  if (!found) return { available: false, reason: `${cli} not found on PATH` };
  const v = await runBounded(found, ['--version'], 10_000);
  const version = /version\s+([^\s,]+)/i.exec(v.stdout)?.[1] ?? v.stdout.trim();
  if (v.code !== 0) return { available: false, path: found, reason: `${cli} --version failed (exit ${v.code})` };
  // The CLI alone is not enough: docker needs a reachable engine, podman a working setup.
  const info = await runBounded(
    found,
    cli === 'docker' ? ['version', '--format', '{{.Server.Version}}'] : ['info', '--format', '{{.Host.OCIRuntime.Name}}'],
    15_000,
  );
  if (info.code !== 0) {
    const why = info.timedOut ? 'no answer in 15 s' : info.stderr.trim().split('\n').pop() || `exit ${info.code}`;
    return { available: false, path: found, version, reason: `${cli} ${version} found, but it cannot run containers: ${why}` };
  }
  const detail = info.stdout.trim();
  const what = cli === 'docker' ? `engine ${detail}` : `OCI runtime ${detail}`;
  return { available: true, path: found, version, reason: `${cli} ${version}, ${what}` };
}

/** podman takes --runtime before the subcommand; docker after `run`. */
function globalArgs(cli: OciCli, runtime?: string): string[] {
  return cli === 'podman' && runtime ? ['--runtime', runtime] : [];
}

export function ociRunArgv(cli: OciCli, spec: ContainerSpec): string[] {
  const target = spec.rootfs ? ['--rootfs', `${spec.rootfs}:O`] : [spec.image];
  return [
    ...globalArgs(cli, spec.runtime),
    'run',
    '--rm',
    '-i',
    '--name',
    spec.name,
    ...(cli === 'docker' && spec.runtime ? ['--runtime', spec.runtime] : []),
    ...(spec.networkName ? ['--network', spec.networkName] : spec.network ? [] : ['--network', 'none']),
    '--cpus',
    String(spec.cpus),
    '--memory',
    `${spec.memoryMiB}m`,
    // A --rootfs overlay (`:O`) is discarded after the run; podman cannot add its
    // read-only /run tmpfs on top of one, so --read-only applies to images only.
    ...(spec.rootfs ? [] : ['--read-only']),
    '--tmpfs',
    // podman copies the image's /tmp into the tmpfs by default, which races with a live host root.
    cli === 'podman' ? '/tmp:rw,notmpcopyup' : '/tmp',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--ulimit',
    'nofile=1024:20000',
    '--ulimit',
    'nproc=1024:1024',
    ...spec.mounts.flatMap((m) => ['--mount', `type=bind,source=${m.source},target=${m.target}${m.readonly ? ',readonly' : ''}`]),
    ...(spec.envFile ? ['--env-file', spec.envFile] : []),
    ...(spec.entrypoint ? ['--entrypoint', spec.entrypoint] : []),
    ...target,
    ...spec.command,
  ];
}

/** podman would wait 10 s for a graceful stop first; a killed call needs none. */
export function ociDeleteArgv(cli: OciCli, name: string, runtime?: string): string[] {
  return [...globalArgs(cli, runtime), 'rm', '-f', ...(cli === 'podman' ? ['-t', '0'] : []), name];
}
