// Filesystem entries in manifests and policies: a path (a directory means
// everything below it, as in Deno) optionally written `dir/**`. Relative policy
// paths resolve against the policy file's directory. Blocked entries are globs.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { CapsuleError, type ErrorCode } from '../errors.js';
import { within } from '../sandbox/wasi/fs-scope.js';
import { escapeGlob, isGlob } from '../sandbox/wasi/glob-text.js';

/** A wildcard in a read/write path: refused there (use `blocked` for patterns). */
const WILDCARD = /[*?]/;

/** Longest fs path a policy or manifest may name (Linux PATH_MAX). */
const MAX_PATH_CHARS = 4096;
/** Most path segments: resolving a path costs a host call per missing segment. */
const MAX_PATH_SEGMENTS = 256;
/** Longest `blocked` entry (also in the schemas): every fs call of a guest matches against it. */
const MAX_PATTERN_CHARS = 1024;

/** Refuses a path too long or too deep to resolve in bounded time, naming the field. */
function checkBounds(entry: string, maxChars: number, code: ErrorCode, where: string): void {
  if (entry.length > maxChars) {
    throw new CapsuleError(code, `${where}: ${entry.length} characters; at most ${maxChars} are allowed`);
  }
  const segments = entry.split('/').filter((s) => s !== '' && s !== '.').length;
  if (segments > MAX_PATH_SEGMENTS) {
    throw new CapsuleError(code, `${where}: ${segments} path segments; at most ${MAX_PATH_SEGMENTS} are allowed`);
  }
}

/** A `blocked` entry within bounds (checked at load, before any call matches against it). */
export function checkBlockedEntry(entry: string, code: ErrorCode, where: string): void {
  checkBounds(entry, MAX_PATTERN_CHARS, code, where);
}

/**
 * `./data/**` (policy in /srv) → `/srv/data`. Wildcards other than a trailing `/**`
 * are refused; anything else (`(`, `[`, `{`, `!`, `\`) is part of a literal path.
 */
export function grantPath(entry: string, baseDir: string, code: ErrorCode, where: string): string {
  checkBounds(entry, MAX_PATH_CHARS, code, where);
  const bare = entry.replace(/\/\*\*$/, '').replace(/\/\*$/, '') || '/';
  if (WILDCARD.test(bare)) {
    throw new CapsuleError(code, `${where}: ${entry}: read/write paths may end in /** but hold no other wildcard (use blocked for patterns)`);
  }
  return path.resolve(baseDir, bare);
}

/** What a `blocked` entry blocks: literal host paths (with everything below) and absolute user-written globs. */
export interface BlockedEntry {
  paths: string[];
  globs: string[];
}

/**
 * A `blocked` entry made absolute. Without glob syntax it names one path
 * literally (`./data/secret` → path `/srv/data/secret`), compared by path
 * segments. With glob syntax it is a glob (`*.key` → `**\/*.key`), the host
 * directory a relative one is anchored at escaped rather than pasted in as glob
 * text; and since a directory name may itself look like a pattern
 * (`/srv/build[1]`), an anchored entry also blocks its literal path: blocking
 * both readings can only block more.
 */
export function blockedEntry(entry: string, baseDir: string): BlockedEntry {
  const bare = entry.replace(/\/\*\*$/, '').replace(/\/+$/, '') || '/';
  const relative = entry.startsWith('./') || entry.startsWith('../') || entry === '.' || entry === '..';
  const anchored = path.isAbsolute(bare) || relative;
  const literal = anchored ? [path.resolve(baseDir, bare)] : [];
  if (!isGlob(bare)) return { paths: literal, globs: anchored ? [] : [`**/${escapeGlob(bare)}`] };
  if (path.isAbsolute(entry)) return { paths: literal, globs: [entry] };
  if (relative) {
    const segs = entry.split('/');
    const n = segs.findIndex(isGlob);
    const head = path.resolve(baseDir, segs.slice(0, n).join('/'));
    return { paths: literal, globs: [`${escapeGlob(head === '/' ? '' : head)}/${segs.slice(n).join('/')}`] };
  }
  return { paths: [], globs: [entry.startsWith('**/') ? entry : `**/${entry}`] };
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
