// Byte-level mutations of a valid component, for the hostile transpile tests
// (found by fuzzing, issue 9 class 10). A component's first section with id 1 is
// its first core module; a core module's section 10 is its code.
const HEADER = 8;

function leb(bytes: Uint8Array, at: number): { value: number; end: number } {
  let value = 0;
  let shift = 0;
  let p = at;
  for (;;) {
    const b = bytes[p++];
    if (b === undefined) throw new Error(`LEB128 at ${at} runs past the end`);
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return { value, end: p };
  }
}

/** `v` as an unsigned LEB128 (the binary format's numbers). */
export function encodeLeb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

/** Where a section with `id` starts among the sections from `from` to `to`: its id byte, content start and end. */
function findSection(bytes: Uint8Array, from: number, to: number, id: number): { start: number; content: number; end: number } {
  let p = from;
  while (p < to) {
    const size = leb(bytes, p + 1);
    if (bytes[p] === id) return { start: p, content: size.end, end: size.end + size.value };
    p = size.end + size.value;
  }
  throw new Error(`no section ${id}`);
}

/**
 * The first function body's size set to 2^31−1 (the enclosing sizes left as they
 * were, as the fuzzer's mutation did): jco panics ("capacity overflow") and its
 * instance is then unusable for every later component.
 */
export function hugeFunctionBodySize(component: Uint8Array): Uint8Array {
  const mod = findSection(component, HEADER, component.length, 1);
  const code = findSection(component, mod.content + HEADER, mod.end, 10);
  const count = leb(component, code.content);
  const body = leb(component, count.end);
  return Buffer.concat([component.subarray(0, count.end), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07]), component.subarray(body.end)]);
}

/** A `dylink.0` custom section with `payload` first in the first core module (sizes kept consistent). */
export function withDylink0(component: Uint8Array, payload: Uint8Array): Uint8Array {
  const mod = findSection(component, HEADER, component.length, 1);
  const name = Buffer.from('dylink.0');
  const body = Buffer.concat([Buffer.from([name.length]), name, payload]);
  const custom = Buffer.concat([Buffer.from([0, ...encodeLeb(body.length)]), body]);
  const moduleBytes = Buffer.concat([component.subarray(mod.content, mod.content + HEADER), custom, component.subarray(mod.content + HEADER, mod.end)]);
  return Buffer.concat([component.subarray(0, mod.start), Buffer.from([1, ...encodeLeb(moduleBytes.length)]), moduleBytes, component.subarray(mod.end)]);
}

/** A valid component made distinct (a new digest, so never cached) by a trailing custom section. */
export function distinct(component: Uint8Array, tag: string): Uint8Array {
  const name = Buffer.from('capsule-test');
  const body = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(tag)]);
  return Buffer.concat([component, Buffer.from([0, ...encodeLeb(body.length)]), body]);
}

/** A core module of one memory and a `bytes`-long data segment (valid; large on purpose). */
export function coreModuleWithData(bytes: number): Uint8Array {
  const pages = Math.ceil(bytes / 65536);
  const memory = [0x05, ...encodeLeb(2 + encodeLeb(pages).length), 0x01, 0x00, ...encodeLeb(pages)];
  const segment = [0x00, 0x41, 0x00, 0x0b, ...encodeLeb(bytes)]; // active, memory 0, offset i32.const 0
  const dataHeader = [0x01, ...segment];
  const data = [0x0b, ...encodeLeb(dataHeader.length + bytes), ...dataHeader];
  return Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...memory, ...data]), Buffer.alloc(bytes, 0x2a)]);
}
