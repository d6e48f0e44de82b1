// Host paths no policy can grant (seed: volume validation). A grant of one of
// them, or of anything inside one, makes the policy invalid; a grant of a
// directory that contains one keeps it blocked inside the sandbox. Every
// comparison here is by path segments (`within`): host paths are never pasted
// into glob patterns, whose syntax a directory name could carry. Pure data and
// predicates: the home directory, the current directory and real paths are
// passed in by the caller (src/policy/policy.ts, src/host-paths.ts).
import path from 'node:path';
import { CapsuleError } from '../errors.js';
import { type PathFacts, within } from './fs.js';

/** What the lists below are made absolute against: the user's home and the directory relative paths resolve from. */
export interface HomeAndCwd {
  home: string;
  cwd: string;
}

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
  // Secrets mounted by orchestrators (docker/compose secrets, Kubernetes service accounts).
  '/run/secrets',
  '/var/run/secrets',
];

/** Below $HOME: keys and the credentials tools keep in well-known places. */
const USER_SECRETS = [
  '.ssh',
  '.gnupg',
  '.aws',
  '.docker',
  '.kube',
  '.config/containers',
  '.npmrc',
  '.yarnrc',
  '.yarnrc.yml',
  '.git-credentials',
  '.config/git/credentials',
  '.netrc',
  '.config/gh',
  '.config/hub',
  '.pypirc',
  '.config/pip',
  '.cargo/credentials',
  '.cargo/credentials.toml',
  '.config/gcloud',
  '.azure',
  '.config/doctl',
  '.terraform.d',
  '.password-store',
  '.local/share/keyrings',
  '.pgpass',
  '.my.cnf',
];

/** Never writable, nor anything below them: installed software and system configuration. */
const NO_WRITE_TREES = ['/usr', '/etc', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/opt', '/var/spool/cron'];

/** Never writable themselves (a directory inside them may be): writing them would replace the whole tree. */
const NO_WRITE_EXACT = ['/', '/home', '/var', '/run'];

/** Below $HOME, never writable: what a shell, a login or a desktop session runs, and where programs on PATH live. */
const USER_NO_WRITE = [
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.profile',
  '.zshrc',
  '.zshenv',
  '.zprofile',
  '.zlogin',
  '.zlogout',
  '.kshrc',
  '.cshrc',
  '.tcshrc',
  '.login',
  '.xprofile',
  '.xsessionrc',
  '.xinitrc',
  '.pam_environment',
  '.inputrc',
  '.gitconfig',
  '.config/git',
  '.config/fish',
  '.config/autostart',
  '.config/systemd',
  '.config/environment.d',
  '.local/bin',
  'bin',
];

/** The sensitive paths: system ones, the user's secrets, and capsule's own files (policy, audit, cache). */
export function sensitivePaths(own: string[], at: HomeAndCwd): string[] {
  return [...new Set([...SYSTEM, ...USER_SECRETS.map((d) => path.join(at.home, d)), ...own.map((p) => path.resolve(at.cwd, p))])];
}

/**
 * Paths never writable, with everything below them: system trees, shell start-up
 * files, and `readOnly` (capsule's install, the capabilities directories in use).
 */
export function noWritePaths(readOnly: string[], at: HomeAndCwd): string[] {
  return [...new Set([...NO_WRITE_TREES, ...USER_NO_WRITE.map((d) => path.join(at.home, d)), ...readOnly.map((p) => path.resolve(at.cwd, p))])];
}

/** The paths a grant must stay out of, as given and resolved (a symlinked /tmp, a symlinked home). */
function forms(p: string, disk: PathFacts): Set<string> {
  return new Set([p, disk.realpath(p) ?? p]);
}

/**
 * `paths` and their real paths, resolved once when the policy loads: resolving
 * some 100 paths (most missing, each a thrown error) on every call cost
 * milliseconds per call.
 */
export function withRealForms(paths: string[], disk: PathFacts): string[] {
  return [...new Set(paths.flatMap((p) => [...forms(p, disk)]))];
}

/** Host paths a policy protects: no access at all (`sensitive`), no writing (`noWrite`). */
export interface Protected {
  sensitive: string[];
  noWrite: string[];
}

/** Throws POLICY_INVALID naming the path when `p` may never be granted (for writing, when `write`). */
export function checkGrantable(p: string, write: boolean, prot: Protected, source: string, home: string, disk: PathFacts): void {
  // prot's lists already hold each path's real form too (withRealForms): no realpath per entry here.
  for (const candidate of forms(p, disk)) {
    const hit = prot.sensitive.find((s) => within(s, candidate));
    if (hit) {
      throw new CapsuleError('POLICY_INVALID', `${source}: grants ${p}, but ${hit} is a sensitive path that can never be granted`, { path: p });
    }
    if (!write) continue;
    const exact = [...NO_WRITE_EXACT, home].find((s) => [...forms(s, disk)].includes(candidate));
    const tree = prot.noWrite.find((s) => within(s, candidate));
    if (exact ?? tree) {
      throw new CapsuleError('POLICY_INVALID', `${source}: grants ${p} writable; ${exact ?? tree} can never be granted for writing`, { path: p });
    }
  }
}

/**
 * Kernel file systems: capsule's own files (cache directory, audit log, a key
 * written by keygen) never live there. Files there are endless or synthetic
 * (writing or reading them can spin a core forever, e.g. mkdir -p below
 * /proc/self/fd or appending to /dev/zero).
 */
const KERNEL = ['/proc', '/sys', '/dev'];

/** The kernel tree the first of `candidates` (a path as given, then its real form) lies under, if any. */
export function kernelRootOf(candidates: string[]): { path: string; root: string } | undefined {
  for (const candidate of new Set(candidates)) {
    const root = KERNEL.find((k) => within(k, candidate));
    if (root) return { path: candidate, root };
  }
  return undefined;
}

/**
 * capsule's dependencies loaded at run time from node_modules (the rest is
 * bundled into dist/). With capsule's package directory they are its install,
 * which no grant may write: a guest that could write there would have its code
 * run on the host by the next runtime (src/install-paths.ts finds them).
 */
export const RUNTIME_DEPENDENCIES = ['ajv', 'ajv-formats', '@bytecodealliance/preview2-shim', '@extism/extism'];
