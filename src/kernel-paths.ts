// capsule's own files (cache directory, audit log, a key written by keygen)
// never live under /proc, /sys or /dev: files there are endless or synthetic
// (writing or reading them can spin a core forever, e.g. mkdir -p below
// /proc/self/fd or appending to /dev/zero), so such a path is refused up front
// with a clear error instead.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { CapsuleError, type ErrorCode } from './errors.js';

const KERNEL = ['/proc', '/sys', '/dev'];

/** The real path of `p`, or of its nearest existing ancestor joined with the rest. */
function realOrAncestor(p: string): string {
  let dir = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(dir), ...rest);
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return p;
      rest.unshift(path.basename(dir));
      dir = parent;
    }
  }
}

const under = (root: string, p: string) => p === root || p.startsWith(`${root}/`);

/** Throws `code` when `p` (as given, or once symlinks are resolved) lies under /proc, /sys or /dev. */
export function refuseKernelPath(p: string, what: string, code: ErrorCode): void {
  const abs = path.resolve(p);
  for (const candidate of new Set([abs, realOrAncestor(abs)])) {
    const root = KERNEL.find((k) => under(k, candidate));
    if (root) {
      throw new CapsuleError(code, `${what} ${abs} is under ${root}, which holds kernel files, not storage; choose a directory on a real filesystem`, {
        path: abs,
      });
    }
  }
}
