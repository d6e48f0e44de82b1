// Apple's `container` CLI (github.com/apple/container): one lightweight Linux VM
// per container on macOS 26, Apple silicon. probe() is the system validation;
// the argv builders follow the flags in APPLE_CONTAINER.md.
import { runBounded } from '../exec.js';
import { hostName, type Probe } from '../probe.js';
import { which } from '../which.js';
import type { ContainerSpec } from './spec.js';

/** The API server rejects less; smaller limits are rounded up (and the runner says so). */
export const APPLE_MIN_MEMORY_MIB = 200;
export const APPLE_MIN_MACOS = 26;

export interface HostInfo {
  platform: NodeJS.Platform;
  arch: string;
  /** `sw_vers -productVersion`, on macOS. */
  macosVersion(): Promise<string | undefined>;
}

export const currentHost: HostInfo = {
  platform: process.platform,
  arch: process.arch,
  async macosVersion() {
    if (process.platform !== 'darwin') return undefined;
    const r = await runBounded('sw_vers', ['-productVersion'], 5_000);
    return r.code === 0 ? r.stdout.trim() : undefined;
  },
};

const REQUIREMENT = `Apple Container needs macOS ${APPLE_MIN_MACOS} on Apple silicon`;

export async function probeAppleContainer(host: HostInfo = currentHost, cli = 'container'): Promise<Probe> {
  if (host.platform !== 'darwin' || host.arch !== 'arm64') {
    return { available: false, reason: `${REQUIREMENT}; this is ${hostName(host.platform, host.arch)}` };
  }
  const macos = await host.macosVersion();
  const major = Number(macos?.split('.')[0]);
  if (!macos || !(major >= APPLE_MIN_MACOS)) {
    return { available: false, reason: `${REQUIREMENT}; this is macOS ${macos ?? '(unknown version)'}` };
  }
  const found = which(cli);
  if (!found) return { available: false, reason: `${cli} CLI not found on PATH (install it from github.com/apple/container)` };
  const v = await runBounded(found, ['--version'], 10_000);
  if (v.code !== 0) return { available: false, path: found, reason: `${cli} --version failed: ${v.stderr.trim() || `exit ${v.code}`}` };
  const version = /version\s+(\S+)/.exec(v.stdout)?.[1] ?? v.stdout.trim();
  const status = await runBounded(found, ['system', 'status'], 10_000);
  if (status.code !== 0) {
    const why = status.timedOut ? 'did not answer in 10 s' : `exit ${status.code}`;
    return {
      available: false,
      path: found,
      version,
      reason: `container system status: ${why}; the API server is not running (run: container system start)`,
    };
  }
  return { available: true, path: found, version, reason: `container ${version} on macOS ${macos}, system running` };
}

export interface AppleMemory {
  mib: number;
  /** Set when the limit was raised to Apple's minimum. */
  note?: string;
}

export function appleMemory(mib: number): AppleMemory {
  if (mib >= APPLE_MIN_MEMORY_MIB) return { mib };
  return {
    mib: APPLE_MIN_MEMORY_MIB,
    note: `memory ${mib} MiB raised to ${APPLE_MIN_MEMORY_MIB} MiB, the least Apple Container accepts`,
  };
}

/** `container run --rm -i --name … --network none --no-dns --cpus N --memory NM --read-only --mount … IMAGE ARGS…` */
export function appleRunArgv(spec: ContainerSpec): string[] {
  const memory = appleMemory(spec.memoryMiB).mib;
  return [
    'run',
    '--rm',
    '-i',
    '--name',
    spec.name,
    ...(spec.network ? [] : ['--network', 'none', '--no-dns']),
    '--cpus',
    String(Math.max(1, Math.round(spec.cpus))),
    '--memory',
    `${memory}M`,
    '--read-only',
    '--tmpfs',
    '/tmp',
    ...spec.mounts.flatMap((m) => ['--mount', `type=bind,source=${m.source},target=${m.target}${m.readonly ? ',readonly' : ''}`]),
    ...Object.entries(spec.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    ...(spec.entrypoint ? ['--entrypoint', spec.entrypoint] : []),
    spec.image,
    ...spec.command,
  ];
}

export function appleDeleteArgv(name: string): string[] {
  return ['delete', '--force', name];
}
