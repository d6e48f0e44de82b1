// wasi:io/{error,poll,streams}: in-memory streams. stdin is a fixed buffer,
// stdout/stderr are capped sinks, so a guest can never reach a host descriptor.

/** What a stream operation throws to signal a WIT `stream-error` (jco maps it to err). */
export const CLOSED = { tag: 'closed' } as const;

export class IoError {
  /** `code`: the WASI filesystem error code, when a file operation failed (filesystemErrorCode). */
  constructor(
    private readonly text: string,
    readonly code?: string,
  ) {}
  toDebugString(): string {
    return this.text;
  }
}

/** A pollable that is ready now, or at a monotonic deadline (ns since `origin`). */
export class Pollable {
  constructor(readonly deadlineNs: bigint | null = null) {}
  ready(): boolean {
    return this.deadlineNs === null || monotonicNow() >= this.deadlineNs;
  }
  block(): void {
    if (this.deadlineNs !== null) sleepUntil(this.deadlineNs);
  }
}

const origin = process.hrtime.bigint();
export function monotonicNow(): bigint {
  return process.hrtime.bigint() - origin;
}

// Host functions must be synchronous (no JSPI on Node 20), so a guest that sleeps
// blocks its thread; the tier's wall-clock limit still ends it by killing the worker.
const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepUntil(deadlineNs: bigint): void {
  for (;;) {
    const left = deadlineNs - monotonicNow();
    if (left <= 0n) return;
    Atomics.wait(sleeper, 0, 0, Math.max(1, Number(left / 1_000_000n)));
  }
}

export function poll(list: Pollable[]): Uint32Array {
  for (;;) {
    const ready: number[] = [];
    list.forEach((p, i) => p.ready() && ready.push(i));
    if (ready.length > 0 || list.length === 0) return new Uint32Array(ready);
    const next = list.reduce<bigint | null>(
      (min, p) => (p.deadlineNs !== null && (min === null || p.deadlineNs < min) ? p.deadlineNs : min),
      null,
    );
    if (next !== null) sleepUntil(next);
  }
}

export class InputStream {
  private offset = 0;
  constructor(private readonly data: Uint8Array) {}

  read(len: bigint): Uint8Array {
    if (this.offset >= this.data.length) throw CLOSED;
    const end = Math.min(this.data.length, this.offset + Number(len));
    const chunk = this.data.slice(this.offset, end);
    this.offset = end;
    return chunk;
  }
  blockingRead(len: bigint): Uint8Array {
    return this.read(len);
  }
  skip(len: bigint): bigint {
    return BigInt(this.read(len).length);
  }
  blockingSkip(len: bigint): bigint {
    return this.skip(len);
  }
  subscribe(): Pollable {
    return new Pollable();
  }
}

/** Collects what a guest writes, keeping at most `cap` bytes. */
export class Sink {
  private chunks: Uint8Array[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly cap: number) {}

  push(bytes: Uint8Array): void {
    const room = this.cap - this.size;
    if (bytes.length > room) this.truncated = true;
    const kept = bytes.length > room ? bytes.slice(0, Math.max(0, room)) : bytes.slice();
    if (kept.length > 0) {
      this.chunks.push(kept);
      this.size += kept.length;
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

const WRITE_BUDGET = 1n << 20n;

/** Where an OutputStream's bytes go: a capped Sink (stdout/stderr) or a file. */
export interface ByteSink {
  push(bytes: Uint8Array): void;
}

export class OutputStream {
  constructor(private readonly sink: ByteSink) {}

  checkWrite(): bigint {
    return WRITE_BUDGET;
  }
  write(contents: Uint8Array): void {
    this.sink.push(contents);
  }
  blockingWriteAndFlush(contents: Uint8Array): void {
    this.sink.push(contents);
  }
  flush(): void {}
  blockingFlush(): void {}
  subscribe(): Pollable {
    return new Pollable();
  }
  writeZeroes(len: bigint): void {
    this.sink.push(new Uint8Array(Number(len)));
  }
  blockingWriteZeroesAndFlush(len: bigint): void {
    this.writeZeroes(len);
  }
  splice(src: InputStream, len: bigint): bigint {
    const chunk = src.read(len);
    this.sink.push(chunk);
    return BigInt(chunk.length);
  }
  blockingSplice(src: InputStream, len: bigint): bigint {
    return this.splice(src, len);
  }
}
