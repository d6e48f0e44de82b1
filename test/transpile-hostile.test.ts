// Hostile components aimed at the transpiler and the component reader (issue 9,
// classes 4, 9 and 10): each must fail as one short COMPONENT_INVALID, off the
// runtime's event loop, leave nothing in the cache, and leave the runtime (and
// jco) serving the next component.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../dist/index.js';
import { compileCore } from '../src/sandbox/core-compile.js';
import { TranspilerPool } from '../src/sandbox/transpile-host.js';
import { coreModuleWithData, distinct, hugeFunctionBodySize, withDylink0 } from './component-bytes.js';
import { embed, expectHostSurvived } from './embed.js';
import { CAPABILITIES, cli, failure, fixture, manifest, ROOT, tempDir, writeCapability } from './helpers.js';

const MiB = 1024 * 1024;
const ECHO = readFileSync(path.join(CAPABILITIES, 'demo.echo', 'component.wasm'));
const FAIL = readFileSync(fixture('fail'));

let dir: string;
let cacheDir: string;
let rt: Runtime;

/** A file in the test's directory holding `bytes`. */
function file(name: string, bytes: Uint8Array): string {
  const f = path.join(dir, name);
  writeFileSync(f, bytes);
  return f;
}

/** For modules imported from src/ (their CapsuleError is not dist's class): the error, checked by name. */
async function srcFailure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toMatchObject({ name: 'CapsuleError' });
  return e as { code: string; message: string };
}

/** Cache entries (a refused component must leave none, not even a temporary directory). */
const cacheEntries = () => readdirSync(cacheDir);

beforeAll(async () => {
  dir = tempDir();
  cacheDir = tempDir('capsule-test-own-cache-');
  rt = await createRuntime({ capabilitiesDir: CAPABILITIES, cacheDir, pool: { maxThreads: 1 } });
});
afterAll(() => rt.close());

describe('class 4: transpiling is bounded and off the event loop', () => {
  it('a few hundred bytes of deeply nested types: refused without stalling the event loop, short message, nothing cached', async () => {
    const before = cacheEntries();
    // The runtime's event loop must keep turning while jco works (before: ~11 s blocked).
    let worst = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 10);
    const e = await failure(rt.runFile(fixture('deep-types'), null)).finally(() => clearInterval(tick));
    expect(readFileSync(fixture('deep-types')).length).toBeLessThan(1024);
    expect(e.code).toBe('COMPONENT_INVALID');
    expect(e.message).toMatch(/WIT is .* more than the 1\.0 MiB allowed/);
    expect(e.message.length).toBeLessThanOrEqual(1024);
    expect(e.message).not.toContain('\n');
    // Generous: a loaded 2-core machine delays timers; the stall it replaces was seconds of solid CPU.
    expect(worst).toBeLessThan(2500);
    expect(cacheEntries()).toEqual(before);
    expect((await rt.run('demo.echo', { still: 'alive' })).output).toEqual({ still: 'alive' });
  });

  it('an embedding app survives it: no stall, jco memory outside its process, plain call after', () => {
    const r = embed({ file: fixture('deep-types'), input: null });
    // ~250 MB baseline for an embedding process with a pool (test/embed.ts) + margin; jco in
    // the runtime's own process transpiling this peaked at ~370 MB on its own.
    expectHostSurvived(r, { codes: ['COMPONENT_INVALID'], maxRssBytes: 350 * MiB });
  });

  it('a transpile that outlives the time limit is refused (its process is killed)', async () => {
    // The deep-types fixture's WIT is checked first; raise that limit so jco works on it for seconds.
    const pool = new TranspilerPool({
      entry: path.join(ROOT, 'dist', 'transpile-host.js'),
      limits: { timeoutMs: 300, maxWitBytes: 64 * MiB },
    });
    try {
      const e = await srcFailure(pool.transpile(readFileSync(fixture('deep-types')), 'deep-types.wasm'));
      expect(e.code).toBe('COMPONENT_INVALID');
      expect(e.message).toMatch(/took longer than 0\.3 s/);
    } finally {
      pool.close();
    }
  });
});

describe('class 10: jco failures are contained and named', () => {
  it('a component that makes jco panic does not poison it: a valid component transpiled next loads and runs', async () => {
    const poison = file('poison.wasm', hugeFunctionBodySize(FAIL));
    const e = await failure(rt.runFile(poison, 'x'));
    expect(e.code).toBe('COMPONENT_INVALID');
    expect(e.message).toMatch(/panicked: capacity overflow/);
    expect(e.message.length).toBeLessThanOrEqual(1024);
    // Never transpiled before (a new digest): before the fix jco answered
    // "cannot enter component instance" for every such component, for good.
    const fresh = file('fresh-echo.wasm', distinct(ECHO, 'after-panic'));
    const r = await rt.runFile(fresh, { after: 'panic' });
    expect(r.output).toEqual({ after: 'panic' });
    expect(r.stats.cache).toBe('transpiled');
  });

  it('a malformed dylink.0 custom section is not read by anything: the component runs to its own error, a capsule one', async () => {
    // Only jco's WAT printer read it ("don't know how to print dylink.0 subsection"), and
    // capsule no longer prints components (src/sandbox/component/ reads the binary and
    // skips core modules); V8 ignores custom sections, so the guest runs.
    const dylink = file('dylink.wasm', withDylink0(FAIL, Uint8Array.from([0, 0])));
    const e = await failure(rt.runFile(dylink, 'x'));
    expect(e.code).toBe('CAPABILITY_ERROR');
  });

  it('the CLI prints exactly one capsule: line for each, no Rust panic text', () => {
    for (const [name, bytes, code] of [
      ['cli-poison.wasm', hugeFunctionBodySize(FAIL), 'COMPONENT_INVALID'],
      ['cli-dylink.wasm', withDylink0(FAIL, Uint8Array.from([0, 0])), 'CAPABILITY_ERROR'],
    ] as const) {
      const r = cli(['run', file(name, bytes), '--input', '"x"']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^capsule: ${code}: [^\\n]*\\n$`));
    }
  });

  it('a core module that does not compile is COMPONENT_INVALID, on or off the thread', async () => {
    const small = new Uint8Array(Buffer.from('\0asm\x01\0\0\0\x0b\xff', 'latin1'));
    expect((await srcFailure(compileCore(small, 'small.wasm'))).code).toBe('COMPONENT_INVALID');
    const large = coreModuleWithData(2 * MiB);
    const broken = new Uint8Array(large.length);
    broken.set(large);
    const at = large.length - 1 - 2 * MiB;
    broken[at] = (broken[at] ?? 0) ^ 0xff; // the segment's size LEB: the module no longer parses
    expect((await srcFailure(compileCore(broken, 'large.wasm'))).code).toBe('COMPONENT_INVALID');
    const copy = new Uint8Array(large.length);
    copy.set(large);
    expect(await compileCore(copy, 'large.wasm')).toBeInstanceOf(WebAssembly.Module);
  });
});

describe('class 9 and 10: component files that are not files', () => {
  it('capsule run /dev/zero ends at once with COMPONENT_INVALID (before: read forever)', () => {
    const r = cli(['run', '/dev/zero']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^capsule: COMPONENT_INVALID: \/dev\/zero is not a regular file[^\n]*\n$/);
  });

  it('--input-file /dev/zero is INPUT_TOO_LARGE at the 256 MiB input ceiling (before: read forever)', () => {
    const r = cli(['run', 'demo.echo', '--input-file', '/dev/zero']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^capsule: INPUT_TOO_LARGE: --input-file \/dev\/zero is larger than the 256 MiB[^\n]*\n$/);
  });

  it('a FIFO as a component file, run directly or as a capability, is refused and the CLI exits (before: hung)', () => {
    const fifo = path.join(dir, 'fifo.wasm');
    execFileSync('mkfifo', [fifo]);
    const direct = cli(['run', fifo]);
    expect(direct.status).toBe(1);
    expect(direct.stderr).toMatch(/^capsule: COMPONENT_INVALID: [^\n]*not a regular file[^\n]*\n$/);

    const caps = tempDir();
    writeCapability(caps, 'test.fifo', manifest('test.fifo'));
    execFileSync('mkfifo', [path.join(caps, 'test.fifo', 'component.wasm')]);
    const registry = cli(['run', 'test.fifo', '--capabilities', caps, '--input', '{}']);
    expect(registry.status).toBe(1);
    expect(registry.stderr).toMatch(/^capsule: COMPONENT_INVALID: [^\n]*not a regular file[^\n]*\n$/);
  });

  it('a component file over 256 MiB is refused before it is read', async () => {
    const big = path.join(dir, 'big.wasm');
    closeSync(openSync(big, 'w'));
    execFileSync('truncate', ['-s', String(256 * MiB + 1), big]); // sparse: costs no disk
    const e = await failure(rt.runFile(big, null));
    expect(e.code).toBe('COMPONENT_INVALID');
    expect(e.message).toMatch(/larger than the 256 MiB/);
  });
});
