// wasi:filesystem/*: capsule's own, scoped to one call's FsGrant. With no grant
// there are no preopens and the guest can never obtain a Descriptor. With one,
// each granted directory is preopened at its own absolute path; every path the
// guest names goes through FsScope (no `..` above a root, no symlink out, blocked
// wins, read-only unless write is granted). Refusals are WASI error codes
// (`access` → EACCES, `not-permitted` → EPERM) and are recorded as denials.
// Host functions are synchronous (no JSPI on Node 20): everything is fs.*Sync.
import fs from 'node:fs';
import { RESOURCE_BYTES, type CallBudget } from '../call-budget.js';
import type { DenialLog } from '../denial-log.js';
import type { FsGrant } from '../../grants/fs.js';
import { type DiskLimits, FsQuota, UNLIMITED_DISK } from './fs-quota.js';
import { codeOf, FsScope, type FsErrorCode, type Resolved, type Root } from './fs-scope.js';
import {
  attempt,
  FileInputStream,
  FileSink,
  hashOf,
  statOf,
  toDate,
  typeOf,
  type DescriptorType,
  type Flags,
  type NewTimestamp,
  type OpenFlags,
  type PathFlags,
} from './fs-io.js';
import { type InputStream, IoError, OutputStream } from './streams.js';

const symbolDispose: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

/** One call's open files: closed when the guest drops them or when the call ends. */
class CallFs {
  readonly open = new Set<number>();
  constructor(
    readonly scope: FsScope,
    /** Listings and read buffers count against the call's memory limit. */
    readonly budget: CallBudget,
    /** Bytes written, files created and descriptors held count against the call's disk limits. */
    readonly quota: FsQuota,
    readonly seams: FsSeams = {},
  ) {}
  closeAll(): void {
    for (const fd of this.open) fs.closeSync(fd);
    this.open.clear();
  }
}

/** Test-only hooks: let a test act as a concurrent host process at a chosen moment. */
export interface FsSeams {
  /** Called after every check, just before a file is opened by its host path. */
  beforeOpen?(host: string): void;
}

/**
 * Removes a file capsule just created (O_EXCL) that turned out to lie outside the
 * grant: found by the descriptor's real path, and unlinked only if that name is
 * still the same file, so nothing else is ever removed.
 */
function removeCreated(fd: number, opened: fs.Stats): void {
  try {
    const real = fs.readlinkSync(`/proc/self/fd/${fd}`);
    const now = fs.lstatSync(real);
    if (now.dev === opened.dev && now.ino === opened.ino) fs.unlinkSync(real);
  } catch {
    // Already gone, or renamed by whoever raced us: nothing of ours to remove.
  }
}

export class Descriptor {
  private constructor(
    private readonly call: CallFs,
    /** Where it is, in guest and host terms. */
    readonly at: Resolved,
    /** An open file's descriptor; directories are used by (checked) path. */
    private readonly fd: number | null,
    private readonly flags: Flags,
    /** Opened by the guest (not a preopen): counted against limits.openFiles until dropped. */
    private held = false,
  ) {}

  static preopen(call: CallFs, root: Root): Descriptor {
    return new Descriptor(call, { root, guest: root.guest, host: root.host }, null, { read: true, mutateDirectory: true });
  }

  private get scope(): FsScope {
    return this.call.scope;
  }
  private dir(): Resolved {
    if (this.fd !== null) throw 'not-directory' satisfies FsErrorCode;
    this.scope.checkStillInside(this.at);
    return this.at;
  }
  private file(): number {
    if (this.fd === null) throw 'is-directory' satisfies FsErrorCode;
    return this.fd;
  }
  private lookup(rel: string, follow = false): Resolved {
    const dir = this.dir();
    return attempt(() => this.scope.resolve(dir.root, dir.host, rel, follow));
  }
  private hostStat(): fs.BigIntStats {
    return attempt(() => (this.fd !== null ? fs.fstatSync(this.fd, { bigint: true }) : fs.statSync(this.at.host, { bigint: true })));
  }

  readViaStream(offset: bigint): InputStream {
    if (!this.flags.read) throw 'bad-descriptor' satisfies FsErrorCode;
    return new FileInputStream(this.file(), Number(offset), (n) => this.call.budget.fits(n, 'a wasi:filesystem read'));
  }
  writeViaStream(offset: bigint): OutputStream {
    if (!this.flags.write) throw 'bad-descriptor' satisfies FsErrorCode;
    return new OutputStream(new FileSink(this.file(), Number(offset), this.call.quota, this.at.guest));
  }
  appendViaStream(): OutputStream {
    if (!this.flags.write) throw 'bad-descriptor' satisfies FsErrorCode;
    return new OutputStream(new FileSink(this.file(), null, this.call.quota, this.at.guest));
  }
  advise(): void {}
  syncData(): void {
    if (this.fd !== null) attempt(() => fs.fdatasyncSync(this.fd as number));
  }
  sync(): void {
    if (this.fd !== null) attempt(() => fs.fsyncSync(this.fd as number));
  }
  getFlags(): Flags {
    return { ...this.flags };
  }
  getType(): DescriptorType {
    return typeOf(this.hostStat());
  }
  setSize(size: bigint): void {
    if (!this.flags.write) throw 'bad-descriptor' satisfies FsErrorCode;
    const fd = this.file();
    // Growing a file counts as writing what it grows by (a sparse tail is still a file other tools read whole).
    const grows = Math.max(0, Number(size) - Number(this.hostStat().size));
    this.call.quota.mustFit(grows, this.at.guest);
    attempt(() => fs.ftruncateSync(fd, Number(size)));
    this.call.quota.wrote(grows);
  }
  setTimes(atime: NewTimestamp, mtime: NewTimestamp): void {
    this.scope.checkWritable(this.at);
    const st = this.hostStat();
    const a = toDate(atime, st.atimeNs);
    const m = toDate(mtime, st.mtimeNs);
    attempt(() => (this.fd !== null ? fs.futimesSync(this.fd, a, m) : fs.utimesSync(this.dir().host, a, m)));
  }
  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    if (!this.flags.read) throw 'bad-descriptor' satisfies FsErrorCode;
    const fd = this.file();
    const size = Math.min(Number(length), 1 << 20);
    this.call.budget.fits(size, 'a wasi:filesystem read');
    const buf = new Uint8Array(size);
    const n = attempt(() => fs.readSync(fd, buf, 0, buf.length, Number(offset)));
    return [buf.subarray(0, n), n === 0 && length > 0n];
  }
  write(buffer: Uint8Array, offset: bigint): bigint {
    if (!this.flags.write) throw 'bad-descriptor' satisfies FsErrorCode;
    const fd = this.file();
    // A write past the quota writes what is left of it (a short write, as POSIX does), then ENOSPC.
    const allowed = this.call.quota.writable(buffer.length, this.at.guest);
    const n = attempt(() => fs.writeSync(fd, buffer, 0, allowed, Number(offset)));
    this.call.quota.wrote(n);
    return BigInt(n);
  }
  readDirectory(): DirectoryEntryStream {
    const dir = this.dir();
    const entries = attempt(() => fs.readdirSync(dir.host, { withFileTypes: true }))
      .filter((e) => this.scope.visible(`${dir.guest === '/' ? '' : dir.guest}/${e.name}`))
      .map((e) => ({ name: e.name, type: typeOf(e as unknown as fs.Stats) }));
    return new DirectoryEntryStream(entries, this.call.budget);
  }
  createDirectoryAt(rel: string): void {
    const r = this.lookup(rel);
    this.scope.checkWritable(r);
    this.call.quota.mayCreate(r.guest);
    attempt(() => fs.mkdirSync(r.host));
    this.call.quota.didCreate();
  }
  stat(): ReturnType<typeof statOf> {
    return statOf(this.hostStat());
  }
  statAt(pf: PathFlags, rel: string): ReturnType<typeof statOf> {
    const r = this.lookup(rel, pf.symlinkFollow === true);
    this.scope.checkVisible(r);
    return statOf(attempt(() => fs.lstatSync(r.host, { bigint: true })));
  }
  setTimesAt(pf: PathFlags, rel: string, atime: NewTimestamp, mtime: NewTimestamp): void {
    const r = this.lookup(rel, pf.symlinkFollow === true);
    this.scope.checkWritable(r);
    const st = attempt(() => fs.lstatSync(r.host, { bigint: true }));
    attempt(() => fs.lutimesSync(r.host, toDate(atime, st.atimeNs), toDate(mtime, st.mtimeNs)));
  }
  linkAt(_pf: PathFlags, oldPath: string): void {
    // A hard link could make a file reachable under a second (maybe ungranted) name.
    throw this.scope.deny('not-permitted', oldPath, 'creating hard links is not permitted');
  }
  symlinkAt(oldPath: string, newPath: string): void {
    // A symlink is a pointer the host itself might later follow: never created by guests.
    throw this.scope.deny('not-permitted', `${newPath} -> ${oldPath}`, 'creating symlinks is not permitted');
  }
  openAt(pf: PathFlags, rel: string, of: OpenFlags, flags: Flags): Descriptor {
    const r = this.lookup(rel, pf.symlinkFollow !== false);
    const wantsWrite = flags.write === true || of.create === true || of.truncate === true;
    if (wantsWrite) this.scope.checkWritable(r);
    const st = fs.lstatSync(r.host, { throwIfNoEntry: false });
    if (st?.isDirectory() || (of.directory && !st)) {
      if (!st) throw 'no-entry' satisfies FsErrorCode;
      if (flags.write) throw 'is-directory' satisfies FsErrorCode;
      this.scope.checkVisible(r);
      this.call.quota.mayOpen(r.guest);
      this.call.quota.opened();
      return new Descriptor(this.call, r, null, { read: flags.read, mutateDirectory: flags.mutateDirectory }, true);
    }
    if (of.directory) throw 'not-directory' satisfies FsErrorCode;
    // A FIFO, socket or device would block this thread inside open(2), where no
    // timeout can reach it (worker.terminate() cannot interrupt a system call).
    if (st && !st.isFile()) throw this.scope.deny('access', r.guest, 'not a regular file or directory');
    if (!wantsWrite) this.scope.checkReadable(r);
    // A file with several names may be a hard link to something outside the grant.
    if (wantsWrite && st && st.nlink > 1) {
      throw this.scope.deny('not-permitted', r.guest, 'file has more than one hard link; writing through it is refused');
    }
    this.call.quota.mayOpen(r.guest);
    const fd = this.openChecked(r, of, flags, st === undefined);
    this.call.open.add(fd);
    this.call.quota.opened();
    return new Descriptor(this.call, r, fd, { read: flags.read, write: flags.write }, true);
  }
  /**
   * Opens a regular file so that creating or truncating it takes effect only once
   * the opened file is known to be inside the grant: a directory on the way may be
   * swapped for a symlink by another host process after the lstat walk. So the open
   * never truncates (O_TRUNC): ftruncate follows the check. A file that had to be
   * created is created with O_EXCL, so capsule knows it made it, and is removed
   * again when it turns out to lie outside.
   */
  private openChecked(r: Resolved, of: OpenFlags, flags: Flags, missing: boolean): number {
    // Truncating needs a writable descriptor even when the guest only reads (its Descriptor stays read-only).
    const write = flags.write === true || of.truncate === true;
    let mode = flags.read && write ? fs.constants.O_RDWR : write ? fs.constants.O_WRONLY : fs.constants.O_RDONLY;
    mode |= fs.constants.O_NOFOLLOW; // the last component was resolved already: never follow a swapped-in link
    mode |= fs.constants.O_NONBLOCK; // and a FIFO swapped in after the check cannot block the open
    const create = of.create === true && (of.exclusive === true || missing);
    this.call.seams.beforeOpen?.(r.host);
    const exclusive = () => {
      this.call.quota.mayCreate(r.guest);
      const made = fs.openSync(r.host, mode | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
      this.call.quota.didCreate();
      return made;
    };
    const existing = () => fs.openSync(r.host, mode);
    let fd: number;
    let created = false;
    try {
      // Whoever made or removed the file in between, fall back once to the other way;
      // only the guest's own `exclusive` makes an existing file an error.
      if (create) {
        try {
          fd = exclusive();
          created = true;
        } catch (e) {
          if (of.exclusive || (e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          fd = existing();
        }
      } else {
        try {
          fd = existing();
        } catch (e) {
          if (!of.create || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          fd = exclusive();
          created = true;
        }
      }
    } catch (e) {
      throw codeOf(e);
    }
    try {
      const opened = attempt(() => fs.fstatSync(fd));
      try {
        this.scope.checkOpened(r, fd);
      } catch (e) {
        if (created) removeCreated(fd, opened);
        throw e;
      }
      if (opened.isDirectory()) throw 'is-directory' satisfies FsErrorCode;
      if (!opened.isFile()) throw this.scope.deny('access', r.guest, 'not a regular file or directory');
      if (write && !created && opened.nlink > 1) {
        throw this.scope.deny('not-permitted', r.guest, 'file has more than one hard link; writing through it is refused');
      }
      if (of.truncate) attempt(() => fs.ftruncateSync(fd, 0));
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    return fd;
  }
  readlinkAt(rel: string): string {
    const r = this.lookup(rel, false);
    this.scope.checkReadable(r);
    const target = attempt(() => fs.readlinkSync(r.host));
    // Resolving the link itself must stay inside the root; otherwise the guest learns nothing.
    attempt(() => this.scope.resolve(r.root, this.at.host, rel, true));
    return target;
  }
  removeDirectoryAt(rel: string): void {
    const r = this.lookup(rel);
    this.scope.checkWritable(r);
    if (r.host === r.root.host) throw this.scope.deny('not-permitted', r.guest, 'a granted directory itself cannot be removed');
    attempt(() => fs.rmdirSync(r.host));
  }
  renameAt(oldPath: string, newDir: Descriptor, newPath: string): void {
    const from = this.lookup(oldPath);
    const to = newDir.lookup(newPath);
    if (from.root !== to.root) throw this.scope.deny('cross-device', `${from.guest} -> ${to.guest}`, 'rename across grants');
    this.scope.checkWritable(from);
    this.scope.checkWritable(to);
    if (attempt(() => fs.lstatSync(from.host)).isDirectory()) this.scope.checkMovableDir(from);
    if (to.host === to.root.host) throw this.scope.deny('not-permitted', to.guest, 'a granted directory itself cannot be replaced');
    attempt(() => fs.renameSync(from.host, to.host));
  }
  unlinkFileAt(rel: string): void {
    const r = this.lookup(rel);
    this.scope.checkWritable(r);
    const st = attempt(() => fs.lstatSync(r.host));
    if (st.isDirectory()) throw 'is-directory' satisfies FsErrorCode;
    attempt(() => fs.unlinkSync(r.host));
  }
  isSameObject(other: Descriptor): boolean {
    const a = this.hostStat();
    const b = other.hostStat();
    return a.dev === b.dev && a.ino === b.ino;
  }
  metadataHash() {
    return hashOf(this.hostStat());
  }
  metadataHashAt(pf: PathFlags, rel: string) {
    const r = this.lookup(rel, pf.symlinkFollow === true);
    this.scope.checkVisible(r);
    return hashOf(attempt(() => fs.lstatSync(r.host, { bigint: true })));
  }
  [symbolDispose](): void {
    if (this.held) {
      this.held = false;
      this.call.quota.closed();
    }
    if (this.fd !== null && this.call.open.delete(this.fd)) fs.closeSync(this.fd);
  }
}

export class DirectoryEntryStream {
  private next = 0;
  private held: number;
  /** The listing is held until the guest drops the stream: charged to the call, as a guest may list a big directory over and over. */
  constructor(
    private readonly entries: { name: string; type: DescriptorType }[],
    private readonly budget: CallBudget,
  ) {
    this.held = entries.reduce((n, e) => n + 64 + 2 * e.name.length, RESOURCE_BYTES);
    budget.charge(this.held, 'a wasi:filesystem directory listing');
  }
  readDirectoryEntry(): { name: string; type: DescriptorType } | undefined {
    return this.entries[this.next++];
  }
  [symbolDispose](): void {
    this.budget.release(this.held);
    this.held = 0;
  }
}

export interface FilesystemCall {
  interfaces: Record<string, object>;
  /** Close every file the guest left open. */
  close(): void;
}

export function filesystemInterfaces(
  grant: FsGrant,
  denials: DenialLog,
  budget: CallBudget,
  seams: FsSeams = {},
  limits: DiskLimits = UNLIMITED_DISK,
): FilesystemCall {
  const call = new CallFs(new FsScope(grant, denials), budget, new FsQuota(limits, denials), seams);
  const preopens = call.scope.roots().map((root): [Descriptor, string] => [Descriptor.preopen(call, root), root.guest]);
  return {
    interfaces: {
      'wasi:filesystem/preopens': { getDirectories: (): [Descriptor, string][] => preopens.slice() },
      'wasi:filesystem/types': {
        Descriptor,
        DirectoryEntryStream,
        filesystemErrorCode: (err: unknown) => (err instanceof IoError ? err.code : undefined),
      },
    },
    close: () => call.closeAll(),
  };
}
