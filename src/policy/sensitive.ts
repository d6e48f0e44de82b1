// Host paths no policy can grant (seed: volume validation). A grant of one of
// them, or of anything inside one, makes the policy invalid; a grant of a
// directory that contains one keeps it blocked inside the sandbox.
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { CapsuleError } from '../errors.js';
import { within } from '../sandbox/wasi/fs-scope.js';

const SYSTEM = [
  '/etc/shadow',
  '/etc/gshadow',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/ssh',
  '/proc',
  '/sys',
  '/dev',
  '/boot',
  // Container engines: a socket is root on the host.
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/var/run/docker',
  '/run/docker',
  '/run/podman',
  '/var/run/podman',
  '/run/containerd',
  '/var/run/containerd',
  '/run/crio',
  '/var/run/crio',
  '/var/lib/docker',
  '/var/lib/containers',
  '/run/user',
];

/** Never writable (granting them read-only is allowed). */
const NO_WRITE = ['/', '/usr', '/etc', '/var', '/bin', '/sbin', '/lib', '/lib64', '/opt', '/home'];

/** The sensitive paths: system ones, the user's secrets, and capsule's own files (policy, audit, cache). */
export function sensitivePaths(own: string[]): string[] {
  const home = homedir();
  const user = ['.ssh', '.gnupg', '.aws', '.docker', '.kube', '.config/containers'].map((d) => path.join(home, d));
  return [...new Set([...SYSTEM, ...user, ...own.map((p) => path.resolve(p))])];
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Throws POLICY_INVALID naming the path when `p` may never be granted (for writing, when `write`). */
export function checkGrantable(p: string, write: boolean, sensitive: string[], source: string): void {
  for (const candidate of new Set([p, real(p)])) {
    const hit = sensitive.find((s) => within(s, candidate) || within(real(s), candidate));
    if (hit) {
      throw new CapsuleError('POLICY_INVALID', `${source}: grants ${p}, but ${hit} is a sensitive path that can never be granted`, { path: p });
    }
    if (write && NO_WRITE.includes(candidate)) {
      throw new CapsuleError('POLICY_INVALID', `${source}: grants ${p} writable; ${candidate} can never be granted for writing`, { path: p });
    }
  }
}

/**
 * Globs that keep the sensitive paths under a granted directory blocked. The guest
 * sees a grant at its own path, so a grant that is a symlink (guest path ≠ real
 * path) gets each sensitive path translated to the guest's view as well.
 */
export function implicitBlocks(grants: string[], sensitive: string[]): string[] {
  const out: string[] = [];
  for (const g of grants) {
    const r = real(g);
    for (const s of sensitive) {
      for (const base of new Set([s, real(s)])) {
        if (within(g, base)) out.push(base, `${base}/**`);
        if (r !== g && within(r, base)) {
          const shown = path.posix.join(g, path.relative(r, base));
          out.push(shown, `${shown}/**`);
        }
      }
    }
  }
  return [...new Set(out)];
}
