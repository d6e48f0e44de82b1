// Appends audit events to a hash-chained JSONL file. record() only queues the
// event: a per-file writer (group-commit.ts) seals queued events into lines and
// appends them in batches, one fdatasync per batch, off the event loop. So a
// record is on disk shortly after record() returns, not before: a crash of this
// process loses the records still queued, and a crash of the machine also the
// batch being written (README: Audit). close() waits for every record.
// Opening an existing file continues its chain from its last line; a last line
// that does not check out (truncated, edited) is refused rather than papered over.
import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { CapsuleError, messageOf } from '../errors.js';
import { refuseKernelPath } from '../kernel-paths.js';
import type { AuditEvent } from './event.js';
import { dropIfUnused, type GroupCommitWriter, writerFor } from './group-commit.js';

export interface Audit {
  /** Absolute path of the audit file; undefined when auditing is off. */
  readonly path: string | undefined;
  /** Queues the event; throws AUDIT_INVALID once an earlier batch could not be written. */
  record(event: AuditEvent): void;
  /** Resolves when every event recorded so far is on disk; rejects (AUDIT_INVALID) if a write failed. */
  flush(): Promise<void>;
  /** Flushes, then lets the file go; rejects (AUDIT_INVALID) if any write failed. */
  close(): Promise<void>;
}

/** Auditing off: records go nowhere. */
export const NO_AUDIT: Audit = {
  path: undefined,
  record() {},
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

export class AuditLog implements Audit {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly writer: GroupCommitWriter,
    private readonly onError: ((e: CapsuleError) => void) | undefined,
  ) {}

  /**
   * Opens `file` (creating it and its directory if needed) and checks its last
   * line now, so a broken file fails here rather than at the first call.
   * `onError` hears about a batch that could not be written, when it happens.
   */
  static async open(file: string, onError?: (e: CapsuleError) => void): Promise<AuditLog> {
    const abs = path.resolve(file);
    try {
      await mkdir(path.dirname(abs), { recursive: true });
    } catch (e) {
      throw new CapsuleError('AUDIT_INVALID', `audit log ${abs}: cannot create its directory: ${messageOf(e)}`);
    }
    // One writer per file: two paths to the same directory (a symlink) must share it.
    let real: string;
    try {
      real = path.join(await realpath(path.dirname(abs)), path.basename(abs));
    } catch (e) {
      throw new CapsuleError('AUDIT_INVALID', `audit log ${abs}: cannot resolve its directory: ${messageOf(e)}`);
    }
    const writer = writerFor(real);
    writer.refs++;
    try {
      await writer.check();
    } catch (e) {
      // The caller gets this error; onError is not told as well.
      writer.refs--;
      dropIfUnused(writer);
      throw e;
    }
    const log = new AuditLog(abs, writer, onError);
    if (onError) writer.listeners.add(onError);
    return log;
  }

  record(event: AuditEvent): void {
    // After close (a call still ending): the file's current writer, so writes stay one at a time.
    (this.closed ? writerFor(this.writer.path) : this.writer).enqueue(event);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return this.flush();
    try {
      await this.flush();
    } finally {
      this.release();
    }
  }

  private release(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.refs--;
    if (this.onError) this.writer.listeners.delete(this.onError);
    dropIfUnused(this.writer);
  }
}

/** `false` → off; a path → that file; undefined → $CAPSULE_AUDIT_LOG when set, else off. */
export async function openAudit(option: string | false | undefined, onError?: (e: CapsuleError) => void): Promise<Audit> {
  const file = option === undefined ? process.env.CAPSULE_AUDIT_LOG || undefined : option || undefined;
  if (file === undefined) return NO_AUDIT;
  // A log under /proc, /sys or /dev would spin or never be written: refused before it is opened.
  refuseKernelPath(file, 'the audit log', 'AUDIT_INVALID');
  return AuditLog.open(file, onError);
}
