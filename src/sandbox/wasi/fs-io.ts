// Helpers for capsule's wasi:filesystem: the WIT shapes jco passes, Node stat →
// WASI stat, and the streams over an open file.
import fs from 'node:fs';
import type { FsQuota } from './fs-quota.js';
import { codeOf } from './fs-scope.js';
import { CLOSED, InputStream, IoError, type ByteSink } from './streams.js';

export type Flags = { read?: boolean; write?: boolean; mutateDirectory?: boolean };
export type PathFlags = { symlinkFollow?: boolean };
export type OpenFlags = { create?: boolean; directory?: boolean; exclusive?: boolean; truncate?: boolean };
export type Datetime = { seconds: bigint; nanoseconds: number };
export type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: Datetime };
export type DescriptorType = 'directory' | 'regular-file' | 'symbolic-link' | 'fifo' | 'socket' | 'block-device' | 'character-device' | 'unknown';

/** Run a host operation, turning Node errors into WASI error codes. */
export function attempt<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw codeOf(e);
  }
}

export function typeOf(st: fs.Stats | fs.BigIntStats): DescriptorType {
  if (st.isDirectory()) return 'directory';
  if (st.isFile()) return 'regular-file';
  if (st.isSymbolicLink()) return 'symbolic-link';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isCharacterDevice()) return 'character-device';
  return 'unknown';
}

export const time = (ns: bigint): Datetime => ({ seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) });
export function statOf(st: fs.BigIntStats) {
  return {
    type: typeOf(st),
    linkCount: st.nlink,
    size: st.size,
    dataAccessTimestamp: time(st.atimeNs),
    dataModificationTimestamp: time(st.mtimeNs),
    statusChangeTimestamp: time(st.ctimeNs),
  };
}
export const hashOf = (st: fs.BigIntStats) => ({ lower: st.ino, upper: st.dev });

export function toDate(t: NewTimestamp, current: bigint): Date {
  if (t.tag === 'now') return new Date();
  if (t.tag === 'timestamp') return new Date(Number(t.val.seconds) * 1000 + t.val.nanoseconds / 1e6);
  return new Date(Number(current / 1_000_000n));
}

/** Writes to a file at a moving position (or always at the end), held to the call's write quota. */
export class FileSink implements ByteSink {
  constructor(
    private readonly fd: number,
    private position: number | null,
    private readonly quota: FsQuota,
    /** The file's guest path, for the denial when the quota is reached. */
    private readonly guest: string,
  ) {}
  push(bytes: Uint8Array): void {
    let allowed: number;
    try {
      allowed = this.quota.writable(bytes.length, this.guest);
    } catch (code) {
      throw { tag: 'last-operation-failed', val: new IoError(`write failed: ${code}`, code as string) };
    }
    try {
      // Append mode (position null): WASI has no O_APPEND at open, so write at the current end.
      const at = this.position ?? Number(fs.fstatSync(this.fd).size);
      const n = fs.writeSync(this.fd, bytes, 0, allowed, at);
      this.quota.wrote(n);
      if (this.position !== null) this.position += n;
    } catch (e) {
      throw { tag: 'last-operation-failed', val: new IoError(`write failed: ${codeOf(e)}`, codeOf(e)) };
    }
    // What did not fit is not written: the host file stops at the quota, and the guest hears ENOSPC.
    if (allowed < bytes.length) this.push(bytes.subarray(allowed));
  }
}

export class FileInputStream extends InputStream {
  constructor(
    private readonly fd: number,
    private position: number,
    /** Checks that a read buffer fits the call's memory limit before it is allocated. */
    private readonly fits: (bytes: number) => void,
  ) {
    super(new Uint8Array(0));
  }
  override read(len: bigint): Uint8Array {
    const size = Math.min(Number(len), 1 << 20);
    this.fits(size);
    const buf = new Uint8Array(size);
    let n: number;
    try {
      n = fs.readSync(this.fd, buf, 0, buf.length, this.position);
    } catch (e) {
      throw { tag: 'last-operation-failed', val: new IoError(`read failed: ${codeOf(e)}`, codeOf(e)) };
    }
    if (n === 0 && len > 0n) throw CLOSED;
    this.position += n;
    return buf.subarray(0, n);
  }
}
