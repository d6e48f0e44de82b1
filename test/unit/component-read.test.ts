// Unit tests of the component binary reader (src/sandbox/component/), the world
// it decides (src/sandbox/describe.ts) and the direct-ABI check
// (src/sandbox/direct-abi.ts), against src/ with no jco: real components from
// fixtures/, small ones built here byte by byte, and hostile bytes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CapsuleError } from '../../src/errors.js';
import { readComponent } from '../../src/sandbox/component/read.js';
import { type ComponentShape, shapeOf } from '../../src/sandbox/describe.js';
import { directAbiOf } from '../../src/sandbox/direct-abi.js';
import { encodeLeb } from '../component-bytes.js';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const bytesOf = (p: string) => new Uint8Array(readFileSync(root(p)));
const shape = (bytes: Uint8Array): ComponentShape => shapeOf(readComponent(bytes), '');
const RUN = 'run: func(input: string) -> result<string, string>';

// --- a few bytes of the binary format, to build components by hand ---
const leb = encodeLeb;
const str = (s: string) => [...leb(Buffer.byteLength(s)), ...Buffer.from(s)];
const section = (id: number, ...items: number[][]) => {
  const body = [...leb(items.length), ...items.flat()];
  return [id, ...leb(body.length), ...body];
};
const component = (...sections: number[][]) => Uint8Array.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, ...sections.flat()]);
const STRING = 0x73;
/** Type 0: result<string, string>; type 1: func(<param>: <type>) -> type 0. */
const runTypes = (param = 'input', type = STRING) =>
  section(7, [0x6a, 1, STRING, 1, STRING], [0x40, 1, ...str(param), type, 0x00, 0], [0x42, 0] /* type 2: an empty instance type */);
/** A component importing func `f` of type 1 and exporting it as `run`. */
const reexportRun = (param?: string, type?: number) =>
  component(runTypes(param, type), section(10, [0x00, ...str('f'), 0x01, 1]), section(11, [0x00, ...str('run'), 0x01, 0, 0x00]));

function failure(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Reads `bytes`: a shape, or COMPONENT_INVALID, and nothing else. */
function shapeOrInvalid(bytes: Uint8Array): ComponentShape | 'invalid' {
  try {
    return shape(bytes);
  } catch (e) {
    if (!(e instanceof CapsuleError) || e.code !== 'COMPONENT_INVALID') throw e;
    return 'invalid';
  }
}

const realComponents = [
  ...['fixtures/build', 'fixtures/corpus'].flatMap((d) =>
    readdirSync(root(d))
      .filter((f) => f.endsWith('.wasm'))
      .map((f) => `${d}/${f}`),
  ),
  ...readdirSync(root('capabilities'))
    .map((d) => `capabilities/${d}/component.wasm`)
    .filter((p) => existsSync(root(p))),
];
const notComponents = ['fixtures/build/core-module.wasm', 'fixtures/build/bench-extism-echo.wasm', 'fixtures/build/bench-extism-fib.wasm'];

describe('reading real components', () => {
  it('every component in fixtures/ and capabilities/ is read; core modules are not components', () => {
    for (const p of realComponents) {
      if (notComponents.includes(p)) expect(shapeOrInvalid(bytesOf(p)), p).toBe('invalid');
      else expect(shapeOrInvalid(bytesOf(p)), p).not.toBe('invalid');
    }
  });

  it('a capability: its imports by name and its run export', () => {
    const s = shape(bytesOf('fixtures/build/log.wasm'));
    expect(s).toMatchObject({ imports: ['capsule:host/log@0.1.0'], exports: [RUN], world: 'capability' });
    expect(shape(bytesOf('capabilities/demo.echo/component.wasm'))).toMatchObject({ imports: [], exports: [RUN], world: 'capability' });
  });

  it('a wasi:cli command, with every interface it imports', () => {
    const s = shape(bytesOf('fixtures/corpus/hello_stdout.component.wasm'));
    expect(s.world).toBe('command');
    expect(s.exports).toEqual(['wasi:cli/run@0.2.3']);
    expect(s.imports).toContain('wasi:io/streams@0.2.3');
    expect(s.imports).toContain('wasi:cli/stdout@0.2.3');
  });

  it('components that are neither, with their exports rendered through composition', () => {
    expect(shape(bytesOf('fixtures/corpus/adder.component.wasm'))).toMatchObject({ exports: ['docs:adder/add@0.1.0'], world: null });
    const composed = shape(bytesOf('fixtures/corpus/stdio.composed.wasm'));
    expect(composed.world).toBeNull();
    expect(composed.exports).toContain('test-get-env: func() -> list<tuple<string, string>>');
    expect(composed.exports).toContain('test-file-read: func(path: string) -> string');
  });

  it('a few bytes of deeply shared types render as a bounded line', () => {
    const [line = ''] = shape(bytesOf('fixtures/build/deep-types.wasm')).exports;
    expect(line).toMatch(/^f: func\(x: tuple<tuple</);
    expect(line).toContain('…');
    expect(line.length).toBeLessThan(4096);
  });
});

describe('imports and worlds of hand-built components', () => {
  it('a bare func import is named as it is; a version suffix attribute joins the name; type imports are not imports', () => {
    const bytes = component(
      section(7, [0x40, 1, ...str('msg'), STRING, 0x01, 0x00], [0x42, 0]),
      section(10, [0x00, ...str('log'), 0x01, 0], [0x02, ...str('wasi:io/streams@0.2'), 1, 0x01, ...str('.3'), 0x05, 1], [0x00, ...str('handle'), 0x03, 0x01]),
    );
    expect(shape(bytes)).toMatchObject({ imports: ['log', 'wasi:io/streams@0.2.3'], exports: [], world: null });
  });

  it('run must be exactly func(input: string) -> result<string, string>', () => {
    expect(shape(reexportRun())).toMatchObject({ exports: [RUN], world: 'capability' });
    expect(shape(reexportRun('data')).world).toBeNull();
    expect(shape(reexportRun('input', 0x7d)).world).toBeNull(); // u8
  });

  it('a second export, or run as an instance, is not the capability world', () => {
    const two = component(
      runTypes(),
      section(10, [0x00, ...str('f'), 0x01, 1]),
      section(11, [0x00, ...str('run'), 0x01, 0, 0x00], [0x00, ...str('g'), 0x01, 0, 0x00]),
    );
    expect(shape(two).world).toBeNull();
    const instance = component(runTypes(), section(10, [0x00, ...str('i'), 0x05, 2]), section(11, [0x00, ...str('run'), 0x05, 0, 0x00]));
    expect(shape(instance)).toMatchObject({ exports: ['run: interface'], world: null });
  });

  it('exporting the instance wasi:cli/run@0.2.x is the command world', () => {
    const cmd = component(runTypes(), section(10, [0x00, ...str('i'), 0x05, 2]), section(11, [0x00, ...str('wasi:cli/run@0.2.3'), 0x05, 0, 0x00]));
    expect(shape(cmd)).toMatchObject({ imports: ['i'], exports: ['wasi:cli/run@0.2.3'], world: 'command' });
    const func = component(runTypes(), section(10, [0x00, ...str('f'), 0x01, 1]), section(11, [0x00, ...str('wasi:cli/run@0.2.3'), 0x01, 0, 0x00]));
    expect(shape(func).world).toBeNull();
  });
});

describe('directAbiOf', () => {
  it('finds the core exports behind a lifted run', () => {
    const info = readComponent(bytesOf('fixtures/build/counter.wasm'));
    expect(directAbiOf(info, ['m.core.wasm'])).toMatchObject({ coreFile: 'm.core.wasm', run: 'run', memory: 'memory', realloc: 'cabi_realloc' });
  });

  it('anything beyond one module, one instance and one lift means "use the glue"', () => {
    const counter = bytesOf('fixtures/build/counter.wasm');
    expect(directAbiOf(readComponent(counter), [])).toBeUndefined();
    expect(directAbiOf(readComponent(counter), ['a.wasm', 'b.wasm'])).toBeUndefined();
    const withInstance = Uint8Array.from([...counter, ...section(5, [0x01, 0])]);
    expect(directAbiOf(readComponent(withInstance), ['m.core.wasm'])).toBeUndefined();
    for (const p of ['fixtures/build/log.wasm', 'fixtures/build/multi-memory.wasm', 'fixtures/corpus/adder.component.wasm']) {
      expect(directAbiOf(readComponent(bytesOf(p)), ['m.core.wasm']), p).toBeUndefined();
    }
  });
});

describe('hostile bytes give a shape or COMPONENT_INVALID, never another error', () => {
  const samples = ['fixtures/build/log.wasm', 'fixtures/build/counter.wasm', 'fixtures/build/esc-fields.wasm'];

  it('truncated at every byte (a cut between sections leaves a smaller component)', () => {
    for (const p of samples) {
      const bytes = bytesOf(p);
      const outcomes = Array.from({ length: bytes.length }, (_, n) => shapeOrInvalid(bytes.subarray(0, n)));
      expect(outcomes.filter((o) => o === 'invalid').length, p).toBeGreaterThan(bytes.length * 0.9);
    }
  });

  it('every byte replaced by 0x00, 0x7f, 0x80 and 0xff', () => {
    let read = 0;
    for (const p of samples) {
      const bytes = bytesOf(p);
      for (let i = 8; i < bytes.length; i++) {
        for (const v of [0x00, 0x7f, 0x80, 0xff]) {
          const mutated = Uint8Array.from(bytes);
          mutated[i] = v;
          if (shapeOrInvalid(mutated) !== 'invalid') read++;
        }
      }
    }
    expect(read).toBeGreaterThan(0); // some mutations land in skipped bytes (core code, names) and still read
  });

  it('huge declared lengths and counts are refused before anything is allocated', () => {
    const huge = [0xff, 0xff, 0xff, 0xff, 0x0f];
    for (const bytes of [
      component([1, ...huge]), // a core module section longer than the file
      component([7, 5, ...huge]), // a type section claiming 2^32-1 types
      component(section(7, [0x72, ...huge])), // a record of 2^32-1 fields
      component(section(10, [0x00, ...huge])), // an import name of 4 GiB
      component([7, 2, 1, 0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // a LEB128 too long
    ]) {
      expect(failure(() => readComponent(bytes))).toMatchObject({ code: 'COMPONENT_INVALID' });
    }
  });

  it('deep nesting is refused, not followed', () => {
    let nested = component();
    for (let i = 0; i < 100; i++) nested = component([4, ...leb(nested.length), ...nested]);
    expect(failure(() => readComponent(nested))).toMatchObject({ code: 'COMPONENT_INVALID', message: expect.stringMatching(/nested more than/) });
    let type: number[] = [0x42, 0];
    for (let i = 0; i < 100; i++) type = [0x42, 1, 0x01, ...type]; // instance types declaring instance types
    expect(failure(() => readComponent(component(section(7, type))))).toMatchObject({ code: 'COMPONENT_INVALID' });
  });

  it('core types and module types are read past; a module type inside one is refused', () => {
    const moduleType = [0x50, 4, 0x00, ...str('m'), ...str('f'), 0x00, 0, 0x01, 0x60, 0, 0, 0x02, 0x10, 0x01, 1, 0, 0x03, ...str('mem'), 0x02, 0x00, 1];
    const s = shape(component(section(3, [0x60, 1, 0x7f, 0], moduleType), runTypes()));
    expect(s).toMatchObject({ imports: [], exports: [], world: null });
    const inner = [0x50, 1, 0x01, 0x50, 0];
    expect(failure(() => readComponent(component(section(3, inner))))).toMatchObject({ code: 'COMPONENT_INVALID' });
  });

  it('dangling indices are refused', () => {
    expect(failure(() => readComponent(component(section(10, [0x00, ...str('f'), 0x01, 5]))))).toMatchObject({ code: 'COMPONENT_INVALID' });
    expect(failure(() => readComponent(component(section(11, [0x00, ...str('run'), 0x01, 0, 0x00]))))).toMatchObject({ code: 'COMPONENT_INVALID' });
  });

  it('many exports of a deeply shared type render within a total budget', () => {
    const types = [[0x6f, 2, 0x7d, 0x7d]]; // type 0: tuple<u8, u8>
    for (let i = 0; i < 30; i++) types.push([0x6f, 2, i, i]); // type i+1: tuple<type i, type i>
    types.push([0x40, 1, ...str('x'), 30, 0x01, 0x00]); // type 31: func(x: type 30)
    const exports = Array.from({ length: 5_000 }, (_, i) => [0x00, ...str(`e${i}`), 0x01, 0, 0x00]);
    const s = shape(component(section(7, ...types), section(10, [0x00, ...str('f'), 0x01, 31]), section(11, ...exports)));
    expect(s.exports).toHaveLength(5_000);
    expect(s.exports[0]).toMatch(/^e0: func\(x: tuple<tuple</);
    expect(s.exports[4_999]).toBe('e4999: …');
    expect(s.exports.join('').length).toBeLessThan(1 << 20);
  });

  it('a long list of imports is read', () => {
    const imports = Array.from({ length: 20_000 }, (_, i) => [0x00, ...str(`f${i}`), 0x01, 0]);
    const s = shape(component(section(7, [0x40, 0, 0x01, 0x00]), section(10, ...imports)));
    expect(s.imports).toHaveLength(20_000);
  });
});
