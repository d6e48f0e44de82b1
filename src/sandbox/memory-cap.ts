// Caps every linear memory of a core module at `maxPages` by rewriting the
// module's limits before it is compiled. Node's worker resourceLimits cap only the
// JS heap; a wasm memory can otherwise grow to 4 GiB. With the maximum rewritten,
// `memory.grow` past the cap returns -1 inside the guest, exactly as the spec says.
// Both defined memories (memory section) and imported ones (import section) are
// rewritten, so the limits of an exporter and its importers stay compatible.
import { CapsuleError } from '../errors.js';

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const PAGE = 65536;

export function pagesFor(bytes: number): number {
  return Math.max(1, Math.floor(bytes / PAGE));
}

/** How many memories a core module defines itself (its memory section), imported ones not counted. */
export function definedMemories(module: Uint8Array): number {
  const r = new Reader(module);
  r.expectHeader();
  while (!r.done()) {
    const id = r.byte();
    const size = r.u32();
    if (id === SECTION_MEMORY) return new Reader(module.subarray(r.pos, r.pos + size)).u32();
    r.pos += size;
  }
  return 0;
}

/**
 * The pages each memory may have so that all of them together stay within
 * `limitBytes`: the limit is the call's, however many memories the component makes.
 */
export function pagesPerMemory(limitBytes: number, memories: number): number {
  return Math.max(1, Math.floor(pagesFor(limitBytes) / Math.max(1, memories)));
}

export function capMemories(module: Uint8Array, maxPages: number): Uint8Array<ArrayBuffer> {
  const r = new Reader(module);
  r.expectHeader();
  const out: Uint8Array[] = [module.subarray(0, 8)];
  while (!r.done()) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    const body = module.subarray(r.pos, r.pos + size);
    r.pos += size;
    if (id === SECTION_MEMORY) out.push(section(id, rewriteMemorySection(body, maxPages)));
    else if (id === SECTION_IMPORT) out.push(section(id, rewriteImportSection(body, maxPages)));
    else out.push(module.subarray(start, r.pos));
  }
  return concat(out);
}

function rewriteMemorySection(body: Uint8Array, maxPages: number): Uint8Array {
  const r = new Reader(body);
  const w = new Writer();
  const count = r.u32();
  w.u32(count);
  for (let i = 0; i < count; i++) copyLimits(r, w, maxPages, `memory ${i}`);
  return w.bytes();
}

function rewriteImportSection(body: Uint8Array, maxPages: number): Uint8Array {
  const r = new Reader(body);
  const w = new Writer();
  const count = r.u32();
  w.u32(count);
  for (let i = 0; i < count; i++) {
    const from = r.pos;
    r.name();
    r.name();
    const kind = r.byte();
    w.raw(body.subarray(from, r.pos));
    if (kind === 0x02) {
      copyLimits(r, w, maxPages, `imported memory ${i}`);
      continue;
    }
    const descFrom = r.pos;
    if (kind === 0x00) r.u32(); // function: type index
    else if (kind === 0x01) {
      r.byte(); // table: reftype, then limits
      skipLimits(r);
    } else if (kind === 0x03) {
      r.byte(); // global: valtype, mutability
      r.byte();
    } else if (kind === 0x04) {
      r.byte(); // tag: attribute, type index
      r.u32();
    } else throw invalid(`unknown import kind 0x${kind.toString(16)}`);
    w.raw(body.subarray(descFrom, r.pos));
  }
  return w.bytes();
}

function copyLimits(r: Reader, w: Writer, maxPages: number, what: string): void {
  const flags = r.byte();
  const is64 = (flags & 0x04) !== 0;
  const hasMax = (flags & 0x01) !== 0;
  const min = is64 ? r.u64() : BigInt(r.u32());
  const max = hasMax ? (is64 ? r.u64() : BigInt(r.u32())) : undefined;
  const cap = BigInt(maxPages);
  if (min > cap) {
    throw new CapsuleError(
      'MEMORY_LIMIT',
      `${what} needs ${min} pages (${Number(min) * PAGE} bytes) at start, over the memory limit of ${maxPages} pages`,
    );
  }
  const newMax = max !== undefined && max < cap ? max : cap;
  w.byte(flags | 0x01);
  if (is64) {
    w.u64(min);
    w.u64(newMax);
  } else {
    w.u32(Number(min));
    w.u32(Number(newMax));
  }
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  const read = flags & 0x04 ? () => r.u64() : () => r.u32();
  read();
  if (flags & 0x01) read();
}

function section(id: number, body: Uint8Array): Uint8Array {
  const w = new Writer();
  w.byte(id);
  w.u32(body.length);
  w.raw(body);
  return w.bytes();
}

function invalid(why: string): CapsuleError {
  return new CapsuleError('COMPONENT_INVALID', `core module cannot be capped: ${why}`);
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}
  done(): boolean {
    return this.pos >= this.b.length;
  }
  expectHeader(): void {
    const ok = this.b.length >= 8 && this.b[0] === 0 && this.b[1] === 0x61 && this.b[2] === 0x73 && this.b[3] === 0x6d;
    if (!ok || this.b[4] !== 1) throw invalid('not a core module');
    this.pos = 8;
  }
  byte(): number {
    if (this.pos >= this.b.length) throw invalid('unexpected end');
    return this.b[this.pos++];
  }
  u32(): number {
    return Number(this.leb(35));
  }
  u64(): bigint {
    return this.leb(70);
  }
  name(): void {
    const len = this.u32();
    this.pos += len;
  }
  private leb(maxBits: number): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift >= BigInt(maxBits)) throw invalid('LEB128 too long');
    }
  }
}

class Writer {
  private parts: number[] = [];
  private chunks: Uint8Array[] = [];
  byte(v: number): void {
    this.parts.push(v);
  }
  u32(v: number): void {
    this.u64(BigInt(v));
  }
  u64(v: bigint): void {
    let x = v;
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) byte |= 0x80;
      this.parts.push(byte);
    } while (x !== 0n);
  }
  raw(b: Uint8Array): void {
    this.flush();
    this.chunks.push(b);
  }
  bytes(): Uint8Array {
    this.flush();
    return concat(this.chunks);
  }
  private flush(): void {
    if (this.parts.length) this.chunks.push(Uint8Array.from(this.parts));
    this.parts = [];
  }
}
