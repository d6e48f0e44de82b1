// What `capsule new` writes: a capability that builds, passes its examples and runs as is.
export type Lang = 'js' | 'ts' | 'c' | 'wat';
export const LANGS: readonly Lang[] = ['js', 'ts', 'c', 'wat'];

export interface Template {
  /** Path (relative to the capability directory) → contents. */
  files: Record<string, string>;
  inputSchema: object;
  outputSchema: object;
  /** Declared examples: input and expected output. */
  examples: { name: string; input: unknown; output?: unknown; error?: string }[];
}

const textIn = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false };

const JS_BODY = `// run(input) gets the call's input as JSON text and returns the output as JSON text.
// A thrown string is err(message) to the caller (CAPABILITY_ERROR); any other throw,
// an Error included, traps (TRAP). The guest engine has no ICU (no String#normalize,
// no Intl), no timers, and without a grant no clocks, randomness or network.
//
// To log, add "permissions": { "host": ["capsule:host/log"] } to capability.json,
//   import { log } from 'capsule:host/log';   and call   log('info', 'message');
// and run with --allow-host capsule:host/log (or grant it in the policy).
`;

const SLUG = `  let request;
  try {
    request = JSON.parse(input);
  } catch {
    throw 'input is not JSON';
  }
  if (typeof request?.text !== 'string') throw 'expected {"text": string}';
  const slug = request.text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return JSON.stringify({ slug });`;

const slugExamples = [
  { name: 'two words', input: { text: 'Hello World' }, output: { slug: 'hello-world' } },
  { name: 'punctuation and spaces', input: { text: '  Capsule: 5 minutes!  ' }, output: { slug: 'capsule-5-minutes' } },
];
const slugOut = { type: 'object', properties: { slug: { type: 'string' } }, required: ['slug'] };

const js = (): Template => ({
  files: { 'src/plugin.js': `${JS_BODY}\n/** @param {string} input */\nexport function run(input) {\n${SLUG}\n}\n` },
  inputSchema: textIn,
  outputSchema: slugOut,
  examples: slugExamples,
});

const ts = (): Template => ({
  files: {
    'src/plugin.ts': `/// <reference types="capsule/guest" />\n${JS_BODY}\nexport const run: Capsule.Run = (input) => {\n  let request: { text?: unknown } | null;\n${SLUG.split('\n').slice(1).join('\n').replace('request = JSON.parse(input);', 'request = JSON.parse(input) as { text?: unknown } | null;')}\n};\n`,
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        include: ['src'],
      },
      null,
      2,
    )}\n`,
  },
  inputSchema: textIn,
  outputSchema: slugOut,
  examples: slugExamples,
});

const wat = (): Template => ({
  files: {
    'src/capability.wat': `;; A capability in the component model's text format: run returns its input unchanged.
;; capsule build parses it with wasm-tools (no native toolchain).
(component
  (core module $m
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    ;; Bump allocator: an instance lives for one call, so nothing is ever freed.
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.add (i32.shr_u (local.get 3) (i32.const 16)) (i32.const 1))))))
      (local.get $p))
    ;; run(ptr, len) -> pointer to the result<string,string> record at 0: [tag:u8, pad, ptr @4, len @8].
    (func (export "run") (param i32 i32) (result i32)
      (i32.store8 (i32.const 0) (i32.const 0))
      (i32.store (i32.const 4) (local.get 0))
      (i32.store (i32.const 8) (local.get 1))
      (i32.const 0)))
  (core instance $i (instantiate $m))
  (func (export "run") (param "input" string) (result (result string (error string)))
    (canon lift (core func $i "run") (memory (core memory $i "memory")) (realloc (core func $i "cabi_realloc"))))
)
`,
  },
  inputSchema: textIn,
  outputSchema: textIn,
  examples: [{ name: 'echo', input: { text: 'Hello World' }, output: { text: 'Hello World' } }],
});

const c = (): Template => ({
  files: {
    'src/capability.c': `/*
 * A pure capability in C (world capsule:host/pure-capability): no libc, no imports.
 * run gets the input JSON text and returns {"bytes": N}, its length in bytes.
 * capsule build: clang --target=wasm32 -ffreestanding -nostdlib, then wasm-tools.
 * Without wit-bindgen the canonical ABI glue (cabi_realloc, the result record) is by hand.
 */
#include <stddef.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))

extern unsigned char __heap_base;
static uintptr_t heap_top;

EXPORT("cabi_realloc")
void *cabi_realloc(void *old_ptr, size_t old_size, size_t align, size_t new_size) {
    if (heap_top == 0) heap_top = (uintptr_t)&__heap_base;
    uintptr_t start = (heap_top + align - 1) & ~(uintptr_t)(align - 1);
    uintptr_t end = start + new_size;
    uintptr_t have = (uintptr_t)__builtin_wasm_memory_size(0) << 16;
    if (end > have && __builtin_wasm_memory_grow(0, (end - have + 0xFFFF) >> 16) == (size_t)-1)
        __builtin_trap();
    heap_top = end;
    unsigned char *p = (unsigned char *)start;
    for (size_t i = 0; old_ptr != NULL && i < old_size && i < new_size; i++)
        p[i] = ((const unsigned char *)old_ptr)[i];
    return p;
}

/* result<string, string>: tag (0 = ok), then the string's pointer and length. */
static struct { uint32_t tag; const char *ptr; size_t len; } result;
static char out[32];

EXPORT("run")
void *run(const char *input, size_t len) {
    (void)input;
    char digits[24];
    size_t n = 0, k = 0;
    do { digits[n++] = (char)('0' + len % 10); len /= 10; } while (len > 0);
    const char *head = "{\\"bytes\\":";
    while (*head) out[k++] = *head++;
    while (n > 0) out[k++] = digits[--n];
    out[k++] = '}';
    result.tag = 0;
    result.ptr = out;
    result.len = k;
    return &result;
}

EXPORT("cabi_post_run")
void cabi_post_run(void *ret) { (void)ret; heap_top = 0; }
`,
  },
  inputSchema: textIn,
  outputSchema: { type: 'object', properties: { bytes: { type: 'integer', minimum: 0 } }, required: ['bytes'] },
  examples: [{ name: 'byte count of the input text', input: { text: 'hi' }, output: { bytes: 13 } }],
});

export const TEMPLATES: Record<Lang, () => Template> = { js, ts, wat, c };
