// Calls a DirectAbi capability (see direct-abi.ts) on a fresh core instance,
// doing the canonical ABI's work for `run: func(string) -> result<string, string>`
// by hand: lower the input with the guest's realloc, call, lift the result
// record [tag:u8, pad, ptr:u32, len:u32], then call post-return.
import type { DirectAbi } from './direct-abi.js';

export class AbiTrap extends WebAssembly.RuntimeError {}

const encoder = new TextEncoder();
// The canonical ABI traps on invalid UTF-8; jco's glue would substitute U+FFFD.
const decoder = new TextDecoder('utf-8', { fatal: true });

export interface DirectResult {
  ok: boolean;
  value: string;
  instance: WebAssembly.Instance;
  /** Set (and `value` empty) when the result string is over `maxBytes`: it was never decoded. */
  oversizeBytes?: number;
}

/** `instantiate` gives a core instance of the component's one module that no other call has touched. */
export function callDirect(
  instantiate: () => WebAssembly.Instance,
  abi: DirectAbi,
  input: string,
  onInstance: (i: WebAssembly.Instance) => void,
  maxBytes = Number.POSITIVE_INFINITY,
): DirectResult {
  const instance = instantiate();
  onInstance(instance);
  const ex = instance.exports;
  const memory = ex[abi.memory] as WebAssembly.Memory;
  const realloc = ex[abi.realloc] as (a: number, b: number, c: number, d: number) => number;
  const run = ex[abi.run] as (ptr: number, len: number) => number;
  const post = abi.postReturn ? (ex[abi.postReturn] as (ret: number) => void) : undefined;
  // Encoded straight into the guest's memory: no input-sized buffer of our own (for a
  // 16 MiB input its allocation and page faults were about a tenth of the call).
  const size = Buffer.byteLength(input);
  const ptr = realloc(0, 0, 1, size) >>> 0;
  checkRange(memory, ptr, size);
  if (size > 0 && encoder.encodeInto(input, new Uint8Array(memory.buffer, ptr, size)).written !== size) {
    throw new Error('the input did not encode to its UTF-8 size');
  }
  const ret = run(ptr, size) >>> 0;
  if (ret % 4 !== 0) throw new AbiTrap('result pointer is not aligned');
  checkRange(memory, ret, 12);
  const view = new DataView(memory.buffer);
  const tag = view.getUint8(ret);
  if (tag > 1) throw new AbiTrap('invalid result discriminant');
  const at = view.getUint32(ret + 4, true);
  const len = view.getUint32(ret + 8, true);
  checkRange(memory, at, len);
  if (len > maxBytes) {
    post?.(ret);
    return { ok: tag === 0, value: '', instance, oversizeBytes: len };
  }
  let value: string;
  try {
    value = decoder.decode(new Uint8Array(memory.buffer, at, len));
  } catch {
    throw new AbiTrap('string is not valid UTF-8');
  }
  post?.(ret);
  return { ok: tag === 0, value, instance };
}

function checkRange(memory: WebAssembly.Memory, ptr: number, len: number): void {
  if (ptr + len > memory.buffer.byteLength) throw new AbiTrap('out of bounds memory access');
}
