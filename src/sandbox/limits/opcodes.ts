// An instruction decoder for core wasm code: it reads one instruction at a time and
// knows how long its immediates are, so a rewrite can copy code it does not change
// byte for byte and change what it must (fuel.ts: function indices, loop headers).
// It knows what V8 in Node 20 validates by default or behind a flag: MVP,
// sign extension, saturating truncation, bulk memory, reference types, SIMD and
// relaxed SIMD, threads, exceptions (legacy and exnref), tail calls and multi-memory.
// Anything else (wasm GC's 0xfb prefix, an unknown opcode) is refused with
// COMPONENT_INVALID naming it: a module is never run half instrumented.
import { CapsuleError } from '../../errors.js';
import type { Reader } from './sections.js';

/** What a rewrite needs to know about one instruction. */
export interface Instr {
  /** The first byte (0xfc, 0xfd, 0xfe for prefixed instructions). */
  op: number;
  /** The sub-opcode of a prefixed instruction. */
  sub?: number;
  /** Where the instruction starts and where its immediates start, in the reader's buffer. */
  start: number;
  immStart: number;
  /** The function index of call, return_call and ref.func. */
  func?: number;
}

export function unknownOpcode(what: string): CapsuleError {
  return new CapsuleError('COMPONENT_INVALID', `core module cannot be instrumented: ${what} is not supported`);
}

export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  try: 0x06,
  catch: 0x07,
  end: 0x0b,
  call: 0x10,
  returnCall: 0x12,
  delegate: 0x18,
  catchAll: 0x19,
  tryTable: 0x1f,
  refFunc: 0xd2,
} as const;

/** Opcodes that open a structured block (closed by `end`, or `delegate` for try). */
export const OPENS_BLOCK = new Set<number>([OP.block, OP.loop, OP.if, OP.try, OP.tryTable]);

const VALTYPE_BYTES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x69]);

// One object, reused: a 13 MB module has millions of instructions, and an object each
// made the pass spend a third of its time collecting garbage.
const current: Instr = { op: 0, start: 0, immStart: 0 };

/**
 * Reads one instruction at r.pos, leaving r.pos after it. The result is overwritten
 * by the next call: read what you need from it first.
 */
export function readInstr(r: Reader): Instr {
  const start = r.pos;
  const op = r.byte();
  const out = current;
  out.op = op;
  out.start = start;
  out.immStart = r.pos;
  out.func = undefined;
  out.sub = undefined;
  if (op <= 0x01 || op === 0x05 || op === 0x0a || op === 0x0b || op === 0x0f || op === 0x19 || op === 0x1a || op === 0x1b) return out;
  if (op >= 0x45 && op <= 0xc4) return out; // numeric, including sign extension
  switch (op) {
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x06:
      blockType(r);
      return out;
    case 0x07: // catch tag
    case 0x08: // throw tag
    case 0x09: // rethrow label
    case 0x0c: // br
    case 0x0d: // br_if
    case 0x18: // delegate label
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
    case 0x24:
    case 0x25: // table.get
    case 0x26: // table.set
    case 0xd5: // br_on_null
    case 0xd6: // br_on_non_null
      r.u32();
      return out;
    case 0x0e: {
      const n = r.u32();
      for (let i = 0; i <= n; i++) r.u32();
      return out;
    }
    case 0x10:
    case 0x12:
    case 0xd2:
      out.func = r.u32();
      return out;
    case 0x11: // call_indirect type table
    case 0x13: // return_call_indirect
      r.u32();
      r.u32();
      return out;
    case 0x14: // call_ref type
    case 0x15: // return_call_ref type
      r.u32();
      return out;
    case 0x1c: {
      const n = r.u32();
      for (let i = 0; i < n; i++) valType(r);
      return out;
    }
    case 0x1f: {
      blockType(r);
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const kind = r.byte();
        if (kind === 0x00 || kind === 0x01)
          r.u32(); // tag
        else if (kind !== 0x02 && kind !== 0x03) throw unknownOpcode(`try_table catch kind 0x${kind.toString(16)}`);
        r.u32(); // label
      }
      return out;
    }
    case 0x3f:
    case 0x40:
      r.u32(); // memory index
      return out;
    case 0x41:
      r.s64();
      return out;
    case 0x42:
      r.s64();
      return out;
    case 0x43:
      r.skip(4);
      return out;
    case 0x44:
      r.skip(8);
      return out;
    case 0xd0:
      heapType(r);
      return out;
    case 0xd1:
    case 0xd3:
    case 0xd4:
      return out;
    case 0xfc:
      return prefixedFC(r, out);
    case 0xfd:
      return prefixedFD(r, out);
    case 0xfe:
      return prefixedFE(r, out);
    case 0xfb:
      throw unknownOpcode(`the wasm GC instruction 0xfb ${r.u32()}`);
  }
  if (op >= 0x28 && op <= 0x3e) {
    memArg(r);
    return out;
  }
  throw unknownOpcode(`opcode 0x${op.toString(16)}`);
}

function prefixedFC(r: Reader, out: Instr): Instr {
  const sub = r.u32();
  out.sub = sub;
  if (sub <= 7) return out; // saturating truncation
  switch (sub) {
    case 8: // memory.init data mem
    case 10: // memory.copy mem mem
    case 12: // table.init elem table
    case 14: // table.copy table table
      r.u32();
      r.u32();
      return out;
    case 9: // data.drop
    case 11: // memory.fill
    case 13: // elem.drop
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      r.u32();
      return out;
  }
  throw unknownOpcode(`the instruction 0xfc ${sub}`);
}

function prefixedFD(r: Reader, out: Instr): Instr {
  const sub = r.u32();
  out.sub = sub;
  if (sub <= 11 || sub === 92 || sub === 93)
    memArg(r); // loads, store, load_zero
  else if (sub === 12 || sub === 13)
    r.skip(16); // v128.const, i8x16.shuffle
  else if (sub >= 21 && sub <= 34)
    r.byte(); // extract/replace lane
  else if (sub >= 84 && sub <= 91) {
    memArg(r); // load/store lane
    r.byte();
  } else if (sub > 0x113) throw unknownOpcode(`the SIMD instruction 0xfd ${sub}`);
  return out;
}

function prefixedFE(r: Reader, out: Instr): Instr {
  const sub = r.u32();
  out.sub = sub;
  if (sub === 0x03)
    r.byte(); // atomic.fence
  else if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) memArg(r);
  else throw unknownOpcode(`the atomic instruction 0xfe ${sub}`);
  return out;
}

/** align (with bit 6: a memory index follows), then the offset (u64 for memory64). */
function memArg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32();
  r.s64(); // skips an unsigned LEB as well
}

function blockType(r: Reader): void {
  const b = r.peek();
  if (b === 0x40 || VALTYPE_BYTES.has(b)) {
    r.byte();
    return;
  }
  if (b === 0x63 || b === 0x64) throw unknownOpcode('a typed function reference block type');
  r.s64(); // a type index (s33)
}

function valType(r: Reader): void {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) throw unknownOpcode('a typed function reference value type');
  if (!VALTYPE_BYTES.has(b)) throw unknownOpcode(`value type 0x${b.toString(16)}`);
}

function heapType(r: Reader): void {
  const b = r.peek();
  if (b >= 0x40)
    r.byte(); // an abstract heap type (func, extern, exn...)
  else r.s64(); // a type index
}
