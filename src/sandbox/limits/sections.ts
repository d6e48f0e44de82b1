// A minimal reader and writer for the core wasm binary format: sections, LEB128
// numbers, names and limits. Shared by every load-time rewrite of a core module
// (memory and table caps today; later passes reuse `rewriteSections`), so each
// pass only says what it does to the sections it cares about.
import { CapsuleError } from '../../errors.js';

export const SECTION = {
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

/** The known section ids in the order the binary format fixes (tag goes after memory). */
const FORMAT_ORDER: readonly number[] = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
/** Where a section sits in that order; -1 for custom and unknown ids, which place nothing. */
const rank = (id: number) => FORMAT_ORDER.indexOf(id);

export function invalid(why: string): CapsuleError {
  return new CapsuleError('COMPONENT_INVALID', `core module cannot be capped: ${why}`);
}

export interface Section {
  id: number;
  body: Uint8Array;
}

/** The module's sections in order (custom sections included), after checking the header. */
export function sections(module: Uint8Array): Section[] {
  const r = new Reader(module);
  r.expectHeader();
  const out: Section[] = [];
  while (!r.done()) {
    const id = r.byte();
    const size = r.u32();
    if (r.pos + size > module.length) throw invalid(`section ${id} runs past the end of the module`);
    out.push({ id, body: module.subarray(r.pos, r.pos + size) });
    r.pos += size;
  }
  return out;
}

export function sectionBody(module: Uint8Array, id: number): Uint8Array | undefined {
  return sections(module).find((s) => s.id === id)?.body;
}

/**
 * Rebuilds a module, passing each section to `rewrite` (return the new body,
 * undefined to keep it, null to drop it; custom sections come with id 0). `add` supplies bodies for sections the module lacks
 * (called once per missing known id), inserted where the format says they go.
 */
export function rewriteSections(
  module: Uint8Array,
  rewrite: (id: number, body: Uint8Array) => Uint8Array | undefined | null,
  add: (id: number) => Uint8Array | undefined = () => undefined,
): Uint8Array<ArrayBuffer> {
  const present = sections(module);
  const ids = new Set(present.map((s) => s.id));
  // Missing known ids in format order; each is offered to `add` when the rewrite reaches
  // its place, so `add` sees what `rewrite` learnt from the sections before it.
  const missing = FORMAT_ORDER.filter((id) => !ids.has(id));
  const out: Uint8Array[] = [module.subarray(0, 8)];
  const offer = (before: number) => {
    for (let id = missing[0]; id !== undefined && rank(id) < before; id = missing[0]) {
      missing.shift();
      const body = add(id);
      if (body) out.push(sectionHeader(id, body.length), body);
    }
  };
  for (const s of present) {
    if (s.id !== 0) offer(rank(s.id));
    const body = rewrite(s.id, s.body);
    // Header and body as separate parts: a 13 MB code section is copied once, into the result.
    if (body !== null) out.push(sectionHeader(s.id, (body ?? s.body).length), body ?? s.body);
  }
  offer(Number.POSITIVE_INFINITY);
  return concat(out);
}

export interface Limits {
  flags: number;
  min: bigint;
  max?: bigint;
  is64: boolean;
}

export function readLimits(r: Reader): Limits {
  const flags = r.byte();
  const is64 = (flags & 0x04) !== 0;
  const min = is64 ? r.u64() : BigInt(r.u32());
  const max = flags & 0x01 ? (is64 ? r.u64() : BigInt(r.u32())) : undefined;
  return { flags, min, max, is64 };
}

/** Writes `l` with its maximum set to `max` (the has-maximum flag set). */
export function writeLimits(w: Writer, l: Limits, max: bigint): void {
  w.byte(l.flags | 0x01);
  if (l.is64) {
    w.u64(l.min);
    w.u64(max);
  } else {
    w.u32(Number(l.min));
    w.u32(Number(max));
  }
}

/** Skips an import's description after its kind byte. */
export function skipImportDesc(r: Reader, kind: number): void {
  if (kind === 0x00)
    r.u32(); // function: type index
  else if (kind === 0x01) {
    r.byte(); // table: reftype, then limits
    readLimits(r);
  } else if (kind === 0x02) readLimits(r);
  else if (kind === 0x03) {
    r.byte(); // global: valtype, mutability
    r.byte();
  } else if (kind === 0x04) {
    r.byte(); // tag: attribute, type index
    r.u32();
  } else throw invalid(`unknown import kind 0x${kind.toString(16)}`);
}

/** A table type's reference type (0x70 funcref, 0x6f externref; typed references are refused). */
export function readRefType(r: Reader): number {
  const t = r.byte();
  if (t === 0x63 || t === 0x64) throw invalid('typed function references in a table type are not supported');
  return t;
}

/** A custom section's name (its body starts with it). */
export function customName(body: Uint8Array): string {
  const r = new Reader(body);
  const len = r.u32();
  return new TextDecoder().decode(body.subarray(r.pos, r.pos + len));
}

function sectionHeader(id: number, size: number): Uint8Array {
  const w = new Writer();
  w.byte(id);
  w.u32(size);
  return w.bytes();
}

export function section(id: number, body: Uint8Array): Uint8Array {
  const w = new Writer();
  w.byte(id);
  w.u32(body.length);
  w.raw(body);
  return w.bytes();
}

export function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const UTF8 = new TextDecoder();

export class Reader {
  pos = 0;
  /** `fail` makes the error thrown for malformed bytes (the component reader names its own). */
  constructor(
    private readonly b: Uint8Array,
    private readonly fail: (why: string) => Error = invalid,
  ) {}
  done(): boolean {
    return this.pos >= this.b.length;
  }
  /** Bytes left; a declared count or length above it cannot be honest. */
  remaining(): number {
    return this.b.length - this.pos;
  }
  expectHeader(): void {
    const ok = this.b.length >= 8 && this.b[0] === 0 && this.b[1] === 0x61 && this.b[2] === 0x73 && this.b[3] === 0x6d;
    if (!ok || this.b[4] !== 1) throw this.fail('not a core module');
    this.pos = 8;
  }
  byte(): number {
    const v = this.b[this.pos];
    if (v === undefined) throw this.fail('unexpected end');
    this.pos++;
    return v;
  }
  /** The next byte without consuming it. */
  peek(): number {
    const v = this.b[this.pos];
    if (v === undefined) throw this.fail('unexpected end');
    return v;
  }
  /** The next `len` bytes (checked against what is left before anything is taken). */
  take(len: number): Uint8Array {
    if (len > this.remaining()) throw this.fail('a length runs past the end');
    const out = this.b.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  /** A UTF-8 name (length-prefixed). */
  string(): string {
    return UTF8.decode(this.take(this.u32()));
  }
  /** A signed 33-bit LEB128 (the component format's type index in a value type position). */
  s33(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) return byte & 0x40 ? result - 2 ** shift : result;
      if (shift >= 35) throw this.fail('LEB128 too long');
    }
  }
  u32(): number {
    // Numbers, not BigInt: the instrumentation pass reads millions of these in a large module.
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      const byte = this.byte();
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) throw this.fail('u32 out of range');
        return result;
      }
      mul *= 128;
    }
    throw this.fail('LEB128 too long');
  }
  u64(): bigint {
    return this.leb(70);
  }
  name(): void {
    const len = this.u32();
    if (this.pos + len > this.b.length) throw this.fail('name runs past its section');
    this.pos += len;
  }
  rest(): Uint8Array {
    return this.b.subarray(this.pos);
  }
  skip(n: number): void {
    if (this.pos + n > this.b.length) throw this.fail('unexpected end');
    this.pos += n;
  }
  /** Skips a signed LEB128 of up to 64 bits (its value is not needed by any rewrite). */
  s64(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw this.fail('LEB128 too long');
  }
  /** The bytes from `from` to the current position. */
  since(from: number): Uint8Array {
    return this.b.subarray(from, this.pos);
  }
  private leb(maxBits: number): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift >= BigInt(maxBits)) throw this.fail('LEB128 too long');
    }
  }
}

export class Writer {
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
  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.raw(b);
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
