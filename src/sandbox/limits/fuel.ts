// The load-time rewrite that makes a guest stoppable and its work countable (fuel):
// - a defined, mutable i32 global `$fuel` is appended after the module's globals
//   (appending renumbers nothing) and exported as FUEL_EXPORT;
// - at every function entry and every loop header, a check subtracts the cost of the
//   code it guards (the instructions of that function or loop body that run once
//   through it: an if or a try counts its dearest arm, nested loops count nothing as
//   they have their own check; at most MAX_CHECK_COST) and, when the counter goes below zero,
//   calls the imported host function FUEL_IMPORT.refuel with it and stores what it
//   returns. The host (sandbox/fuel-meter.ts) hands out slices of the call's budget
//   there, and throws (trapping the guest) when the budget is spent, the call's time
//   is up or the call was interrupted. Every way code can run again and again goes
//   through a function entry (calls, recursion) or a loop header (every backward branch).
//
// The costs are fixed here, from the bytes alone, so the same module, input and
// budget stop at the same instruction on every run and every machine. The refuel
// import is appended after the module's imports, so every defined function's index
// moves up by one: call, return_call and ref.func in code and in constant expressions,
// element segments (all eight forms), function exports and the start function are
// shifted, and the `name` section (which would name the wrong functions) is dropped.
//
// i32, not i64: a slice is far below 2^31 instructions, an i64 parameter would cross
// into JS as a BigInt on every refuel, and i32 measured cheaper: fib(25) plus a
// 3 M-iteration two-instruction loop, 60 rounds interleaved in one process, cost
// +18–28% over the uninstrumented module with i32 counters and +25–34% with i64
// (fib(27) alone: no difference either way; a tight loop is the worst case, a check
// per two instructions).
import { customName, Reader, rewriteSections, SECTION, skipImportDesc, Writer } from './sections.js';
import { CapsuleError } from '../../errors.js';
import { OP, OPENS_BLOCK, readInstr, unknownOpcode } from './opcodes.js';

/** The export naming each instance's fuel counter. */
export const FUEL_EXPORT = 'capsule:fuel';
/** The import module and name of the host's refuel function. */
export const FUEL_IMPORT = { module: 'capsule:fuel', name: 'refuel' } as const;

const I32 = 0x7f;

function refused(why: string): CapsuleError {
  return new CapsuleError('COMPONENT_INVALID', `core module cannot be instrumented: ${why}`);
}

interface Layout {
  types: number;
  importedFuncs: number;
  importedGlobals: number;
  definedGlobals: number;
}

/** The module with fuel checks inserted (see above). Throws COMPONENT_INVALID on what it cannot instrument. */
export function instrumentModule(module: Uint8Array): Uint8Array<ArrayBuffer> {
  const at: Layout = { types: 0, importedFuncs: 0, importedGlobals: 0, definedGlobals: 0 };
  const shift = (f: number) => (f >= at.importedFuncs ? f + 1 : f);
  const fuelGlobal = () => at.importedGlobals + at.definedGlobals;
  const out = rewriteSections(
    module,
    (id, body) => {
      switch (id) {
        case 0:
          return customName(body) === 'name' ? null : undefined;
        case SECTION.type:
          return addType(body, at);
        case SECTION.import:
          return addImport(body, at);
        case SECTION.global:
          return addGlobal(body, at, shift);
        case SECTION.export:
          return exports(body, shift, fuelGlobal());
        case SECTION.start:
          return startOf(body, shift);
        case SECTION.element:
          return elements(body, shift);
        case SECTION.code:
          return code(body, shift, { global: fuelGlobal(), refuel: at.importedFuncs });
        default:
          return undefined;
      }
    },
    (id) => {
      if (id === SECTION.type) return addType(undefined, at);
      if (id === SECTION.import) return addImport(undefined, at);
      if (id === SECTION.global) return addGlobal(undefined, at, shift);
      if (id === SECTION.export) return exports(undefined, shift, fuelGlobal());
      return undefined;
    },
  );
  // Only a valid module: code naming the global, type or function one past the end is
  // invalid, and would name the counter, the refuel type or refuel itself once they
  // are appended (a guest that sets its own counter never runs out). Checked after
  // the pass, so an opcode the pass does not know is refused by its name.
  if (!WebAssembly.validate(module as Uint8Array<ArrayBuffer>)) throw refused('it does not validate');
  return out;
}

/** `count` from a vector section's body (0 when absent), and the entries after it. */
function vec(body: Uint8Array | undefined): { count: number; rest: Uint8Array; r: Reader } {
  const r = new Reader(body ?? new Uint8Array([0]));
  const count = r.u32();
  return { count, rest: r.rest(), r };
}

/** Appends the refuel type `(func (param i32) (result i32))`; its index is the old count. */
function addType(body: Uint8Array | undefined, at: Layout): Uint8Array {
  const { count, rest } = vec(body);
  at.types = count;
  const w = new Writer();
  w.u32(count + 1);
  w.raw(rest);
  w.raw(new Uint8Array([0x60, 1, I32, 1, I32]));
  return w.bytes();
}

function addImport(body: Uint8Array | undefined, at: Layout): Uint8Array {
  const { count, rest, r } = vec(body);
  for (let i = 0; i < count; i++) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0x00) at.importedFuncs++;
    if (kind === 0x03) at.importedGlobals++;
    skipImportDesc(r, kind);
  }
  const w = new Writer();
  w.u32(count + 1);
  w.raw(rest);
  w.name(FUEL_IMPORT.module);
  w.name(FUEL_IMPORT.name);
  w.byte(0x00);
  w.u32(at.types);
  return w.bytes();
}

function addGlobal(body: Uint8Array | undefined, at: Layout, shift: (f: number) => number): Uint8Array {
  const { count, r } = vec(body);
  at.definedGlobals = count;
  const w = new Writer();
  w.u32(count + 1);
  for (let i = 0; i < count; i++) {
    const from = r.pos;
    valType(r);
    r.byte(); // mutability
    w.raw(r.since(from));
    constExpr(r, w, shift);
  }
  // (global (mut i32) (i32.const 0)): the first check of an instance asks for fuel.
  w.raw(new Uint8Array([I32, 0x01, 0x41, 0x00, OP.end]));
  return w.bytes();
}

function exports(body: Uint8Array | undefined, shift: (f: number) => number, fuelGlobal: number): Uint8Array {
  const { count, r } = vec(body);
  const w = new Writer();
  w.u32(count + 1);
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    const nameAt = r.pos;
    const len = r.u32();
    const name = decoder.decode(r.rest().subarray(0, len));
    r.skip(len);
    if (name === FUEL_EXPORT) throw refused(`the module already exports ${FUEL_EXPORT}, a name capsule reserves`);
    const kind = r.byte();
    w.raw(r.since(nameAt));
    const index = r.u32();
    w.u32(kind === 0x00 ? shift(index) : index);
  }
  w.name(FUEL_EXPORT);
  w.byte(0x03);
  w.u32(fuelGlobal);
  return w.bytes();
}

function startOf(body: Uint8Array, shift: (f: number) => number): Uint8Array {
  const w = new Writer();
  w.u32(shift(new Reader(body).u32()));
  return w.bytes();
}

/** Element segments, all eight forms: function indices and ref.func in expressions shifted. */
function elements(body: Uint8Array, shift: (f: number) => number): Uint8Array {
  const { count, r } = vec(body);
  const w = new Writer();
  w.u32(count);
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    w.u32(flags);
    if (flags > 7) throw refused(`element segment ${i} has unknown flags ${flags}`);
    const active = (flags & 0x01) === 0;
    const explicitTable = (flags & 0x02) !== 0;
    const exprs = (flags & 0x04) !== 0;
    if (active && explicitTable) w.u32(r.u32());
    if (active) constExpr(r, w, shift);
    // Forms 0 and 4 have neither an element kind nor a reference type.
    if (!active || explicitTable) {
      const kind = r.byte();
      if (kind === 0x63 || kind === 0x64) throw unknownOpcode('a typed function reference element type');
      w.byte(kind);
    }
    const n = r.u32();
    w.u32(n);
    for (let k = 0; k < n; k++) {
      if (exprs) constExpr(r, w, shift);
      else w.u32(shift(r.u32()));
    }
  }
  return w.bytes();
}

/** Copies a constant expression up to its `end`, shifting ref.func. */
function constExpr(r: Reader, w: Writer, shift: (f: number) => number): void {
  for (;;) {
    const i = readInstr(r);
    if (i.func !== undefined) {
      w.byte(i.op);
      w.u32(shift(i.func));
    } else {
      w.raw(r.since(i.start));
    }
    if (i.op === OP.end) return;
  }
}

function valType(r: Reader): void {
  const t = r.byte();
  if (t === 0x63 || t === 0x64) throw unknownOpcode('a typed function reference global');
}

interface Targets {
  global: number;
  refuel: number;
}

/** A growable byte buffer whose earlier bytes can be patched (the checks' costs). */
class Out {
  buf = new Uint8Array(256);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }
  u32(v: number): void {
    let x = v;
    do {
      let b = x & 0x7f;
      x = Math.floor(x / 128);
      if (x !== 0) b |= 0x80;
      this.byte(b);
    } while (x !== 0);
  }
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** Writes `v` (0 ≤ v < 2^31) as a five-byte signed LEB at `at` (a placeholder written by placeholder()). */
  patch(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.buf[at + i] = ((v >>> (7 * i)) & 0x7f) | 0x80;
    this.buf[at + 4] = (v >>> 28) & 0x07;
  }
  placeholder(): number {
    const at = this.len;
    this.raw(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x00]));
    return at;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/**
 * Emits a check: `$fuel -= cost; if ($fuel < 0) $fuel = refuel($fuel)`. Returns where
 * the cost goes, patched once the code it guards has been counted.
 */
function check(out: Out, t: Targets): number {
  out.byte(0x23); // global.get
  out.u32(t.global);
  out.byte(0x41); // i32.const cost
  const at = out.placeholder();
  out.byte(0x6b); // i32.sub
  out.byte(0x24); // global.set
  out.u32(t.global);
  out.byte(0x23);
  out.u32(t.global);
  out.byte(0x41); // i32.const 0
  out.byte(0x00);
  out.byte(0x48); // i32.lt_s
  out.byte(OP.if);
  out.byte(0x40);
  out.byte(0x23);
  out.u32(t.global);
  out.byte(OP.call);
  out.u32(t.refuel);
  out.byte(0x24);
  out.u32(t.global);
  out.byte(OP.end);
  return at;
}

function code(body: Uint8Array, shift: (f: number) => number, t: Targets): Uint8Array {
  const { count, r } = vec(body);
  const out = new Out();
  out.u32(count);
  const fn = new Out();
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const end = r.pos + size;
    if (end > body.length) throw refused(`function body ${i} runs past the code section`);
    fn.len = 0;
    functionBody(new Reader(body.subarray(r.pos, end)), fn, shift, t, i);
    r.pos = end;
    out.u32(fn.len);
    out.raw(fn.bytes());
  }
  return out.bytes();
}

/**
 * An open block while a body is copied. `cost` counts the instructions that run each
 * time control passes through it once: its own, plus what its nested blocks cost
 * (an `if` or a `try` the dearer of its arms), but not its nested loops, which have
 * their own checks. A loop's (and the function's) check carries `at`.
 */
interface Frame {
  loop: boolean;
  cost: number;
  /** The dearest arm closed so far (`then` of an if, `do` or a catch of a try). */
  arms?: number;
  at?: number;
}

/**
 * The most one check charges. A loop body longer than this is in practice an
 * interpreter's dispatch loop (componentize-js's SpiderMonkey), of which an iteration
 * runs one handler, not all of them: charging all of them counted the markdown
 * plugin's work 100× and called refuel on every iteration.
 */
export const MAX_CHECK_COST = 100;

/** Copies one function body with its checks inserted; copies unchanged code in runs. */
function functionBody(r: Reader, out: Out, shift: (f: number) => number, t: Targets, index: number): void {
  const locals = r.u32();
  for (let i = 0; i < locals; i++) {
    r.u32();
    valType(r);
  }
  out.raw(r.since(0));
  const frames: Frame[] = [{ loop: true, cost: 0, at: check(out, t) }];
  let copied = r.pos;
  const flush = (upTo: number) => {
    if (upTo > copied) out.raw(r.since(copied).subarray(0, upTo - copied));
  };
  while (!r.done()) {
    const i = readInstr(r);
    const frame = frames[frames.length - 1];
    if (!frame) throw refused(`function ${index} has code after its end`);
    frame.cost++;
    if (i.func !== undefined) {
      const to = shift(i.func);
      if (to !== i.func) {
        flush(i.start);
        out.byte(i.op);
        out.u32(to);
        copied = r.pos;
      }
      continue;
    }
    if (OPENS_BLOCK.has(i.op)) {
      if (i.op === OP.loop) {
        flush(r.pos);
        copied = r.pos;
        frames.push({ loop: true, cost: 0, at: check(out, t) });
      } else {
        frames.push({ loop: false, cost: 0 });
      }
      continue;
    }
    if (i.op === OP.else || i.op === OP.catch || i.op === OP.catchAll) {
      // Another arm: only one of them runs each time through.
      frame.arms = Math.max(frame.arms ?? 0, frame.cost);
      frame.cost = 0;
      continue;
    }
    if (i.op === OP.end || i.op === OP.delegate) {
      frames.pop();
      const cost = Math.max(frame.arms ?? 0, frame.cost);
      if (frame.at !== undefined) {
        flush(r.pos);
        copied = r.pos;
        out.patch(frame.at, Math.min(MAX_CHECK_COST, Math.max(1, cost)));
      } else {
        const parent = frames[frames.length - 1];
        if (parent) parent.cost += cost;
      }
      if (frames.length === 0 && !r.done()) throw refused(`function ${index} has code after its end`);
    }
  }
  flush(r.pos);
  if (frames.length !== 0) throw refused(`function ${index} ends inside a block`);
}
