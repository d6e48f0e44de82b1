// One call's filesystem grant applied on the host: the rules (which guest
// paths may be read or written, what `..` and a symlink mean) are
// src/grants/fs.ts; this file does the lstat, readlink and realpath they ask
// for, and records each refusal in the call's denial log.
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { type FsGrant, FsRules, walkPath, within } from '../../grants/fs.js';
import type { DenialLog } from '../denial-log.js';

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
  | 'quota'
  | 'busy'
  | 'read-only'
  | 'io';

/** Thrown by the host functions: jco's glue turns a thrown string into `err(code)`. */
export type FsFailure = FsErrorCode;

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

export class FsScope extends FsRules {
  constructor(
    grant: FsGrant,
    private readonly denials: DenialLog,
  ) {
    super(grant);
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
    const conflict = this.renameConflict(r.guest);
    if (conflict === 'blocked') throw this.deny('access', r.guest, 'blocked paths may lie below this directory; it cannot be renamed');
    if (conflict === 'read-only') {
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
    const start = path.relative(root.host, dir).split('/').filter(Boolean);
    const links = {
      isLink: (stack: readonly string[], name: string) => lstatSync(path.join(root.host, ...stack, name), { throwIfNoEntry: false })?.isSymbolicLink() === true,
      readLink: (stack: readonly string[], name: string) => readlinkSync(path.join(root.host, ...stack, name)),
    };
    const walk = walkPath(root.host, start, rel, followLast, links);
    if (walk.ok) return { root, guest: path.posix.join(root.guest, ...walk.stack), host: path.join(root.host, ...walk.stack) };
    switch (walk.refused) {
      case 'absolute':
        throw this.deny('not-permitted', rel, 'absolute path in a relative lookup');
      case 'nul':
        throw this.deny('invalid', shown, 'NUL in path');
      case 'dotdot':
        throw this.deny('not-permitted', shown, `.. leads out of ${root.guest}`);
      case 'loop':
        throw 'loop' satisfies FsFailure;
      case 'link-outside':
        throw this.deny('not-permitted', shown, `symlink ${path.join(root.guest, ...walk.link)} points outside ${root.guest}`);
    }
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
