// The child's end of the job channel, with blocking reads and writes only: lines
// from stdin (its job, then, while its guest is blocked inside a wasm call, each
// answer from the parent) and lines to stdout (messages to the parent, whole and in
// order). process.stdin/stdout are never touched: they would switch the descriptors
// to non-blocking. Should one be non-blocking anyway (EAGAIN), it waits a little.
import { readSync, writeSync } from 'node:fs';

const PAUSE = new Int32Array(new SharedArrayBuffer(4));
const pause = () => Atomics.wait(PAUSE, 0, 0, 5);
const again = (e: unknown) => (e as NodeJS.ErrnoException).code === 'EAGAIN';

/** Writes all of `line` to stdout. */
export function writeLine(line: string, fd = 1): void {
  const bytes = Buffer.from(line, 'utf8');
  for (let at = 0; at < bytes.length; ) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (e) {
      if (!again(e)) throw e;
      pause();
    }
  }
}

export class StdinLines {
  private buffered: Buffer[] = [];
  private ended = false;
  /** One read buffer for every read; what a read got is copied out of it. */
  private readonly chunk = Buffer.allocUnsafe(1 << 16);

  constructor(private readonly fd = 0) {}

  /** The next line without its newline; at end of input, what is left (undefined if nothing). */
  next(): string | undefined {
    for (;;) {
      const last = this.buffered.at(-1);
      const nl = last ? last.indexOf(10) : -1;
      if (last && nl >= 0) {
        const line = Buffer.concat([...this.buffered.slice(0, -1), last.subarray(0, nl)]);
        const rest = last.subarray(nl + 1);
        this.buffered = rest.length > 0 ? [rest] : [];
        return line.toString('utf8');
      }
      if (this.ended) {
        if (this.buffered.length === 0) return undefined;
        const line = Buffer.concat(this.buffered).toString('utf8');
        this.buffered = [];
        return line;
      }
      this.read();
    }
  }

  private read(): void {
    let n: number;
    try {
      n = readSync(this.fd, this.chunk, 0, this.chunk.length, null);
    } catch (e) {
      if (again(e)) {
        pause();
        return;
      }
      if ((e as NodeJS.ErrnoException).code === 'EOF') n = 0;
      else throw e;
    }
    if (n === 0) this.ended = true;
    else this.buffered.push(Buffer.from(this.chunk.subarray(0, n)));
  }
}
