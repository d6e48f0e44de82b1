// Issue 9, class 10 (cache growth): every distinct component a runtime loads
// used to stay in memory and on disk for good. The in-memory caches are LRUs
// with a bound, the disk cache has a size cap with least-recently-used
// eviction, and `capsule cache clean` empties it. Count-based: no timing.
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Lru } from '../src/lru.js';
import { ComponentCompiler } from '../src/sandbox/compile.js';
import { glueCacheSize, loadGlue } from '../src/sandbox/execute.js';
import { GLUE_CACHE_ENTRIES } from '../src/sandbox/glue-id.js';
import { cacheInfo, sha256Hex, TranspileCache } from '../src/sandbox/transpile-cache.js';
import type { Job } from '../src/sandbox/job.js';
import { WorkerRunner, warmFirst } from '../src/tiers/worker.js';
import { NO_GRANTS } from './component-job.js';
import { cli, fixture, manifest, ROOT, tempDir, writeCapability } from './helpers.js';

/** A distinct, still valid component: `base` with a custom section (id 0) naming `i`. */
function variant(base: Uint8Array, i: number): Uint8Array {
  const name = Buffer.from('capsule-test');
  const body = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(String(i))]);
  return Buffer.concat([base, Buffer.from([0, body.length]), body]);
}

const entryNames = (dir: string) => readdirSync(dir).filter((n) => /^[0-9a-f]{32}$/.test(n));

describe('in-memory caches are bounded (LRU)', () => {
  it('Lru keeps the most recently used entries and drops the least recently used', () => {
    const lru = new Lru<string, number>(3);
    for (const [i, k] of ['a', 'b', 'c'].entries()) lru.set(k, i);
    expect(lru.get('a')).toBe(0); // a is now the most recent
    lru.set('d', 3); // drops b, the least recently used
    expect(lru.keys()).toEqual(['c', 'a', 'd']);
    expect(lru.has('b')).toBe(false);
    for (let i = 0; i < 100; i++) lru.set(`k${i}`, i);
    expect(lru.size).toBe(3);
    const p = 7;
    lru.set('x', p);
    lru.set('x', 8);
    lru.deleteIf('x', p); // a stale value must not drop its replacement
    expect(lru.get('x')).toBe(8);
    expect(() => new Lru(0)).toThrow(RangeError);
  });

  it('a runtime keeps at most cacheEntries loaded capabilities', async () => {
    const { createRuntime } = await import('../dist/index.js');
    const caps = tempDir();
    for (const id of ['t.a', 't.b', 't.c']) writeCapability(caps, id, manifest(id), fixture('counter'));
    const rt = await createRuntime({ capabilitiesDir: caps, cacheDir: path.join(tempDir(), 'cache'), cacheEntries: 2 });
    try {
      const a = await rt.load('t.a');
      expect(await rt.load('t.a')).toBe(a); // held
      await rt.load('t.b');
      await rt.load('t.c'); // a is now the least recently used of three: dropped
      const again = await rt.load('t.a');
      expect(again).not.toBe(a);
      expect(again.component?.digest).toBe(a.component?.digest);
    } finally {
      await rt.close();
    }
  });

  it('cache sizes that are not positive whole numbers are USAGE, not a RangeError', async () => {
    const { createRuntime } = await import('../dist/index.js');
    for (const bad of [{ cacheEntries: 0 }, { cacheEntries: 1.5 }, { cacheMaxBytes: -1 }, { cacheMaxBytes: Number.NaN }]) {
      await expect(createRuntime({ capabilitiesDir: tempDir(), ...bad })).rejects.toMatchObject({ code: 'USAGE' });
    }
  });

  it('the compiler keeps at most memoryEntries components and capped module sets', async () => {
    const base = readFileSync(fixture('counter'));
    const compiler = new ComponentCompiler({ cacheDir: path.join(tempDir(), 'cache'), memoryEntries: 3 });
    for (let i = 0; i < 8; i++) {
      const c = await compiler.transpile(variant(base, i), `variant ${i}`);
      await compiler.modulesFor(c, 1 << 20);
      await compiler.modulesFor(c, 2 << 20);
    }
    expect(compiler.memoryEntries).toEqual({ compiled: 3, capped: 3 });
    // The most recent is still in memory; the first was dropped and comes from disk.
    expect((await compiler.transpile(variant(base, 7), 'v7')).source).toBe('memory');
    expect((await compiler.transpile(variant(base, 0), 'v0')).source).toBe('disk');
  });

  it(`a thread keeps at most ${GLUE_CACHE_ENTRIES} glue modules`, async () => {
    const dir = tempDir();
    for (let i = 0; i < GLUE_CACHE_ENTRIES + 10; i++) {
      const file = path.join(dir, `glue-${i}.js`);
      const text = `export function instantiate() { return ${i}; }\n`;
      writeFileSync(file, text);
      await loadGlue(pathToFileURL(file).href, sha256Hex(text));
    }
    expect(glueCacheSize()).toBe(GLUE_CACHE_ENTRIES);
  });

  it('a worker that would import more glue modules than its bound is replaced, and the call still runs', async () => {
    // Node keeps every module a worker imports; only replacing the worker frees them.
    const dir = tempDir();
    const job = (i: number): Job => {
      const text = `export function instantiate() { return { run: (input) => JSON.stringify({ glue: ${i}, input: JSON.parse(input) }) }; }\n`;
      writeFileSync(path.join(dir, `glue-${i}.js`), text);
      return {
        capabilityId: `test.glue-${i}`,
        digest: `sha256:${sha256Hex(text)}`,
        glueUrl: pathToFileURL(path.join(dir, `glue-${i}.js`)).href,
        modules: {},
        imports: [],
        world: 'capability',
        grants: NO_GRANTS,
        limits: { memoryBytes: 1 << 20, timeoutMs: 10_000, outputBytes: 1 << 20, inputBytes: 1 << 20 },
        input: JSON.stringify(i),
        bundle: { dir, glue: `glue-${i}.js`, coreFiles: [], sha256: { [`glue-${i}.js`]: sha256Hex(text) } },
      };
    };
    const runner = new WorkerRunner({ maxThreads: 1, spare: 0, glueModules: 3 }, path.join(ROOT, 'dist', 'worker.cjs'));
    try {
      for (let i = 0; i < 10; i++) {
        const r = await runner.run(job(i));
        expect(r.outcome).toEqual({ ok: true, value: JSON.stringify({ glue: i, input: i }) });
      }
      // 10 distinct glues, at most 3 per worker: at least 3 replacements, and no call lost.
      expect(runner.recycled).toBeGreaterThanOrEqual(3);
      expect(runner.recycled).toBeLessThanOrEqual(10);
      const before = runner.recycled;
      for (let i = 7; i < 10; i++) await runner.run(job(i)); // already imported: no replacement
      expect(runner.recycled).toBe(before);
    } finally {
      await runner.close();
    }
  });

  it('the warm glue list a new worker preloads is most-recent-first and bounded', () => {
    let list = warmFirst([], { url: 'a' }, 3);
    for (const url of ['b', 'c', 'd']) list = warmFirst(list, { url }, 3);
    expect(list.map((g) => g.url)).toEqual(['d', 'c', 'b']);
    list = warmFirst(list, { url: 'b' }, 3);
    expect(list.map((g) => g.url)).toEqual(['b', 'd', 'c']);
  });
});

describe('the disk cache is bounded', () => {
  it('a write over the size cap evicts the least recently used entries, never the one just written', async () => {
    const root = path.join(tempDir(), 'cache');
    const cache = new TranspileCache(root, 11_000);
    const kib = (n: number) => new Uint8Array(n * 1024);
    const key = (c: string) => c.repeat(32);
    await cache.write(key('a'), { 'f.bin': kib(3) }, {});
    await cache.write(key('b'), { 'f.bin': kib(3) }, {});
    await cache.write(key('c'), { 'f.bin': kib(3) }, {});
    // Use order by mtime, set explicitly: a oldest, then b, then c.
    for (const [i, c] of ['a', 'b', 'c'].entries()) utimesSync(path.join(root, key(c)), 1000 + i, 1000 + i);
    expect('hit' in (await cache.read(key('a')))).toBe(true); // a read makes a the most recently used
    // 4 × 3 KiB + meta > 11 000 bytes: evicted down to 90% of the cap, least recently used first (b).
    await cache.write(key('d'), { 'f.bin': kib(3) }, {});
    expect(entryNames(root).sort()).toEqual([key('a'), key('c'), key('d')]);
    expect((await cacheInfo(root)).bytes).toBeLessThanOrEqual(11_000);
    // An entry larger than the whole cap is kept (it is in use), the others go.
    await cache.write(key('e'), { 'f.bin': kib(20) }, {});
    expect(entryNames(root)).toEqual([key('e')]);
  });

  it('capsule cache reports path, entries and bytes; capsule cache clean removes the entries and nothing else', async () => {
    const { createRuntime } = await import('../dist/index.js');
    const dir = tempDir();
    const cacheDir = path.join(dir, 'cache');
    const rt = await createRuntime({ capabilitiesDir: dir, cacheDir });
    try {
      await rt.compileFile(fixture('counter'));
    } finally {
      await rt.close();
    }
    writeFileSync(path.join(cacheDir, 'notes.txt'), "not capsule's"); // CAPSULE_CACHE_DIR may point somewhere shared
    mkdirSync(path.join(cacheDir, 'not-an-entry'));
    const env = { CAPSULE_CACHE_DIR: cacheDir };
    const info = JSON.parse(cli(['cache', '--json'], { env: { ...env, CAPSULE_CACHE_MAX_BYTES: '512MiB' } }).stdout) as Record<string, number>;
    expect(info).toMatchObject({ dir: cacheDir, entries: 1, maxBytes: 512 * 1024 ** 2 });
    expect(info.bytes).toBeGreaterThan(0);
    const clean = cli(['cache', 'clean'], { env });
    expect(clean.status).toBe(0);
    expect(clean.stdout).toContain(`${cacheDir}: removed 1 entries`);
    expect(readdirSync(cacheDir).sort()).toEqual(['not-an-entry', 'notes.txt']);
    expect(statSync(cacheDir).isDirectory()).toBe(true);
    const after = cli(['cache', 'info'], { env });
    expect(after.stdout).toContain(`path     ${cacheDir}\nentries  0\nbytes    0 (0 B of 1 GiB)`);
  }, 180_000);

  it('a runtime honours cacheMaxBytes: loading many components keeps the disk cache under the cap', async () => {
    const { createRuntime } = await import('../dist/index.js');
    const dir = tempDir();
    const cacheDir = path.join(dir, 'cache');
    const base = readFileSync(fixture('counter'));
    // Each counter entry is ~95 KiB (mostly glue): a 300 KiB cap holds about three.
    const rt = await createRuntime({ capabilitiesDir: dir, cacheDir, cacheMaxBytes: 300 * 1024 });
    try {
      for (let i = 0; i < 8; i++) {
        const file = path.join(dir, `c${i}.wasm`);
        writeFileSync(file, variant(base, i));
        expect((await rt.runFile(file, {})).output).toEqual({ count: 1 });
      }
    } finally {
      await rt.close();
    }
    const info = await cacheInfo(cacheDir);
    expect(info.bytes).toBeLessThanOrEqual(300 * 1024);
    expect(info.entries).toBeGreaterThan(0);
    expect(info.entries).toBeLessThan(8);
  });
});
