// A call's fs grant as the process tier's two outer layers see it: the bubblewrap
// binds (exactly the granted paths, read-only where the grant is, a protected path
// inside a writable grant read-only again) and the paths for Node's permission
// flags. Both name real paths, since capsule's WASI inside the child opens what
// lies below each preopen's real path; a preopen reached through a symlink gets
// that symlink again inside the sandbox, so it resolves where it did when granted.
// Blocked paths named literally (credentials, capsule's own files) are hidden too.
// The rules themselves (blocked globs, `..`, links, read-only) stay with capsule's
// WASI, which runs inside the child as in every tier: Node's flags cannot carve a
// path out of a grant, nor bubblewrap match a glob.
import { realpathSync, statSync } from 'node:fs';
import { type FsGrant, within } from '../../grants/fs.js';

/** One mount over a granted path: bound (read-only or writable), or hidden (a blocked path: emptied, read-only). */
export interface Bind {
  path: string;
  writable: boolean;
  /** A blocked path inside a grant: an empty read-only directory or /dev/null takes its place. */
  hide?: 'dir' | 'file';
}

export interface ChildFs {
  /** In mount order: a path below another comes after it; protected and blocked paths last. */
  binds: Bind[];
  /** `at` (a granted preopen) is a symlink to `target` on the host, and will be one inside. */
  symlinks: { target: string; at: string }[];
  /** For --allow-fs-read: every granted path and preopen, as named and as resolved. */
  read: string[];
  /** For --allow-fs-write: the writable grants, as named and as resolved. */
  write: string[];
  /** Paths Node's permission flags would read as a pattern (`*`): the tier must refuse the call. */
  unsafe: string[];
}

/** What the rules need to know of the host's disk (asked here, passed in by tests). */
export interface Disk {
  /** Real path, or undefined when it does not exist. */
  real(p: string): string | undefined;
  isDir(p: string): boolean;
}

const hostDisk: Disk = {
  real(p) {
    try {
      return realpathSync(p);
    } catch {
      return undefined; // not there: the guest does not see it in any tier
    }
  },
  isDir: (p) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true,
};

const depth = (p: string) => p.split('/').length;

export function childFs(grant: FsGrant, disk: Disk = hostDisk): ChildFs {
  const real = (p: string) => disk.real(p);
  const resolved = (paths: string[] = []) =>
    paths.flatMap((p) => {
      const r = real(p);
      return r ? [r] : [];
    });
  const writable = [...new Set(resolved(grant.write))];
  // A read grant inside a writable one adds nothing (writing covers reading below it).
  const readOnly = [...new Set(resolved(grant.read))].filter((r) => !writable.some((w) => within(w, r)));
  // Protected paths inside a writable grant (policy noWrite): read-only again, mounted over it.
  const protectedBelow = [...new Set(resolved(grant.readOnlyPaths))].filter((r) => writable.some((w) => within(w, r)));
  // Blocked paths (credentials, capsule's cache, audit log, policy) inside a bound grant: not there at all.
  const bound = [...writable, ...readOnly];
  const blocked = [...new Set(resolved(grant.blockedPaths))].filter((r) => bound.some((b) => within(b, r) && b !== r));
  const byDepth = (a: Bind, b: Bind) => depth(a.path) - depth(b.path);
  const binds: Bind[] = [
    ...[...writable.map((path) => ({ path, writable: true })), ...readOnly.map((path) => ({ path, writable: false }))].sort(byDepth),
    ...protectedBelow.map((path) => ({ path, writable: false })),
    ...blocked.map((path): Bind => ({ path, writable: false, hide: disk.isDir(path) ? 'dir' : 'file' })).sort(byDepth),
  ];
  const symlinks = grant.preopens.flatMap((at) => {
    const target = grant.preopenReal?.[at] ?? real(at);
    return target !== undefined && target !== at ? [{ target, at }] : [];
  });
  const named = [...grant.read, ...grant.write, ...grant.preopens];
  const read = [...new Set([...named, ...resolved(named)])];
  const write = [...new Set([...grant.write, ...writable])];
  return { binds, symlinks, read, write, unsafe: [...read, ...write].filter((p) => p.includes('*')) };
}
