// Filesystem entries in manifests and policies: a path (a directory means
// everything below it, as in Deno) optionally written `dir/**`. Relative policy
// paths resolve against the policy file's directory. Blocked entries are globs.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { CapsuleError, type ErrorCode } from '../errors.js';
import { within } from '../sandbox/wasi/fs-scope.js';

const GLOB = /[*?[\]{}!]/;

/** `./data/**` (policy in /srv) → `/srv/data`. Globs other than a trailing `/**` are refused. */
export function grantPath(entry: string, baseDir: string, code: ErrorCode, where: string): string {
  const bare = entry.replace(/\/\*\*$/, '').replace(/\/\*$/, '') || '/';
  if (GLOB.test(bare)) {
    throw new CapsuleError(code, `${where}: ${entry}: read/write paths may end in /** but hold no other glob (use blocked for patterns)`);
  }
  return path.resolve(baseDir, bare);
}

/** A blocked glob made absolute (`./data/secret/**` → `/srv/data/secret/**`; `*.key` → `**\/*.key`). */
export function blockedGlob(entry: string, baseDir: string): string {
  if (path.isAbsolute(entry)) return entry;
  if (entry.startsWith('./') || entry.startsWith('../')) {
    const firstGlob = entry.search(GLOB);
    const head = firstGlob < 0 ? entry : entry.slice(0, entry.lastIndexOf('/', firstGlob) + 1);
    return path.posix.join(path.resolve(baseDir, head), entry.slice(head.length)) + (entry.endsWith('/') ? '/' : '');
  }
  return entry.startsWith('**/') ? entry : `**/${entry}`;
}

/**
 * request ∩ grant for one kind of access: a requested path inside a granted one
 * is kept; a granted path inside a requested one narrows it; the rest is uncovered.
 */
export function intersectPaths(requested: string[], granted: string[]): { kept: string[]; uncovered: string[] } {
  const kept: string[] = [];
  const uncovered: string[] = [];
  for (const r of requested) {
    // Inside by name is not enough: a symlink below the grant could point anywhere,
    // and the request would become a preopen at that target.
    if (granted.some((g) => within(g, r) && within(realish(g), realish(r)))) kept.push(r);
    else {
      const narrower = granted.filter((g) => within(r, g));
      if (narrower.length > 0) kept.push(...narrower);
      else uncovered.push(r);
    }
  }
  return { kept: [...new Set(kept)], uncovered };
}

/** The real path of `p`, or of its nearest existing ancestor joined with the rest. */
export function realish(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(realish(parent), path.basename(p));
  }
}

/** The directories to preopen: granted directories, or a granted file's parent; none nested in another. */
export function preopensFor(paths: string[]): string[] {
  const dirs = paths.map((p) => {
    const st = statSync(p, { throwIfNoEntry: false });
    return st && !st.isDirectory() ? path.dirname(p) : p;
  });
  const unique = [...new Set(dirs)].sort((a, b) => a.length - b.length);
  return unique.filter((d, i) => !unique.slice(0, i).some((o) => within(o, d)));
}
