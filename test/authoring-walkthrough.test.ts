// docs/authoring.md's walkthrough, as a plugin author does it: in an empty app outside the
// repository with capsule installed from `npm pack` (and, for JavaScript, the two build
// tools it names), `capsule new` → edit nothing → `capsule build` → `capsule test` →
// `capsule run`, for each language; TypeScript type-checks against capsule/guest.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';
import { installApp, pack } from './packed-app.js';

let work: string;

beforeAll(() => {
  const started = performance.now();
  const app = installApp(pack().tarball, ['@bytecodealliance/componentize-js', 'esbuild']);
  console.log(`npm pack + npm ci of capsule, componentize-js and esbuild (offline, warm cache): ${((performance.now() - started) / 1000).toFixed(1)} s`);
  work = path.join(app, 'plugins');
  mkdirSync(work);
}, 300_000);

function capsule(args: string[]) {
  const r = spawnSync('npx', ['--no-install', 'capsule', ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false', CAPSULE_CACHE_DIR: path.join(work, '.cache') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function walkthrough(id: string, lang: string, input: unknown, output: unknown): void {
  const started = performance.now();
  const made = capsule(['new', id, '--lang', lang]);
  expect(made.stderr).toBe('');
  expect(made.status).toBe(0);
  const built = capsule(['build', id]);
  expect(built.stderr).toBe('');
  expect(built.status).toBe(0);
  expect(built.stdout).toMatch(new RegExp(`^built ${id.replace('.', '\\.')} from .* sha256:`));
  const tested = capsule(['test', id]);
  expect(tested.stdout).toMatch(/examples passed/);
  expect(tested.stdout).not.toMatch(/FAIL/);
  expect(tested.status).toBe(0);
  const ran = capsule(['run', id, '--capabilities', '.', '--input', JSON.stringify(input)]);
  expect(ran.stderr).toBe('');
  expect(ran.status).toBe(0);
  expect(JSON.parse(ran.stdout)).toEqual(output);
  console.log(`capsule new → build → test → run, ${lang}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

describe('a first capability, outside the repository', () => {
  it('--lang wat: new, build, test, run', () => {
    walkthrough('acme.echo', 'wat', { text: 'Hi' }, { text: 'Hi' });
  }, 120_000);

  it('--lang js: new, build (componentize-js), test, run', () => {
    walkthrough('acme.slug', 'js', { text: 'Hello, World!' }, { slug: 'hello-world' });
  }, 300_000);

  it('--lang ts: the template type-checks against capsule/guest, and a wrong use of it does not', () => {
    const made = capsule(['new', 'acme.ts', '--lang', 'ts']);
    expect(made.status).toBe(0);
    const tsc = (dir: string) => spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', dir], { cwd: work, encoding: 'utf8' });
    const ok = tsc('acme.ts');
    expect(`${ok.stdout}${ok.stderr}`).toBe('');
    expect(ok.status).toBe(0);
    // The declarations are what make the log import resolve and check its arguments.
    const uses = (body: string) => {
      writeFileSync(path.join(work, 'acme.ts', 'src', 'uses.ts'), `/// <reference types="capsule/guest" />\n${body}\n`);
      const r = tsc('acme.ts');
      rmSync(path.join(work, 'acme.ts', 'src', 'uses.ts'));
      return `${r.stdout}${r.stderr}`;
    };
    expect(uses("import { log } from 'capsule:host/log';\nlog('info', 'hello');\nexport const run: Capsule.Run = (input) => input;")).toBe('');
    expect(uses("import { log } from 'capsule:host/log@0.1.0';\nlog('loud', 'hello');")).toMatch(/'"loud"' is not assignable/);
    expect(uses('export const run: Capsule.Run = (input: number) => input;')).toMatch(/not assignable/);
  }, 60_000);

  it('--lang c: new, build (clang), test, run', (ctx) => {
    if (spawnSync('clang', ['--version']).status !== 0) {
      ctx.skip('clang is not installed here (C needs clang lld wasi-libc libclang-rt-14-dev-wasm32)');
      return;
    }
    walkthrough('acme.bytes', 'c', { text: 'hi' }, { bytes: 13 });
  }, 120_000);
});
