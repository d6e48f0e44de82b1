// The rules of one call's filesystem grant: which guest paths may be read or
// written, and how a path the guest names is resolved on the host without
// escaping its preopen. Resolution walks one component at a time with lstat
// from the held root, so `..` can never climb above the root and a symlink is
// followed only when its target stays inside the root.
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import type { DenialLog } from '../denial-log.js';
import type { FsGrant } from '../job.js';
import { globBase } from './glob-text.js';

/** WASI filesystem error codes capsule raises itself. */
export type FsErrorCode =
  | 'access'
  | 'not-permitted'
  | 'no-entry'
  | 'loop'
  | 'not-directory'
  | 'bad-descriptor'
  | 'invalid'
  | 'cross-device'
  | 'exist'
  | 'is-directory'
  | 'not-empty'
  | 'name-too-long'
  | 'insufficient-space'
  | 'busy'
  | 'read-only'
  | 'io';

/** Thrown by the host functions: jco's glue turns a thrown string into `err(code)`. */
export type FsFailure = FsErrorCode;

const MAX_SYMLINK_HOPS = 40;

/** A preopened directory: what the guest calls it and where it is on the host. */
export interface Root {
  /** The granted path, as the guest sees it. */
  guest: string;
  /** Its real path on the host, resolved once when the call starts. */
  host: string;
}

/** A path inside a root, as the guest names it and as the host opens it. */
export interface Resolved {
  root: Root;
  guest: string;
  host: string;
}

export const within = (parent: string, p: string): boolean =>
  p === parent || p.startsWith(parent.endsWith('/') ? parent : `${parent}/`);

export class FsScope {
  private readonly isBlocked: (p: string) => boolean;

  constructor(
    readonly grant: FsGrant,
    private readonly denials: DenialLog,
  ) {
    const match = grant.blocked.length > 0 ? picomatch(grant.blocked, { dot: true }) : () => false;
    this.isBlocked = (p) => match(p);
  }

  /** The preopens as roots; a granted directory that is missing or not a directory is skipped. */
  roots(): Root[] {
    const roots: Root[] = [];
    for (const guest of this.grant.preopens) {
      try {
        const host = realpathSync(guest);
        const expected = this.grant.preopenReal?.[guest];
        if (expected !== undefined && expected !== host) {
          this.deny('access', guest, `now resolves to ${host}, not ${expected} as when it was granted`);
          continue;
        }
        roots.push({ guest, host });
      } catch {
        // Not there: the guest simply does not see it.
      }
    }
    return roots;
  }

  /** Record the refusal and return the WASI code to throw. */
  deny(code: FsErrorCode, target: string, reason: string): FsErrorCode {
    this.denials.push({ kind: 'fs', target, reason });
    return code;
  }

  blocked(guest: string): boolean {
    return (this.grant.blockedPaths ?? []).some((b) => within(b, guest)) || this.isBlocked(guest);
  }
  readable(guest: string): boolean {
    return !this.blocked(guest) && [...this.grant.read, ...this.grant.write].some((g) => within(g, guest));
  }
  writable(guest: string): boolean {
    return (
      !this.blocked(guest) &&
      this.grant.write.some((g) => within(g, guest)) &&
      !(this.grant.readOnlyPaths ?? []).some((p) => within(p, guest))
    );
  }
  /** A directory on the way to a granted path (may be opened and listed, filtered). */
  leadsToGrant(guest: string): boolean {
    return !this.blocked(guest) && [...this.grant.read, ...this.grant.write].some((g) => within(guest, g));
  }
  /** May the guest see this entry at all (stat it, see it in a listing)? */
  visible(guest: string): boolean {
    return this.readable(guest) || this.leadsToGrant(guest);
  }

  /** Throws `access` unless the guest may read `r` (or pass through it to a grant). */
  checkVisible(r: Resolved): void {
    if (this.blocked(r.guest)) throw this.deny('access', r.guest, 'matches a blocked path');
    if (!this.visible(r.guest)) throw this.deny('access', r.guest, 'not granted for reading');
  }
  checkReadable(r: Resolved): void {
    if (this.blocked(r.guest)) throw this.deny('access', r.guest, 'matches a blocked path');
    if (!this.readable(r.guest)) throw this.deny('access', r.guest, 'not granted for reading');
  }
  checkWritable(r: Resolved): void {
    if (this.blocked(r.guest)) throw this.deny('access', r.guest, 'matches a blocked path');
    if (!this.writable(r.guest)) throw this.deny('not-permitted', r.guest, 'not granted for writing (read-only)');
  }

  /**
   * Renaming a directory would move everything below it to new names, possibly
   * out of a blocked glob's reach: refused when a blocked glob could apply
   * below it (or anywhere, for a pattern such as `**\/*.key`). A preopen itself
   * is never moved or removed.
   */
  checkMovableDir(r: Resolved): void {
    if (r.host === r.root.host) throw this.deny('not-permitted', r.guest, 'a granted directory itself cannot be moved or removed');
    const near = (base: string) => base === '' || within(base, r.guest) || within(r.guest, base);
    const overlaps = this.grant.blocked.some((g) => near(globBase(g))) || (this.grant.blockedPaths ?? []).some(near);
    if (overlaps) throw this.deny('access', r.guest, 'blocked paths may lie below this directory; it cannot be renamed');
    if ((this.grant.readOnlyPaths ?? []).some(near)) {
      throw this.deny('not-permitted', r.guest, 'read-only paths lie below this directory; it cannot be renamed');
    }
  }

  /**
   * Resolve `rel` (as given to an `*-at` call) against directory `dir` of `root`.
   * `followLast` says whether a symlink in the last component is followed.
   * Refuses absolute paths, `..` above the root and symlinks leading out of it.
   */
  resolve(root: Root, dir: string, rel: string, followLast: boolean): Resolved {
    // As the guest named it (not normalized), for denial messages.
    const inDir = path.relative(root.host, dir);
    const shown = [root.guest === '/' ? '' : root.guest, ...(inDir ? [inDir] : []), rel].join('/');
    if (rel.startsWith('/')) throw this.deny('not-permitted', rel, 'absolute path in a relative lookup');
    if (rel.includes('\0')) throw this.deny('invalid', shown, 'NUL in path');
    const stack = path.relative(root.host, dir).split('/').filter(Boolean);
    let queue = rel.split('/');
    let hops = 0;
    while (queue.length > 0) {
      const c = queue.shift() as string;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (stack.length === 0) throw this.deny('not-permitted', shown, `.. leads out of ${root.guest}`);
        stack.pop();
        continue;
      }
      const last = queue.every((q) => q === '' || q === '.');
      const host = path.join(root.host, ...stack, c);
      const st = lstatSync(host, { throwIfNoEntry: false });
      if (st?.isSymbolicLink() && (!last || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) throw 'loop' satisfies FsFailure;
        const target = readlinkSync(host);
        if (path.isAbsolute(target)) {
          // Only a target that names a place inside this root (by its host path) is followed.
          if (!within(root.host, target)) {
            throw this.deny('not-permitted', shown, `symlink ${path.join(root.guest, ...stack, c)} points outside ${root.guest}`);
          }
          stack.length = 0;
          queue = [...target.slice(root.host.length).split('/'), ...queue];
        } else {
          queue = [...target.split('/'), ...queue];
        }
        continue;
      }
      stack.push(c);
    }
    return { root, guest: path.posix.join(root.guest, ...stack), host: path.join(root.host, ...stack) };
  }

  /** After opening: the real path of what was opened must still be inside the root. */
  checkOpened(r: Resolved, fd: number): void {
    let real: string;
    try {
      real = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return; // no /proc (not Linux): the lstat walk is the only check (docs/security.md)
    }
    if (!within(r.root.host, real)) throw this.deny('not-permitted', r.guest, 'the opened file is outside the grant (path changed during open)');
  }

  /** Before using a directory by path: it must still resolve inside its root. */
  checkStillInside(r: Resolved): void {
    let real: string;
    try {
      real = realpathSync(r.host);
    } catch {
      return; // gone: the operation itself will report no-entry
    }
    if (!within(r.root.host, real)) throw this.deny('not-permitted', r.guest, 'the directory now resolves outside the grant');
  }
}

/** Node error → WASI error code. */
export function codeOf(e: unknown): FsErrorCode {
  if (typeof e === 'string') return e as FsErrorCode;
  const code = (e as { code?: string } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no-entry';
    case 'EEXIST':
      return 'exist';
    case 'ENOTDIR':
      return 'not-directory';
    case 'EISDIR':
      return 'is-directory';
    case 'ENOTEMPTY':
      return 'not-empty';
    case 'EACCES':
      return 'access';
    case 'EPERM':
      return 'not-permitted';
    case 'ELOOP':
      return 'loop';
    case 'EXDEV':
      return 'cross-device';
    case 'EBADF':
      return 'bad-descriptor';
    case 'EINVAL':
      return 'invalid';
    case 'ENAMETOOLONG':
      return 'name-too-long';
    case 'ENOSPC':
      return 'insufficient-space';
    case 'EBUSY':
      return 'busy';
    case 'EROFS':
      return 'read-only';
    default:
      return 'io';
  }
}
