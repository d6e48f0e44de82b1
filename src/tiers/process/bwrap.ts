// bubblewrap for the process tier: a new user/pid/net/ipc/uts/cgroup namespace,
// read-only binds of only the system directories Node needs plus the runner and
// the component bundle, fresh /proc, /dev and /tmp, no environment, no capabilities;
// then the call's granted paths (read-only unless granted writable).
import { lstatSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import path from 'node:path';
import { runBounded } from '../exec.js';
import type { Probe } from '../probe.js';
import { which } from '../which.js';
import type { Bind } from './fs-grant.js';

/** System directories a dynamically linked node needs (bound read-only, or recreated as symlinks). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64'];

export async function probeBwrap(): Promise<Probe> {
  const found = which('bwrap');
  if (!found) return { available: false, reason: 'bwrap not found on PATH (apt-get install bubblewrap)' };
  const version = await runBounded(found, ['--version'], 5_000);
  const v = version.stdout.trim().replace(/^bubblewrap\s+/, '');
  // Installed is not enough: some hosts forbid namespaces. Try one tiny sandbox.
  const smoke = await runBounded(found, ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', '--', 'true'], 5_000);
  if (smoke.code !== 0) {
    const why = smoke.stderr.trim().split('\n').pop() ?? `exit ${smoke.code}`;
    return { available: false, path: found, version: v, reason: `bwrap ${v} is installed but cannot create a sandbox here: ${why}` };
  }
  return { available: true, path: found, version: v, reason: `bwrap ${v} (${found})` };
}

/** `--ro-bind` or `--symlink` for each system directory that exists on this host. */
export function systemBinds(dirs = SYSTEM_DIRS): string[] {
  const args: string[] = [];
  for (const dir of dirs) {
    let st: Stats;
    try {
      st = lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (st.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  return args;
}

export interface BwrapCommand {
  /** Host paths bound read-only at the same place (runner, bundle, node's install prefix). */
  readOnly: string[];
  /** The call's fs grant: real host paths bound at the same place, in order (process/fs-grant.ts). */
  grants?: Bind[];
  /** Symlinks recreated inside (a preopen granted through a symlink). */
  symlinks?: { target: string; at: string }[];
  /** The command to run inside, argv[0] an absolute path. */
  command: string[];
  system?: string[];
}

export function bwrapArgs(c: BwrapCommand): string[] {
  const binds = c.readOnly.flatMap((p) => ['--ro-bind', p, p]);
  const granted = (c.grants ?? []).flatMap((b) => {
    if (b.hide === 'dir') return ['--tmpfs', b.path];
    if (b.hide === 'file') return ['--ro-bind', '/dev/null', b.path];
    return [b.writable ? '--bind' : '--ro-bind', b.path, b.path];
  });
  const links = (c.symlinks ?? []).flatMap((l) => ['--symlink', l.target, l.at]);
  // Last, once every mount point below them exists (the bundle may live in a hidden cache).
  const sealed = (c.grants ?? []).flatMap((b) => (b.hide === 'dir' ? ['--remount-ro', b.path] : []));
  return [
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
    '--cap-drop',
    'ALL',
    // Mounts apply in order: the fresh /tmp first, so binds beneath it stay visible.
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    ...(c.system ?? systemBinds()),
    // Granted paths before capsule's own files: a writable grant around the bundle or the
    // runner (a cache under a granted directory) must not make them writable in here.
    ...granted,
    ...links,
    ...binds,
    ...sealed,
    '--chdir',
    '/',
    '--',
    ...c.command,
  ];
}

/** Node's install prefix, when it is not already under a system directory. */
export function nodePrefix(execPath = process.execPath): string | undefined {
  const real = realpathSync(execPath);
  if (SYSTEM_DIRS.some((d) => real.startsWith(`${d}/`))) return undefined;
  return path.dirname(path.dirname(real));
}
