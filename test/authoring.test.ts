// capsule new / build / test, piece by piece (the whole walkthrough, installed from npm pack,
// is test/authoring-walkthrough.test.ts): the builders against src/, the commands through dist/cli.js.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as acorn from 'acorn';
import rewritePattern from 'regexpu-core';
import { describe, expect, it } from 'vitest';
import { buildCapability, findEntry, scaffold } from '../src/authoring/index.js';
import { buildSource } from '../src/authoring/build.js';
import { guestWarnings, lowerPropertyEscapes } from '../src/authoring/js-lint.js';
import { loadPeer } from '../src/authoring/peer.js';
import { checkManifest } from '../src/registry/manifest.js';
import { CLI, tempDir } from './helpers.js';

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: { code?: string }) => e.code,
  );
const json = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });

describe('capsule new', () => {
  it.each(['js', 'ts', 'wat', 'c'])('--lang %s writes a manifest that passes the schema, a source, examples and a README', async (lang) => {
    const { dir, files } = await scaffold('acme.thing', { lang, dir: path.join(tempDir(), 'acme.thing') });
    expect(files).toEqual(expect.arrayContaining(['capability.json', 'examples.json', 'README.md']));
    const m = checkManifest(json(path.join(dir, 'capability.json')), 'capability.json');
    expect(m.id).toBe('acme.thing');
    expect(m.permissions).toBeUndefined();
    expect(existsSync(await findEntry(dir))).toBe(true);
  });

  it('refuses a bad id, an unknown language and a directory that is not empty (USAGE)', async () => {
    const root = tempDir();
    expect(await code(scaffold('NoDots', { lang: 'js', dir: path.join(root, 'a') }))).toBe('USAGE');
    expect(await code(scaffold('acme.x', { lang: 'rust', dir: path.join(root, 'b') }))).toBe('USAGE');
    mkdirSync(path.join(root, 'c'));
    writeFileSync(path.join(root, 'c', 'keep.txt'), 'mine');
    expect(await code(scaffold('acme.x', { lang: 'wat', dir: path.join(root, 'c') }))).toBe('USAGE');
    expect(readFileSync(path.join(root, 'c', 'keep.txt'), 'utf8')).toBe('mine');
  });
});

describe('capsule build', () => {
  it('WAT: writes the component and pins its digest; a signature over the old digest is removed', async () => {
    const { dir } = await scaffold('acme.echo', { lang: 'wat', dir: path.join(tempDir(), 'acme.echo') });
    const file = path.join(dir, 'capability.json');
    writeFileSync(file, JSON.stringify({ ...json(file), digest: `sha256:${'0'.repeat(64)}`, signature: 'stale' }));
    const built = await buildCapability(dir);
    const bytes = readFileSync(path.join(dir, 'component.wasm'));
    expect(built.digest).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    expect(json(file).digest).toBe(built.digest);
    expect(json(file).signature).toBeUndefined();
    expect(built.unsigned).toBe(true);
    // --check: the same source gives the pinned digest; a changed one does not.
    expect((await buildCapability(dir, { check: true })).digest).toBe(built.digest);
    const src = path.join(dir, 'src', 'capability.wat');
    writeFileSync(src, readFileSync(src, 'utf8').replace('(i32.const 1024)', '(i32.const 2048)'));
    expect(await code(buildCapability(dir, { check: true }))).toBe('DIGEST_MISMATCH');
  });

  it('fails with BUILD_FAILED on a WAT syntax error, on two entries, and on a JS command', async () => {
    const { dir } = await scaffold('acme.bad', { lang: 'wat', dir: path.join(tempDir(), 'acme.bad') });
    writeFileSync(path.join(dir, 'src', 'capability.wat'), '(component (oops))');
    expect(await code(buildCapability(dir))).toBe('BUILD_FAILED');
    writeFileSync(path.join(dir, 'src', 'plugin.js'), 'export function run(i) { return i; }');
    expect(await code(findEntry(dir))).toBe('BUILD_FAILED');
    expect(await code(buildSource(path.join(dir, 'src', 'plugin.js'), { world: 'command' }))).toBe('BUILD_FAILED');
  });

  it('a missing build tool is BUILD_FAILED naming what to install', async () => {
    const e = await loadPeer('capsule-no-such-tool', 'capsule-no-such-tool@1.0.0', 'building X').catch((x: Error & { code?: string }) => x);
    expect(e).toMatchObject({
      code: 'BUILD_FAILED',
      message: 'building X needs capsule-no-such-tool, which is not installed: run npm install --save-dev capsule-no-such-tool@1.0.0',
    });
  });

  it('JS: warns about what the guest engine lacks, and rewrites \\p{…} regex literals', () => {
    expect(guestWarnings('x.normalize("NFKD"); setTimeout(f, 1);', "throw new TypeError('x')")).toEqual([
      expect.stringContaining('String.prototype.normalize'),
      expect.stringContaining('setTimeout'),
      expect.stringContaining('throw a string'),
    ]);
    expect(guestWarnings('const s = t.toLowerCase();', "throw 'bad input';")).toEqual([]);
    const lowered = lowerPropertyEscapes('const re = /^\\p{Lu}+$/u; const s = "\\\\p{L}";', acorn, rewritePattern);
    expect(lowered).not.toMatch(/\/\^\\p/);
    expect(lowered).toContain('"\\\\p{L}"'); // strings are left alone
    const re = new Function(`${lowered}; return re;`)() as RegExp;
    expect([re.test('ÀB'), re.test('ab')]).toEqual([true, false]);
  });
});

describe('capsule test', () => {
  it('passes the declared examples, and a wrong expectation is FAIL with exit 1', async () => {
    const root = tempDir();
    const { dir } = await scaffold('acme.echo', { lang: 'wat', dir: path.join(root, 'acme.echo') });
    expect(cli(['build', 'acme.echo'], root).status).toBe(0);
    const ok = cli(['test', 'acme.echo'], root);
    expect(ok.stdout).toBe('pass  echo\nacme.echo: 1 of 1 examples passed\n');
    expect(ok.status).toBe(0);
    writeFileSync(
      path.join(dir, 'examples.json'),
      JSON.stringify([
        { name: 'wrong', input: { text: 'a' }, output: { text: 'b' } },
        { name: 'schema', input: { nope: 1 }, error: 'INPUT_INVALID' },
      ]),
    );
    const bad = cli(['test', 'acme.echo'], root);
    expect(bad.stdout).toBe('FAIL  wrong\n    expected {"text":"b"}, got {"text":"a"}\npass  schema\nacme.echo: 1 of 2 examples passed\n');
    expect(bad.status).toBe(1);
  });
});
