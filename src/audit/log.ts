// Appends audit events to a hash-chained JSONL file. Each record is written and
// fdatasync'ed before record() returns, so a line survives a crash of the guest,
// of a worker, or of this process right after. Opening an existing file
// continues its chain from its last line; a last line that does not check out
// (truncated, edited) is refused rather than papered over.
import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { CapsuleError, messageOf } from '../errors.js';
import { type ChainState, EMPTY_CHAIN, openLine, sealLine, sha256 } from './chain.js';
import type { AuditEvent } from './event.js';

export interface Audit {
  /** Absolute path of the audit file; undefined when auditing is off. */
  readonly path: string | undefined;
  record(event: AuditEvent): void;
}

/** Auditing off: records go nowhere. */
export const NO_AUDIT: Audit = { path: undefined, record() {} };

export class AuditLog implements Audit {
  readonly path: string;
  /** The chain state and the file size it was read at: another writer changes the size. */
  private tail: { size: number; state: ChainState } | undefined;

  /** Opens (creating it if needed) and checks the last line now, so a broken file fails early. */
  constructor(file: string) {
    this.path = path.resolve(file);
    try {
      mkdirSync(path.dirname(this.path), { recursive: true });
    } catch (e) {
      throw this.failure('cannot create its directory', e);
    }
    this.withFile(() => undefined);
  }

  record(event: AuditEvent): void {
    this.withFile((fd, state) => {
      const { line, next } = sealLine(state, new Date(), event);
      const bytes = Buffer.from(`${line}\n`, 'utf8');
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off);
      fdatasyncSync(fd);
      return { written: bytes.length, next };
    });
  }

  private withFile(write: (fd: number, state: ChainState) => { written: number; next: ChainState } | undefined): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'a+', 0o600);
    } catch (e) {
      throw this.failure('cannot open', e);
    }
    try {
      const size = fstatSync(fd).size;
      const state = this.tail?.size === size ? this.tail.state : readTailState(fd, size, this.path);
      this.tail = { size, state };
      const done = write(fd, state);
      if (done) this.tail = { size: size + done.written, state: done.next };
    } catch (e) {
      if (e instanceof CapsuleError) throw e;
      throw this.failure('cannot append', e);
    } finally {
      closeSync(fd);
    }
  }

  private failure(what: string, e: unknown): CapsuleError {
    return new CapsuleError('AUDIT_INVALID', `audit log ${this.path}: ${what}: ${messageOf(e)}`);
  }
}

/** The chain state after the file's last line, read from its end. */
function readTailState(fd: number, size: number, file: string): ChainState {
  if (size === 0) return EMPTY_CHAIN;
  let chunk = Math.min(size, 64 * 1024);
  for (;;) {
    const buf = Buffer.alloc(chunk);
    readSync(fd, buf, 0, chunk, size - chunk);
    const text = buf.toString('utf8');
    const broken = (why: string) =>
      new CapsuleError('AUDIT_INVALID', `audit log ${file}: its last line ${why}; run capsule audit verify ${file}`);
    if (!text.endsWith('\n')) throw broken('has no newline at its end (a truncated write)');
    const start = text.lastIndexOf('\n', text.length - 2);
    if (start < 0 && chunk < size) {
      chunk = Math.min(size, chunk * 4);
      continue;
    }
    const last = text.slice(start + 1, -1);
    const r = openLine(last);
    if (typeof r === 'string') throw broken(`is broken: ${r}`);
    return { seq: r.seq, prev: sha256(last) };
  }
}

/** `false` → off; a path → that file; undefined → $CAPSULE_AUDIT_LOG when set, else off. */
export function openAudit(option: string | false | undefined): Audit {
  const file = option === undefined ? process.env.CAPSULE_AUDIT_LOG || undefined : option || undefined;
  return file === undefined ? NO_AUDIT : new AuditLog(file);
}
