// What one container run needs, whichever CLI starts it: built from a Job (or a
// container capability's request) by the VM runner, turned into argv by
// apple-container.ts or oci.ts. Plain data, so argv builders are pure and testable.
import { availableParallelism } from 'node:os';
import { CapsuleError } from '../../errors.js';
import { mountModes, unmountable } from '../../grants/fs.js';
import type { Grants } from '../../sandbox/job.js';

export interface Mount {
  source: string;
  target: string;
  readonly: boolean;
}

export interface ContainerSpec {
  /** Deterministic per call, so the runner can always delete it by name. */
  name: string;
  /** The OCI image; ignored when `rootfs` is set. */
  image: string;
  /** docker/podman only: run from a host directory instead of an image (`--rootfs DIR:O`). */
  rootfs?: string;
  /** `--entrypoint` in place of the image's own (a container capability's handshake shell). */
  entrypoint?: string;
  /** Arguments after the image. */
  command: string[];
  cpus: number;
  memoryMiB: number;
  mounts: Mount[];
  /** Only when a net grant exists; otherwise no network at all. */
  network: boolean;
  /**
   * docker/podman: join this (internal) network instead of the default one: a container
   * capability's net grants, where only the egress proxy on its gateway is reachable.
   */
  networkName?: string;
  /** A 0600 `--env-file` holding the granted env (src/tiers/vm/env-file.ts): values never go on the command line. */
  envFile?: string;
  /** docker/podman `--runtime` (kata, runsc, krun, runc). */
  runtime?: string;
}

export const MIB = 1024 * 1024;

/**
 * A container capability's handshake: its command runs behind `/bin/sh -c`, which
 * writes this line to stderr and then execs the command. A run that ends without it
 * never reached the command: the CLI failed to start the container (missing image,
 * unknown flag, API server down), which is not the command's exit code.
 */
export const READY_MARKER = '\u001ecapsule-ready';

export function handshakeCommand(command: string[]): { entrypoint: string; command: string[] } {
  return { entrypoint: '/bin/sh', command: ['-c', `printf '\\036capsule-ready\\n' >&2 && exec "$@"`, 'capsule-entry', ...command] };
}

/** Memory for the VM or container: the call's limit, plus room for Node when a wasm job runs inside. */
export function memoryMiB(limitBytes: number, overheadMiB = 0): number {
  return Math.ceil(limitBytes / MIB) + overheadMiB;
}

/** Node, V8 and the job runner inside the VM, beside the guest's own linear memory. */
export const NODE_OVERHEAD_MIB = 128;

/** The security framework treats more than this many CPUs for one sandboxed call as an error. */
export const MAX_VM_CPUS = 8;

/**
 * `vm.cpus`: a whole number from 1 to 8 and not more than this host has (Apple's
 * `--cpus` is an integer; a VM with more CPUs than the host only oversubscribes it).
 */
export function checkVmCpus(cpus: unknown, hostCpus: number = availableParallelism()): number | undefined {
  if (cpus === undefined) return undefined;
  const most = Math.min(MAX_VM_CPUS, hostCpus);
  if (typeof cpus !== 'number' || !Number.isInteger(cpus) || cpus < 1 || cpus > most) {
    const why =
      typeof cpus === 'number' && Number.isInteger(cpus) && cpus > most
        ? cpus > MAX_VM_CPUS
          ? ` (at most ${MAX_VM_CPUS})`
          : ` (this host has ${hostCpus})`
        : '';
    throw new CapsuleError('USAGE', `vm.cpus must be a whole number from 1 to ${most}${why}, got ${String(cpus)}`);
  }
  return cpus;
}

/** `capsule-demo-text-wc-1a2b3c4d`: a name docker, podman and Apple's container all accept. */
export function containerName(capabilityId: string, unique: string): string {
  const slug = capabilityId.replace(/[^a-zA-Z0-9-]+/g, '-').slice(0, 40);
  return `capsule-${slug}-${unique}`;
}

/**
 * Network only when a net grant exists. A wasm guest's per-host rules are applied by
 * capsule's WASI inside; a container capability's, by the egress proxy (egress-proxy.ts).
 */
export function networkGranted(grants: Grants): boolean {
  return grants.net.length > 0;
}

/**
 * Filesystem grants as bind mounts at the same path: read-only unless write is granted.
 * For a wasm job, capsule's WASI inside the VM still applies `blocked`; a native
 * container capability has no such layer, so a grant with blocked globs is refused
 * for it rather than mounted whole.
 */
export function grantMounts(grants: Grants, native: boolean, capabilityId: string): Mount[] {
  // Blocked and read-only paths inside a mount (sensitive paths, capsule's own files) count too.
  const unenforceable = unmountable(grants.fs);
  if (native && unenforceable.length > 0) {
    throw new CapsuleError(
      'PERMISSION_DENIED',
      `${capabilityId}: a container capability cannot honour blocked or read-only paths inside its mounts (${unenforceable.join(', ')}); grant it directories without blocked entries`,
    );
  }
  return mountModes(grants.fs).map((m) => ({ source: m.path, target: m.path, readonly: m.readonly }));
}
