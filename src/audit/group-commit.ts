// One writer per audit file per process, shared by every AuditLog on that file.
// Records queue here and are written in batches (group commit): one append and
// one fdatasync per batch, through fs/promises, so the blocking calls run on
// libuv's thread pool and never on the event loop. While a batch is being
// written, new records wait in the queue and go out together in the next one.
//
// Why fs/promises and not a worker thread: the only work left on the event loop
// is sealing the lines (a JSON.stringify and two SHA-256 of at most a few KiB per
// line, a batch capped at MAX_BATCH lines), which costs microseconds; a worker
// would add a thread, a message per batch, and a second place where the chain
// state lives, for no measurable gain.
//
// The chain: each batch is sealed when it is written, from the state after the
// file's last line. That state is cached with the file size it was read at; when
// the size differs (another process appended), the last line is read again, as
// the synchronous writer did before. Within this process all writes to a file go
// through this one queue, so two runtimes sharing a file cannot interleave.
import { type FileHandle, open } from 'node:fs/promises';
import { CapsuleError, messageOf } from '../errors.js';
import { type ChainState, EMPTY_CHAIN, openLine, sealLine, sha256 } from './chain.js';
import type { AuditEvent } from './event.js';

/** Lines sealed and written per write+fdatasync, so one batch holds the event loop for well under a millisecond per hundred lines. */
const MAX_BATCH = 256;

interface Pending {
  time: Date;
  event: AuditEvent;
}

export class GroupCommitWriter {
  private queue: Pending[] = [];
  /** The last operation queued on the file; every file operation chains here, one at a time. */
  private tailOp: Promise<void> = Promise.resolve();
  /** A flush operation is queued but has not started taking records yet. */
  private scheduled = false;
  private active = 0;
  private tail: { size: number; state: ChainState } | undefined;
  /** Set when a batch could not be written; from then on nothing more is accepted. */
  failure: CapsuleError | undefined;
  /** AuditLogs open on this writer, and who hears about a failure. */
  refs = 0;
  readonly listeners = new Set<(e: CapsuleError) => void>();

  constructor(readonly path: string) {}

  /** Queues one record; throws the failure once a batch could not be written (fail closed). */
  enqueue(event: AuditEvent): void {
    if (this.failure) throw this.failure;
    this.queue.push({ time: new Date(), event });
    if (this.scheduled) return;
    this.scheduled = true;
    this.chain(async () => {
      this.scheduled = false;
      // Only what is queued now: a flush() waiting on this operation is not held
      // up by records that keep arriving; those go in the next operation.
      let left = this.queue.length;
      while (left > 0) {
        const n = Math.min(left, MAX_BATCH);
        const batch = this.queue.splice(0, n);
        left -= n;
        await this.append(batch);
      }
    });
  }

  /** Reads and checks the file's last line (a broken file fails early), in turn with writes. */
  check(): Promise<void> {
    return this.settled(this.chain(() => this.append([])));
  }

  /** Resolves when every record queued before the call is on disk; rejects with the failure if a write failed. */
  flush(): Promise<void> {
    return this.settled(this.tailOp);
  }

  /** No record waits and no operation runs. */
  get idle(): boolean {
    return this.active === 0 && this.queue.length === 0;
  }

  private settled(op: Promise<void>): Promise<void> {
    return op.then(() => {
      if (this.failure) throw this.failure;
    });
  }

  private chain(op: () => Promise<void>): Promise<void> {
    this.active++;
    const run = this.tailOp.then(async () => {
      if (this.failure) return;
      try {
        await op();
      } catch (e) {
        this.fail(e);
      }
    });
    this.tailOp = run.finally(() => {
      this.active--;
      dropIfUnused(this);
    });
    return this.tailOp;
  }

  private fail(e: unknown): void {
    const lost = this.queue.length;
    this.queue = [];
    const suffix = lost > 0 ? ` (${lost} more records queued after it were not written)` : '';
    this.failure =
      e instanceof CapsuleError
        ? new CapsuleError('AUDIT_INVALID', `${e.message}${suffix}`)
        : new CapsuleError('AUDIT_INVALID', `audit log ${this.path}: cannot append: ${messageOf(e)}${suffix}`);
    for (const l of this.listeners) l(this.failure);
  }

  /** Seals `batch` after the file's last line, appends it in one write and fdatasyncs it. */
  private async append(batch: Pending[]): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'a+', 0o600);
    } catch (e) {
      throw new CapsuleError('AUDIT_INVALID', `audit log ${this.path}: cannot open: ${messageOf(e)}`);
    }
    try {
      const { size } = await fh.stat();
      let state = this.tail?.size === size ? this.tail.state : await readTailState(fh, size, this.path);
      this.tail = { size, state };
      if (batch.length === 0) return;
      let text = '';
      for (const r of batch) {
        const { line, next } = sealLine(state, r.time, r.event);
        text += `${line}\n`;
        state = next;
      }
      const bytes = Buffer.from(text, 'utf8');
      let off = 0;
      // The file is opened for appending: each write goes to its end, whatever the position.
      while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
      await fh.datasync();
      this.tail = { size: size + bytes.length, state };
    } finally {
      await fh.close();
    }
  }
}

/** The chain state after the file's last line, read from its end. */
async function readTailState(fh: FileHandle, size: number, file: string): Promise<ChainState> {
  if (size === 0) return EMPTY_CHAIN;
  let chunk = Math.min(size, 64 * 1024);
  for (;;) {
    const buf = Buffer.alloc(chunk);
    await fh.read(buf, 0, chunk, size - chunk);
    const text = buf.toString('utf8');
    const broken = (why: string) => new CapsuleError('AUDIT_INVALID', `audit log ${file}: its last line ${why}; run capsule audit verify ${file}`);
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

const writers = new Map<string, GroupCommitWriter>();

/** The process's writer for `file` (an absolute path), made on first use. */
export function writerFor(file: string): GroupCommitWriter {
  let w = writers.get(file);
  if (!w) {
    w = new GroupCommitWriter(file);
    writers.set(file, w);
  }
  return w;
}

/** Forgets a writer nobody holds once it has nothing left to write (the next user reads the file's tail again). */
export function dropIfUnused(w: GroupCommitWriter): void {
  if (w.refs === 0 && w.idle && writers.get(w.path) === w) writers.delete(w.path);
}
