// A call's fs grant as the process tier's two outer layers see it: the bubblewrap
// binds (exactly the granted paths, read-only where the grant is, a protected path
// inside a writable grant read-only again) and the paths for Node's permission
// flags. Both name real paths, since capsule's WASI inside the child opens what
// lies below each preopen's real path; a preopen reached through a symlink gets
// that symlink again inside the sandbox, so it resolves where it did when granted.
// The rules themselves (blocked globs, `..`, links, read-only) stay with capsule's
// WASI, which runs inside the child as in every tier.
import { realpathSync } from 'node:fs';
import { type FsGrant, within } from '../../grants/fs.js';

export interface Bind {
  path: string;
  writable: boolean;
}

export interface ChildFs {
  /** In mount order: a path below another comes after it. */
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

const realOf = (p: string): string | undefined => {
  try {
    return realpathSync(p);
  } catch {
    return undefined; // not there: the guest does not see it in any tier
  }
};

const depth = (p: string) => p.split('/').length;

export function childFs(grant: FsGrant, real: (p: string) => string | undefined = realOf): ChildFs {
  const resolved = (paths: string[] = []) => paths.flatMap((p) => (real(p) ? [real(p) as string] : []));
  const writable = [...new Set(resolved(grant.write))];
  // A read grant inside a writable one adds nothing (writing covers reading below it).
  const readOnly = [...new Set(resolved(grant.read))].filter((r) => !writable.some((w) => within(w, r)));
  // Protected paths inside a writable grant (policy noWrite): read-only again, mounted over it.
  const protectedBelow = [...new Set(resolved(grant.readOnlyPaths))].filter((r) => writable.some((w) => within(w, r)));
  const binds = [
    ...[...writable.map((path) => ({ path, writable: true })), ...readOnly.map((path) => ({ path, writable: false }))].sort(
      (a, b) => depth(a.path) - depth(b.path),
    ),
    ...protectedBelow.map((path) => ({ path, writable: false })),
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
