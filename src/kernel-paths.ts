// capsule's own files (cache directory, audit log, a key written by keygen)
// never live under /proc, /sys or /dev (src/grants/sensitive.ts says why), so
// such a path is refused up front with a clear error instead.
import path from 'node:path';
import { CapsuleError, type ErrorCode } from './errors.js';
import { realish } from './grants/fs.js';
import { kernelRootOf } from './grants/sensitive.js';
import { hostPaths } from './host-paths.js';

/** Throws `code` when `p` (as given, or once symlinks are resolved) lies under /proc, /sys or /dev. */
export function refuseKernelPath(p: string, what: string, code: ErrorCode): void {
  const abs = path.resolve(p);
  const hit = kernelRootOf([abs, realish(abs, hostPaths)]);
  if (hit) {
    throw new CapsuleError(code, `${what} ${abs} is under ${hit.root}, which holds kernel files, not storage; choose a directory on a real filesystem`, {
      path: abs,
    });
  }
}
