// A spare faults in, ahead of its call, the pages a call of its component wrote
// (sandbox/spare.ts): that must leave its memory exactly as a fresh instance's, and
// the pages it learns and touches are bounded whatever the guest wrote.
import { describe, expect, it } from 'vitest';
import { SpareInstance, TOUCH_PAGES, writtenPages } from '../../src/sandbox/spare.js';

const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const uleb = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...uleb(n >>> 7)]);
const sectionOf = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** A core module with `pages` wasm pages of memory (exported as `memory`) and one byte `value` at each of `at`. */
function moduleWith(pages: number, at: Array<[number, number]>): WebAssembly.Module {
  const segments = at.flatMap(([offset, value]) => [0, 0x41, ...sleb(offset), 0x0b, 1, value]);
  const name = [...new TextEncoder().encode('memory')];
  const bytes = [
    ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...sectionOf(5, [1, 0, ...uleb(pages)]),
    ...sectionOf(7, [1, name.length, ...name, 2, 0]),
    ...sectionOf(11, [...uleb(at.length), ...segments]),
  ];
  return new WebAssembly.Module(new Uint8Array(bytes));
}

const memoryOf = (i: WebAssembly.Instance) => i.exports.memory as WebAssembly.Memory;

describe('spare prefault', () => {
  const m = moduleWith(2, [
    [4096, 0x2a],
    [65536, 7],
  ]);

  it('writtenPages finds the 4 KiB pages holding non-zero bytes', () => {
    expect(writtenPages(memoryOf(new WebAssembly.Instance(m)))).toEqual([1, 16]);
  });

  it("leaves the spare's memory byte for byte as a fresh instance's (pages with data, without, and out of range)", () => {
    const fresh = Buffer.from(memoryOf(new WebAssembly.Instance(m)).buffer);
    const spare = new SpareInstance('k', m, 'test.prefault', 'memory', [0, 1, 16, 31, 32, 99_999, -1, 0.5]);
    expect(spare.memory).toBeDefined();
    expect(Buffer.from((spare.memory as WebAssembly.Memory).buffer).equals(fresh)).toBe(true);
    // The bytes a prefault writes to hold data: a write of 0 there would lose it.
    expect([fresh[4096], fresh[65536]]).toEqual([0x2a, 7]);
  });

  it(`learns at most ${TOUCH_PAGES} pages, however many the guest wrote`, () => {
    const many = moduleWith(
      1,
      Array.from({ length: 16 }, (_, p) => [p * 4096 + 1, 1] as [number, number]),
    );
    const wide = moduleWith(
      4,
      Array.from({ length: 40 }, (_, p) => [p * 4096, 1] as [number, number]),
    );
    expect(writtenPages(memoryOf(new WebAssembly.Instance(many)))).toHaveLength(16);
    expect(writtenPages(memoryOf(new WebAssembly.Instance(wide)))).toEqual(Array.from({ length: TOUCH_PAGES }, (_, p) => p));
  });
});
