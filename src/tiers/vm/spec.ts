// What one container run needs, whichever CLI starts it: built from a Job (or a
// container capability's request) by the VM runner, turned into argv by
// apple-container.ts or oci.ts. Plain data, so argv builders are pure and testable.
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
  /** Arguments after the image (empty: the image's entrypoint). */
  command: string[];
  cpus: number;
  memoryMiB: number;
  mounts: Mount[];
  /** Only when a net grant exists; otherwise no network at all. */
  network: boolean;
  env: Record<string, string>;
  /** docker/podman `--runtime` (kata, runsc, krun, runc). */
  runtime?: string;
}

export const MIB = 1024 * 1024;

/** Memory for the VM or container: the call's limit, plus room for Node when a wasm job runs inside. */
export function memoryMiB(limitBytes: number, overheadMiB = 0): number {
  return Math.ceil(limitBytes / MIB) + overheadMiB;
}

/** Node, V8 and the job runner inside the VM, beside the guest's own linear memory. */
export const NODE_OVERHEAD_MIB = 128;

/** `capsule-demo-text-wc-1a2b3c4d`: a name docker, podman and Apple's container all accept. */
export function containerName(capabilityId: string, unique: string): string {
  const slug = capabilityId.replace(/[^a-zA-Z0-9-]+/g, '-').slice(0, 40);
  return `capsule-${slug}-${unique}`;
}

/** A net grant, if the grants carry one (the permissions layer adds `net.outbound`). */
export function networkGranted(grants: Grants): boolean {
  const net = (grants as Grants & { net?: { outbound?: string[] } }).net;
  return (net?.outbound?.length ?? 0) > 0;
}

/** Filesystem grants as bind mounts at the same path: read-only unless write is granted. */
export function grantMounts(grants: Grants): Mount[] {
  const fs = (grants as Grants & { fs?: { read?: string[]; write?: string[] } }).fs;
  const write = new Set(fs?.write ?? []);
  const read = (fs?.read ?? []).filter((p) => !write.has(p));
  return [
    ...read.map((p) => ({ source: p, target: p, readonly: true })),
    ...[...write].map((p) => ({ source: p, target: p, readonly: false })),
  ];
}
