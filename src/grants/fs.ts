// The rules of a filesystem grant, in one place: what a read/write path, a
// blocked entry, a preopen, a read-only path and `..` mean. Pure: what must be
// learned from the disk (a real path, whether a path is a file, a symlink's
// target) is asked through the functions the caller passes in, so the planner
// (src/grants/intersect.ts) and the enforcer (src/sandbox/wasi/fs-scope.ts)
// apply the same rules. Models: Deno's permission descriptors (deny checked
// before allow), Wasmtime's preopens (every path is resolved inside one).
import path from 'node:path';
import picomatch from 'picomatch';
import { CapsuleError, type ErrorCode } from '../errors.js';
import type { Permissions } from './permissions.js';

/**
 * Filesystem grant, all paths absolute and normalized. A granted directory is
 * visible to the guest at the same absolute path (its preopen).
 */
export interface FsGrant {
  /** Directories preopened for the guest (the granted dirs, or the parent of a granted file). */
  preopens: string[];
  /** Each preopen's real path when the grant was decided; a preopen that now resolves elsewhere is not opened. */
  preopenReal?: Record<string, string>;
  /** Paths (directories mean everything below) the guest may read. */
  read: string[];
  /** Paths the guest may create, change or remove (and read). */
  write: string[];
  /** Absolute globs never accessible, whatever read/write say (blocked wins). User-written patterns only. */
  blocked: string[];
  /**
   * Host paths never accessible, with everything below them (sensitive paths and
   * capsule's own files inside a grant, literal `blocked` entries). Compared by
   * path segments, never as globs: a directory name may hold glob syntax.
   */
  blockedPaths?: string[];
  /** Paths that may be read but never written, with everything below them, even inside a write grant. */
  readOnlyPaths?: string[];
}

export const NO_FS: FsGrant = { preopens: [], read: [], write: [], blocked: [] };

/** What the rules need to know about the host's disk; the caller asks it (src/host-paths.ts). */
export interface PathFacts {
  /** The real path of `p` (symlinks resolved), or undefined when it does not exist. */
  realpath(p: string): string | undefined;
  /** `p` exists and is not a directory. */
  isFile(p: string): boolean;
}

/** Is `p` the path `parent` or below it? Compared by path segments, never as text prefixes or globs. */
export const within = (parent: string, p: string): boolean => p === parent || p.startsWith(parent.endsWith('/') ? parent : `${parent}/`);

/** The real path of `p`, or of its nearest existing ancestor joined with the rest. */
export function realish(p: string, disk: PathFacts): string {
  const real = disk.realpath(p);
  if (real !== undefined) return real;
  const parent = path.dirname(p);
  return parent === p ? p : path.join(realish(parent, disk), path.basename(p));
}

// ---- Read/write paths and blocked entries, as policies and manifests write them.

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
 * `baseDir` must be absolute (nothing here reads the process's current directory).
 */
export function grantPath(entry: string, baseDir: string, code: ErrorCode, where: string): string {
  checkBounds(entry, MAX_PATH_CHARS, code, where);
  const bare = entry.replace(/\/\*\*$/, '').replace(/\/\*$/, '') || '/';
  if (WILDCARD.test(bare)) {
    throw new CapsuleError(code, `${where}: ${entry}: read/write paths may end in /** but hold no other wildcard (use blocked for patterns)`);
  }
  return path.resolve(baseDir, bare);
}

// Glob text for the user-written `blocked` patterns. Host paths are never
// matched as globs (FsGrant.blockedPaths compares them by path segments); when
// a user's relative pattern is anchored at a host directory, that directory is
// escaped so that `(`, `[`, `{`, `!`, `+(`, `\` in its name stay literal.

/** Characters picomatch gives a meaning to (glob, brace, extglob, negation, escape). */
const SPECIAL = /[\\*?[\]{}()!@+|]/g;

/** Glob syntax that makes an entry a pattern rather than a literal path. */
const GLOB_SYNTAX = /[*?[\]{}]|[@!+*?]\(/;

/** `/srv/a(1)` → `/srv/a\(1\)`: matches exactly that path under picomatch. */
export function escapeGlob(text: string): string {
  return text.replace(SPECIAL, '\\$&');
}

/** Does a user-written entry use glob syntax (else it names one path literally)? */
export function isGlob(entry: string): boolean {
  return GLOB_SYNTAX.test(entry);
}

/**
 * The literal directory a glob is anchored at (`/srv/a\(1\)/x/*.key` → `/srv/a(1)/x`),
 * or '' when it can match anywhere. Segments up to the first with unescaped glob
 * syntax, unescaped.
 */
export function globBase(glob: string): string {
  if (!glob.startsWith('/')) return '';
  const kept: string[] = [];
  for (const seg of glob.split('/')) {
    if (isGlob(seg.replace(/\\./g, ''))) break;
    kept.push(seg.replace(/\\(.)/g, '$1'));
  }
  return kept.join('/') || '/';
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

/** A blocked glob also blocks what lies below what it matches (`secret*` → `secret*` and `secret*\/**`). */
export function withContents(glob: string): string[] {
  return glob.endsWith('/**') ? [glob] : [glob, `${glob.replace(/\/$/, '')}/**`];
}

// ---- Planning: request ∩ grant, and the preopens.

/**
 * request ∩ grant for one kind of access: a requested path inside a granted one
 * is kept; a granted path inside a requested one narrows it; the rest is uncovered.
 */
export function intersectPaths(requested: string[], granted: string[], disk: PathFacts): { kept: string[]; uncovered: string[] } {
  const kept: string[] = [];
  const uncovered: string[] = [];
  for (const r of requested) {
    // Inside by name is not enough: a symlink below the grant could point anywhere,
    // and the request would become a preopen at that target.
    if (granted.some((g) => within(g, r) && within(realish(g, disk), realish(r, disk)))) kept.push(r);
    else {
      const narrower = granted.filter((g) => within(r, g));
      if (narrower.length > 0) kept.push(...narrower);
      else uncovered.push(r);
    }
  }
  return { kept: [...new Set(kept)], uncovered };
}

/** The directories to preopen: granted directories, or a granted file's parent; none nested in another. */
export function preopensFor(paths: string[], disk: PathFacts): string[] {
  const dirs = paths.map((p) => (disk.isFile(p) ? path.dirname(p) : p));
  const unique = [...new Set(dirs)].sort((a, b) => a.length - b.length);
  return unique.filter((d, i) => !unique.slice(0, i).some((o) => within(o, d)));
}

/** The policy as the fs intersection reads it (src/policy/policy.ts's Policy is one). */
export interface FsPolicy {
  source: string;
  /** Where the policy's relative paths resolve (absolute). */
  baseDir: string;
  /** Each granted fs path's real path when the policy was loaded. */
  grantReal: ReadonlyMap<string, string>;
  /** Paths no grant reaches, and paths no grant writes, with everything below them (with their real forms). */
  sensitive: string[];
  noWrite: string[];
}

/**
 * request ∩ grants for fs: the kept read and write paths, their preopens, and
 * what stays blocked or read-only inside them. `cwd` (absolute) is where the
 * request's relative paths resolve; what no grant covers goes to `uncovered`.
 */
export function intersectFs(id: string, req: Permissions, grants: Permissions[], policy: FsPolicy, cwd: string, disk: PathFacts, uncovered: string[]): FsGrant {
  const asked = (kind: 'read' | 'write') => (req.fs?.[kind] ?? []).map((e) => grantPath(e, cwd, 'MANIFEST_INVALID', `${id} permissions.fs.${kind}`));
  // A granted path swapped for a symlink since the policy was loaded grants nothing.
  const unmoved = (g: string) => policy.grantReal.get(g) === undefined || policy.grantReal.get(g) === realish(g, disk);
  const given = (kind: 'read' | 'write') =>
    grants.flatMap((g) => (g.fs?.[kind] ?? []).map((e) => grantPath(e, policy.baseDir, 'POLICY_INVALID', policy.source))).filter(unmoved);
  const write = intersectPaths(asked('write'), given('write'), disk);
  // Reading is covered by a read or a write grant.
  const read = intersectPaths(asked('read'), [...given('read'), ...given('write')], disk);
  uncovered.push(...write.uncovered.map((p) => `fs.write ${p}`), ...read.uncovered.map((p) => `fs.read ${p}`));
  const all = [...read.kept, ...write.kept];
  if (all.length === 0) return NO_FS;
  // A request inside a broader grant (e.g. /etc/shadow under a read-only /) is still never granted.
  for (const p of all) {
    const hit = policy.sensitive.find((s) => within(s, p));
    if (hit) throw new CapsuleError('PERMISSION_DENIED', `${id} requests ${p}, but ${hit} is a sensitive path that can never be granted`, { path: p });
  }
  for (const p of write.kept) {
    const hit = policy.noWrite.find((s) => within(s, p));
    if (hit) throw new CapsuleError('PERMISSION_DENIED', `${id} requests ${p} writable, but ${hit} can never be written`, { path: p });
  }
  const entries = [
    ...(req.fs?.blocked ?? []).map((b) => blockedEntry(b, cwd)),
    ...grants.flatMap((g) => (g.fs?.blocked ?? []).map((b) => blockedEntry(b, policy.baseDir))),
  ];
  const globs = entries.flatMap((e) => e.globs.flatMap(withContents));
  const literal = entries.flatMap((e) => e.paths);
  const preopens = preopensFor(all, disk);
  return {
    preopens,
    // Where each preopen resolved when this was decided: a link swapped in later is refused.
    preopenReal: Object.fromEntries(preopens.map((p) => [p, realish(p, disk)])),
    read: read.kept,
    write: write.kept,
    blocked: [...new Set(globs)],
    blockedPaths: [...new Set([...literal, ...pathsUnder(all, policy.sensitive, disk)])],
    readOnlyPaths: pathsUnder(write.kept, policy.noWrite, disk),
  };
}

/**
 * The protected paths that lie under the granted ones, as the guest names them:
 * a grant is seen at its own path, so a grant that is a symlink (guest path ≠ real
 * path) gets each protected path translated to the guest's view as well. Used
 * literally (FsGrant.blockedPaths / readOnlyPaths), never as globs.
 * `protectedPaths` already holds real forms (withRealForms).
 */
export function pathsUnder(grants: string[], protectedPaths: string[], disk: PathFacts): string[] {
  const out: string[] = [];
  for (const g of grants) {
    const r = disk.realpath(g) ?? g;
    for (const base of protectedPaths) {
      if (within(g, base)) out.push(base);
      if (r !== g && within(r, base)) out.push(path.posix.join(g, path.relative(r, base)));
    }
  }
  return [...new Set(out)];
}

// ---- Enforcing: what a guest path may do under a grant (deny before allow).

/** The checks every fs call makes against one grant; blocked beats read and write, read-only beats write. */
export class FsRules {
  private readonly matchBlocked: (p: string) => boolean;

  constructor(readonly grant: FsGrant) {
    this.matchBlocked = grant.blocked.length > 0 ? picomatch(grant.blocked, { dot: true }) : () => false;
  }

  blocked(guest: string): boolean {
    return (this.grant.blockedPaths ?? []).some((b) => within(b, guest)) || this.matchBlocked(guest);
  }
  readable(guest: string): boolean {
    return !this.blocked(guest) && [...this.grant.read, ...this.grant.write].some((g) => within(g, guest));
  }
  writable(guest: string): boolean {
    return !this.blocked(guest) && this.grant.write.some((g) => within(g, guest)) && !(this.grant.readOnlyPaths ?? []).some((p) => within(p, guest));
  }
  /** A directory on the way to a granted path (may be opened and listed, filtered). */
  leadsToGrant(guest: string): boolean {
    return !this.blocked(guest) && [...this.grant.read, ...this.grant.write].some((g) => within(guest, g));
  }
  /** May the guest see this entry at all (stat it, see it in a listing)? */
  visible(guest: string): boolean {
    return this.readable(guest) || this.leadsToGrant(guest);
  }

  /**
   * Why directory `guest` may not be renamed: renaming it would move everything
   * below it to new names, possibly out of a blocked glob's reach (or a
   * read-only path's). `blocked` when a blocked glob or path could apply below
   * it (or anywhere, for a pattern such as `**\/*.key`), `read-only` when a
   * read-only path lies below it; undefined when it may be moved.
   */
  renameConflict(guest: string): 'blocked' | 'read-only' | undefined {
    const near = (base: string) => base === '' || within(base, guest) || within(guest, base);
    if (this.grant.blocked.some((g) => near(globBase(g))) || (this.grant.blockedPaths ?? []).some(near)) return 'blocked';
    if ((this.grant.readOnlyPaths ?? []).some(near)) return 'read-only';
    return undefined;
  }
}

/** Most symlinks one lookup follows (Linux's MAXSYMLINKS). */
const MAX_SYMLINK_HOPS = 40;

/** The symlinks below a preopen, as the walk asks about them (component `name` in directory root/stack). */
export interface LinkFacts {
  isLink(stack: readonly string[], name: string): boolean;
  readLink(stack: readonly string[], name: string): string;
}

/** Where a guest's relative lookup lands inside its preopen, or why it may not. */
export type Walk =
  | { ok: true; stack: string[] }
  | { ok: false; refused: 'absolute' | 'nul' | 'dotdot' | 'loop' }
  | { ok: false; refused: 'link-outside'; link: string[] };

/**
 * The meaning of a relative path under a preopen whose real path is `rootHost`:
 * walked one component at a time from `start` (components below the root), so
 * `..` can never climb above the root, and a symlink is followed only when its
 * target stays inside the root. `links` is the caller's lstat and readlink of
 * root/stack/name. `followLast` says whether a symlink in the last component
 * is followed.
 */
export function walkPath(rootHost: string, start: readonly string[], rel: string, followLast: boolean, links: LinkFacts): Walk {
  if (rel.startsWith('/')) return { ok: false, refused: 'absolute' };
  if (rel.includes('\0')) return { ok: false, refused: 'nul' };
  const stack = [...start];
  let queue = rel.split('/');
  let hops = 0;
  while (queue.length > 0) {
    const c = queue.shift() as string;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (stack.length === 0) return { ok: false, refused: 'dotdot' };
      stack.pop();
      continue;
    }
    const last = queue.every((q) => q === '' || q === '.');
    if (links.isLink(stack, c) && (!last || followLast)) {
      if (++hops > MAX_SYMLINK_HOPS) return { ok: false, refused: 'loop' };
      const target = links.readLink(stack, c);
      if (path.isAbsolute(target)) {
        // Only a target that names a place inside this root (by its host path) is followed.
        if (!within(rootHost, target)) return { ok: false, refused: 'link-outside', link: [...stack, c] };
        stack.length = 0;
        queue = [...target.slice(rootHost.length).split('/'), ...queue];
      } else {
        queue = [...target.split('/'), ...queue];
      }
      continue;
    }
    stack.push(c);
  }
  return { ok: true, stack };
}

// ---- Other enforcers: a container's bind mounts.

/** Entries inside a grant that a bind mount cannot honour (blocked globs and paths, read-only paths). */
export function unmountable(fs: FsGrant): string[] {
  return [...fs.blocked, ...(fs.blockedPaths ?? []), ...(fs.readOnlyPaths ?? [])];
}

/** Granted paths as mounts at the same path: read-only unless write is granted. */
export function mountModes(fs: FsGrant): { path: string; readonly: boolean }[] {
  const write = new Set(fs.write);
  const read = fs.read.filter((p) => !write.has(p));
  return [...read.map((p) => ({ path: p, readonly: true })), ...[...write].map((p) => ({ path: p, readonly: false }))];
}

// ---- Per-call grants: held to the policy's perCall ceiling (grants/per-call.ts).

/**
 * The paths among `paths` (absolute) that no ceiling entry covers: a path is
 * covered when it is inside a ceiling path both by name and by real path, so a
 * symlink inside the ceiling that points out of it is outside.
 */
export function outsideCeiling(paths: string[], ceiling: string[], baseDir: string, source: string, disk: PathFacts): string[] {
  const roots = ceiling.map((e) => grantPath(e, baseDir, 'POLICY_INVALID', `${source} perCall.fs`));
  return paths.filter((p) => !roots.some((c) => within(c, p) && within(realish(c, disk), realish(p, disk))));
}
