// Issue 9, class 6: the transpile cache is not trusted as found. Its directory
// must be the user's own, entries are read-only with each file's SHA-256
// recorded, a changed file is caught when the entry is read (transpiled again,
// audited) or when it is loaded to run (DIGEST_MISMATCH), and tampered code never runs.
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../dist/index.js';
import { compileBundle, ComponentCompiler } from '../src/sandbox/compile.js';
import { loadGlue } from '../src/sandbox/execute.js';
import { sha256Hex } from '../src/sandbox/transpile-cache.js';
import { fixture, tempDir } from './helpers.js';

/** A command-world guest: its glue is loaded and run on every call (no glue-free path). */
const GLUED = fixture('exit-code');
const RUN_INPUT = { args: ['3'], stdin: 'x' };

function onlyEntry(cacheDir: string): string {
  const entries = readdirSync(cacheDir).filter((n) => /^[0-9a-f]{32}$/.test(n));
  expect(entries).toHaveLength(1);
  return path.join(cacheDir, entries[0] ?? '');
}

/** Appends code to a cache file that leaves a marker file if it ever runs. */
function tamperGlue(entry: string, marker: string): void {
  chmodSync(entry, 0o755);
  const glue = path.join(entry, 'component.js');
  chmodSync(glue, 0o644);
  appendFileSync(glue, `\n;(await import('node:fs')).writeFileSync(${JSON.stringify(marker)}, 'tampered glue ran');\n`);
}

function auditEvents(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('transpile cache integrity (class 6)', () => {
  it('writes the cache directory 0700 and entries read-only, with every file hashed in meta.json', async () => {
    const cacheDir = path.join(tempDir(), 'new-cache');
    const compiler = new ComponentCompiler({ cacheDir });
    await compiler.transpile(readFileSync(GLUED), GLUED);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const entry = onlyEntry(cacheDir);
    expect(statSync(entry).mode & 0o777).toBe(0o555);
    const meta = JSON.parse(readFileSync(path.join(entry, 'meta.json'), 'utf8')) as { sha256: Record<string, string> };
    for (const file of readdirSync(entry)) {
      expect(statSync(path.join(entry, file)).mode & 0o777).toBe(0o444);
      if (file !== 'meta.json') expect(meta.sha256[file]).toBe(sha256Hex(readFileSync(path.join(entry, file))));
    }
    expect(Object.keys(meta.sha256)).toContain('component.js');
  });

  it('a tampered glue is detected when the entry is read, transpiled again and audited; the tampered code never runs', async () => {
    const dir = tempDir();
    const cacheDir = path.join(dir, 'cache');
    const marker = path.join(dir, 'MARKER');
    const auditLog = path.join(dir, 'audit.jsonl');
    const first = await createRuntime({ capabilitiesDir: dir, cacheDir, auditLog });
    try {
      expect((await first.runFile(GLUED, RUN_INPUT)).stats.cache).toBe('transpiled');
    } finally {
      await first.close();
    }
    const entry = onlyEntry(cacheDir);
    const clean = readFileSync(path.join(entry, 'component.js'));
    tamperGlue(entry, marker);

    const second = await createRuntime({ capabilitiesDir: dir, cacheDir, auditLog });
    try {
      const r = await second.runFile(GLUED, RUN_INPUT);
      expect(r.stats.cache).toBe('transpiled'); // not 'disk': the entry was not used
    } finally {
      await second.close();
    }
    expect(existsSync(marker)).toBe(false);
    // The entry on disk is the clean one again, read-only.
    expect(readFileSync(path.join(onlyEntry(cacheDir), 'component.js')).equals(clean)).toBe(true);
    expect(statSync(onlyEntry(cacheDir)).mode & 0o777).toBe(0o555);
    const tampered = auditEvents(auditLog).filter((e) => e.event === 'cache.tampered');
    expect(tampered).toHaveLength(1);
    expect(tampered[0]).toMatchObject({ stage: 'read', files: ['component.js'], entry: onlyEntry(cacheDir) });
  });

  it('a glue changed after the entry was checked is refused where it is loaded (DIGEST_MISMATCH), then transpiled again', async () => {
    const dir = tempDir();
    const cacheDir = path.join(dir, 'cache');
    const marker = path.join(dir, 'MARKER');
    const auditLog = path.join(dir, 'audit.jsonl');
    const rt = await createRuntime({ capabilitiesDir: dir, cacheDir, auditLog, pool: { minThreads: 1, maxThreads: 1 } });
    try {
      await rt.compileFile(GLUED); // entry written and held in memory: later calls do not re-read it
      tamperGlue(onlyEntry(cacheDir), marker);
      await expect(rt.runFile(GLUED, RUN_INPUT)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
      expect(existsSync(marker)).toBe(false);
      // Forgotten in memory and on disk: the next call transpiles again and runs the real glue.
      const again = await rt.runFile(GLUED, RUN_INPUT);
      expect(again.stats.cache).toBe('transpiled');
    } finally {
      await rt.close();
    }
    expect(existsSync(marker)).toBe(false);
    expect(auditEvents(auditLog).filter((e) => e.event === 'cache.tampered')).toMatchObject([{ stage: 'use', files: ['component.js'] }]);
  });

  it('an entry evicted or cleaned while its component is held in memory fails that call cleanly, and the next call transpiles again', async () => {
    const { cleanCache } = await import('../src/sandbox/transpile-cache.js');
    const dir = tempDir();
    const cacheDir = path.join(dir, 'cache');
    const auditLog = path.join(dir, 'audit.jsonl');
    const rt = await createRuntime({ capabilitiesDir: dir, cacheDir, auditLog });
    try {
      await rt.compileFile(GLUED);
      await cleanCache(cacheDir); // as another process's size cap or `capsule cache clean` would
      await expect(rt.runFile(GLUED, RUN_INPUT)).rejects.toMatchObject({ code: 'INTERNAL', details: { cacheEntryGone: true } });
      expect((await rt.runFile(GLUED, RUN_INPUT)).stats.cache).toBe('transpiled');
    } finally {
      await rt.close();
    }
    expect(auditEvents(auditLog).filter((e) => e.event === 'cache.tampered')).toEqual([]); // gone is not tampered
  });

  it('loadGlue and compileBundle (every tier, child processes included) check the recorded hash before using a file', async () => {
    const dir = tempDir();
    const marker = path.join(dir, 'MARKER');
    const glue = path.join(dir, 'component.js');
    writeFileSync(glue, `export function instantiate() {}\n;(await import('node:fs')).writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    await expect(loadGlue(pathToFileURL(glue).href, sha256Hex('something else'))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(existsSync(marker)).toBe(false);

    const core = readFileSync(fixture('counter')); // any bytes: the hash check comes before compiling
    // What runs is the core file with its fuel checks, core.wasm.fuel.
    writeFileSync(path.join(dir, 'core.wasm.fuel'), core);
    const bundle = { dir, glue: 'component.js', coreFiles: ['core.wasm'], sha256: { 'core.wasm.fuel': sha256Hex('not these bytes') } };
    await expect(compileBundle(bundle, 1 << 20)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH', details: { file: 'core.wasm.fuel' } });
  });

  it("the imports, world and direct ABI come from the component's bytes, not from what meta.json says", async () => {
    const cacheDir = path.join(tempDir(), 'cache');
    const log = fixture('log');
    const first = await new ComponentCompiler({ cacheDir }).transpile(readFileSync(log), log);
    expect(first.shape.imports).toEqual(['capsule:host/log@0.1.0']);
    // meta.json records the files' hashes but is not itself hashed: forge its WIT and a direct ABI.
    const entry = onlyEntry(cacheDir);
    const metaFile = path.join(entry, 'meta.json');
    chmodSync(entry, 0o755);
    chmodSync(metaFile, 0o644);
    const stored = JSON.parse(readFileSync(metaFile, 'utf8')) as { meta: Record<string, unknown> };
    stored.meta.wit = 'package a:b;\n\nworld root {\n  export run: func(input: string) -> result<string, string>;\n}\n';
    stored.meta.directAbi = { coreFile: 'x.wasm', run: 'run', memory: 'memory', realloc: 'cabi_realloc' };
    writeFileSync(metaFile, JSON.stringify(stored));
    const again = await new ComponentCompiler({ cacheDir }).transpile(readFileSync(log), log);
    expect(again.source).toBe('disk');
    expect(again.shape.imports).toEqual(['capsule:host/log@0.1.0']);
    expect(again.shape.world).toBe('capability');
    expect(again.directAbi).toBeUndefined();
  });

  it('refuses a cache directory other users can write, or one below a directory they can write', async () => {
    const dir = tempDir();
    const open = path.join(dir, 'world-writable');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const rt = await createRuntime({ capabilitiesDir: dir, cacheDir: open });
    try {
      const err = await rt.runFile(fixture('counter'), {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'USAGE', message: expect.stringContaining(open) });
      expect((err as Error).message).toContain(`chmod go-w ${open}`);
      expect(readdirSync(open)).toEqual([]); // nothing written or run from it

      const parent = path.join(dir, 'open-parent');
      mkdirSync(parent);
      chmodSync(parent, 0o777);
      const below = new ComponentCompiler({ cacheDir: path.join(parent, 'cache') });
      await expect(below.transpile(readFileSync(fixture('counter')), 'counter')).rejects.toMatchObject({
        code: 'USAGE',
        message: expect.stringContaining(`is inside ${parent}, writable by its group and all users without the sticky bit`),
      });
    } finally {
      await rt.close();
    }
  });

  it.runIf(process.getuid?.() === 0)('refuses a cache directory owned by another user', async () => {
    const theirs = path.join(tempDir(), 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    const compiler = new ComponentCompiler({ cacheDir: theirs });
    await expect(compiler.transpile(readFileSync(fixture('counter')), 'counter')).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('is owned by uid 65534'),
    });
  });
});
