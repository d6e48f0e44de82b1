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

/**
 * The first apple/container release with each flag capsule passes, read from the
 * tagged sources (Sources/…/Flags.swift at each tag of github.com/apple/container):
 * -i, --rm, --name, --cpus, --memory, --mount, --tmpfs, --no-dns, -e, --env-file and
 * --entrypoint are all in 0.1.0; `--network none` needs 0.6.0 (ClientNetwork.noNetworkName
 * first appears there); `--read-only` needs 0.8.0 (Flags.Management.readOnly first
 * appears there). Single-file bind mounts failed ("Not a directory") until
 * containerization 0.31.0, taken in by apple/container #1435 (closes #1251), first
 * released in 0.12.0: see APPLE_SINGLE_FILE_MOUNTS.
 */
export const APPLE_FLAG_SINCE: readonly { flag: string; since: string }[] = [
  { flag: '-i, --rm, --name, --cpus, --memory, --mount, --tmpfs, --no-dns, --env-file, --entrypoint', since: '0.1.0' },
  { flag: '--network none', since: '0.6.0' },
  { flag: '--read-only', since: '0.8.0' },
];
export const APPLE_MIN_VERSION = '0.8.0';
/** A grant of a single file is mounted as that file; older CLIs fail the run with "Not a directory". */
export const APPLE_SINGLE_FILE_MOUNTS = '0.12.0';

/** `1.2.2` < `1.10.0`; anything after the third number (`-rc1`, build text) is ignored. */
export function versionBelow(version: string, min: string): boolean {
  const parse = (v: string) => (/^(\d+)\.(\d+)(?:\.(\d+))?/.exec(v) ?? []).slice(1, 4).map((n) => Number(n ?? 0));
  const [a, b] = [parse(version), parse(min)];
  if (a.length === 0 || a.some(Number.isNaN)) return true;
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/** Why this CLI version cannot run capsule's command line, or undefined. */
export function appleVersionProblem(version: string): string | undefined {
  const missing = APPLE_FLAG_SINCE.filter((f) => versionBelow(version, f.since));
  if (missing.length === 0) return undefined;
  return `container ${version} is older than ${APPLE_MIN_VERSION}: it lacks ${missing.map((f) => `${f.flag} (${f.since})`).join(', ')}, which capsule passes; upgrade from github.com/apple/container/releases`;
}

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
  const tooOld = appleVersionProblem(version);
  if (tooOld) return { available: false, path: found, version, reason: tooOld };
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
    String(spec.cpus),
    '--memory',
    `${memory}M`,
    '--read-only',
    '--tmpfs',
    '/tmp',
    ...spec.mounts.flatMap((m) => ['--mount', `type=bind,source=${m.source},target=${m.target}${m.readonly ? ',readonly' : ''}`]),
    ...(spec.envFile ? ['--env-file', spec.envFile] : []),
    ...(spec.entrypoint ? ['--entrypoint', spec.entrypoint] : []),
    spec.image,
    ...spec.command,
  ];
}

export function appleDeleteArgv(name: string): string[] {
  return ['delete', '--force', name];
}
