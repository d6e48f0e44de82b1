// One call's disk and descriptor limits in capsule's wasi:filesystem: a writable
// grant could otherwise fill the disk (or the inode table, or the host process's
// descriptor table, which every worker shares) until the call's timeout. What is
// counted: bytes handed to write (a stream, `write`, and what `set-size` grows a
// file by), files and directories created, descriptors the guest holds open.
// Going past a limit is an error code the guest sees (ENOSPC, EDQUOT) and a
// denial the call reports; the host never writes a byte past the quota.
import type { DenialLog } from '../denial-log.js';
import type { Limits } from '../job.js';

export type DiskLimits = Required<Pick<Limits, 'writeBytes' | 'files' | 'openFiles'>>;

/** What a call may spend when its limits say nothing (the runtime always sets them: policy/decide.ts). */
export const UNLIMITED_DISK: DiskLimits = { writeBytes: Number.POSITIVE_INFINITY, files: Number.POSITIVE_INFINITY, openFiles: Number.POSITIVE_INFINITY };

/** A call's disk limits from its Limits; one that is not set counts nothing. */
export function diskLimits(l: Limits): DiskLimits {
  return {
    writeBytes: l.writeBytes ?? UNLIMITED_DISK.writeBytes,
    files: l.files ?? UNLIMITED_DISK.files,
    openFiles: l.openFiles ?? UNLIMITED_DISK.openFiles,
  };
}

export class FsQuota {
  private written = 0;
  private created = 0;
  private held = 0;
  constructor(
    readonly limits: DiskLimits,
    private readonly denials: DenialLog,
  ) {}

  /**
   * How many of `n` bytes to `guest` may be written now: all of them, or what is
   * left of the quota when that is less (the caller writes only those). Nothing
   * left: ENOSPC (`insufficient-space`) and a denial.
   */
  writable(n: number, guest: string): number {
    const left = this.limits.writeBytes - this.written;
    if (n > 0 && left <= 0) throw this.full(guest);
    return Math.min(n, left);
  }
  /** All of `n` bytes fit, or ENOSPC and a denial (for what cannot be done in part: growing a file). */
  mustFit(n: number, guest: string): void {
    if (n > this.limits.writeBytes - this.written) throw this.full(guest);
  }
  private full(guest: string): 'insufficient-space' {
    return this.refuse('insufficient-space', guest, `write quota of ${this.limits.writeBytes} bytes (limits.writeBytes) reached`);
  }
  /** Counts bytes actually written. */
  wrote(n: number): void {
    this.written += n;
  }

  /** Before creating a file or directory: EDQUOT (`quota`) and a denial when the call has created `files` already. */
  mayCreate(guest: string): void {
    if (this.created >= this.limits.files) throw this.refuse('quota', guest, `file quota of ${this.limits.files} created files (limits.files) reached`);
  }
  didCreate(): void {
    this.created++;
  }

  /** Before opening a descriptor: EDQUOT (`quota`) and a denial when the guest holds `openFiles` already (WASI has no EMFILE). */
  mayOpen(guest: string): void {
    if (this.held >= this.limits.openFiles) {
      throw this.refuse('quota', guest, `limit of ${this.limits.openFiles} open descriptors (limits.openFiles) reached`);
    }
  }
  opened(): void {
    this.held++;
  }
  closed(): void {
    this.held--;
  }

  private refuse<C extends string>(code: C, target: string, reason: string): C {
    this.denials.push({ kind: 'fs', target, reason });
    return code;
  }
}
