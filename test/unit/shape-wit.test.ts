// Unit tests of the world reading (src/sandbox/describe.ts) and the direct-ABI
// recogniser (src/sandbox/direct-abi.ts), against src/, with no component built.
import { describe, expect, it } from 'vitest';
import { CapsuleError } from '../../src/errors.js';
import { shapeFromWit } from '../../src/sandbox/describe.js';
import { directAbiFromWat } from '../../src/sandbox/direct-abi.js';

const CAPABILITY = `package root:component;

world root {
  import wasi:io/streams@0.2.3;
  // a comment with an export run: func(); in it
  import log: func(msg: string);
  export run: func(input: string) -> result<string, string>;
}
`;

describe('shapeFromWit', () => {
  it('reads imports, exports and the capability world', () => {
    const shape = shapeFromWit(CAPABILITY);
    expect(shape.imports).toEqual(['wasi:io/streams@0.2.3', 'log']);
    expect(shape.exports).toEqual(['run: func(input: string) -> result<string, string>']);
    expect(shape.world).toBe('capability');
  });

  it('recognises a wasi:cli command and keeps inline interfaces whole', () => {
    const wit = 'world w {\n  import host: interface {\n    f: func();\n  }\n  export wasi:cli/run@0.2.3;\n}\n';
    const shape = shapeFromWit(wit);
    expect(shape.imports).toEqual(['host']);
    expect(shape.world).toBe('command');
  });

  it('a world exporting anything else is neither', () => {
    expect(shapeFromWit('world w {\n  export run: func();\n}\n').world).toBeNull();
  });

  it('text with no world or a truncated world is COMPONENT_INVALID', () => {
    for (const wit of ['', 'package a:b;', 'world w {\n  import x: func(', `world w ${'{'.repeat(100_000)}`]) {
      const err = catchError(() => shapeFromWit(wit));
      expect(err).toBeInstanceOf(CapsuleError);
      expect((err as CapsuleError).code).toBe('COMPONENT_INVALID');
    }
  });

  it('a long hostile world is read in linear time', () => {
    const wit = `world w {\n${'  import a:b/c;\n'.repeat(100_000)}}\n`;
    const started = Date.now();
    expect(shapeFromWit(wit).imports).toHaveLength(100_000);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

const WAT = `(component
  (core module (;0;)
    (memory (;0;) 1)
  )
  (core instance (;0;) (instantiate 0))
  (alias core export 0 "memory" (core memory (;0;)))
  (type (;0;) (result string (error string)))
  (type (;1;) (func (param "input" string) (result 0)))
  (alias core export 0 "run" (core func (;0;)))
  (alias core export 0 "cabi_realloc" (core func (;1;)))
  (alias core export 0 "cabi_post_run" (core func (;2;)))
  (func (;0;) (type 1) (canon lift (core func 0) (memory 0) (realloc 1) string-encoding=utf8 (post-return 2)))
  (export (;1;) "run" (func 0))
)
`;

describe('directAbiFromWat', () => {
  it('finds the core exports behind a lifted run', () => {
    expect(directAbiFromWat(WAT, ['m.core.wasm'])).toEqual({
      coreFile: 'm.core.wasm',
      run: 'run',
      memory: 'memory',
      realloc: 'cabi_realloc',
      postReturn: 'cabi_post_run',
    });
  });

  it('anything unrecognised means "use the glue"', () => {
    expect(directAbiFromWat(WAT, [])).toBeUndefined();
    expect(directAbiFromWat(WAT, ['a.wasm', 'b.wasm'])).toBeUndefined();
    expect(directAbiFromWat(WAT.replace('(component', '(module'), ['m.core.wasm'])).toBeUndefined();
    expect(directAbiFromWat(WAT.replace('  (export', '  (import "x" (func))\n  (export'), ['m.core.wasm'])).toBeUndefined();
    expect(directAbiFromWat(WAT.slice(0, WAT.length / 2), ['m.core.wasm'])).toBeUndefined();
    expect(directAbiFromWat('', ['m.core.wasm'])).toBeUndefined();
  });
});

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}
