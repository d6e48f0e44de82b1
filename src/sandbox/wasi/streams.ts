// wasi:io/{error,poll,streams}: in-memory streams. stdin is a fixed buffer,
// stdout/stderr are capped sinks, so a guest can never reach a host descriptor.
import { mintResource, symbolDispose, type Lease } from '../call-budget.js';

/** What a stream operation throws to signal a WIT `stream-error` (jco maps it to err). */
export const CLOSED = { tag: 'closed' } as const;

export class IoError {
  private readonly minted = mintResource('a wasi:io error');
  /** `code`: the WASI filesystem error code, when a file operation failed (filesystemErrorCode). */
  constructor(
    private readonly text: string,
    readonly code?: string,
  ) {}
  toDebugString(): string {
    return this.text;
  }
  [symbolDispose](): void {
    this.minted?.drop();
  }
}

/** A pollable that is ready now, or at a monotonic deadline (ns since `origin`). */
export class Pollable {
  private readonly minted = mintResource('a wasi:io pollable');
  constructor(readonly deadlineNs: bigint | null = null) {}
  [symbolDispose](): void {
    this.minted?.drop();
  }
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
    list.forEach((p, i) => {
      if (p.ready()) ready.push(i);
    });
    if (ready.length > 0 || list.length === 0) return new Uint32Array(ready);
    const next = list.reduce<bigint | null>((min, p) => (p.deadlineNs !== null && (min === null || p.deadlineNs < min) ? p.deadlineNs : min), null);
    if (next !== null) sleepUntil(next);
  }
}

export class InputStream {
  private offset = 0;
  private readonly minted = mintResource('a wasi:io input-stream');
  /** `lease`: the bytes `data` holds in the call's budget, released when the guest drops the stream. */
  constructor(
    private readonly data: Uint8Array,
    private readonly lease?: Lease,
  ) {}
  [symbolDispose](): void {
    this.lease?.drop();
    this.minted?.drop();
  }

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

/**
 * A byte buffer that grows by doubling up to `cap`: one allocation to hold many
 * small writes, never one object per write (a guest writing a byte at a time
 * would otherwise make the host keep ~100 bytes of bookkeeping per byte).
 * `onGrow` is told how many bytes each growth adds, before it happens.
 */
export class ByteBuffer {
  private buf = new Uint8Array(0);
  size = 0;
  constructor(
    readonly cap: number,
    private readonly onGrow: (added: number) => void = () => undefined,
  ) {}
  /** Appends what fits under the cap; returns how many bytes were kept. */
  append(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.cap - this.size);
    if (n <= 0) return 0;
    this.reserve(this.size + n);
    this.buf.set(n === bytes.length ? bytes : bytes.subarray(0, n), this.size);
    this.size += n;
    return n;
  }
  private reserve(needed: number): void {
    if (needed <= this.buf.length) return;
    const next = Math.min(this.cap, Math.max(needed, this.buf.length * 2, 4096));
    this.onGrow(next - this.buf.length);
    const grown = new Uint8Array(next);
    grown.set(this.buf.subarray(0, this.size));
    this.buf = grown;
  }
  get capacity(): number {
    return this.buf.length;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.size);
  }
  /** Drops the contents; returns the capacity that was held. */
  clear(): number {
    const held = this.buf.length;
    this.buf = new Uint8Array(0);
    this.size = 0;
    return held;
  }
}

/** Collects what a guest writes, keeping at most `cap` bytes. */
export class Sink {
  private readonly buffer: ByteBuffer;
  truncated = false;
  constructor(cap: number) {
    this.buffer = new ByteBuffer(cap);
  }

  push(bytes: Uint8Array): void {
    if (this.buffer.append(bytes) < bytes.length) this.truncated = true;
  }
  text(): string {
    const b = this.buffer.bytes();
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  }
}

const WRITE_BUDGET = 1n << 20n;

/** Where an OutputStream's bytes go: a capped Sink (stdout/stderr) or a file. */
export interface ByteSink {
  push(bytes: Uint8Array): void;
}

export class OutputStream {
  private readonly minted = mintResource('a wasi:io output-stream');
  constructor(private readonly sink: ByteSink) {}
  [symbolDispose](): void {
    this.minted?.drop();
  }

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
    // As for write, WASI allows at most what check-write permits: never a host buffer the guest sized.
    if (len > WRITE_BUDGET) throw { tag: 'last-operation-failed', val: new IoError(`write-zeroes of ${len} bytes, over check-write's ${WRITE_BUDGET}`) };
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
