import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { CapsuleError } from '../dist/index.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CORPUS = path.join(ROOT, 'fixtures', 'corpus');
export const FIXTURES = path.join(ROOT, 'fixtures', 'build');
export const CAPABILITIES = path.join(ROOT, 'capabilities');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export const fixture = (name: string) => path.join(FIXTURES, `${name}.wasm`);
export const corpus = (name: string) => path.join(CORPUS, name);

export function tempDir(prefix = 'capsule-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Writes `<root>/<dirName>/capability.json` (and copies the component beside it). */
export function writeCapability(root: string, dirName: string, manifest: Record<string, unknown>, componentFrom?: string): string {
  const dir = path.join(root, dirName);
  mkdirSync(dir, { recursive: true });
  if (componentFrom) copyFileSync(componentFrom, path.join(dir, 'component.wasm'));
  writeFileSync(path.join(dir, 'capability.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

export function manifest(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    version: '1.0.0',
    provider: { name: 'tests' },
    component: 'component.wasm',
    world: 'capability',
    ...extra,
  };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A stack trace on stderr is a bug: users get one line per error. */
export const STACK_TRACE = /\n\s+at .+:\d+:\d+/;

/** The CapsuleError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function failure(p: Promise<unknown>): Promise<CapsuleError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CapsuleError);
  return e as CapsuleError;
}

/** Where an attack suite runs: the tier asked for, and for the process tier whether bubblewrap is off. */
export interface TierVariant {
  name: string;
  tier?: 'process';
  bwrap?: 'off';
}

/** The suite in the tier its grants choose (named `first`), then in the process tier with and without bubblewrap. */
export const tierVariants = (first: string): TierVariant[] => [
  { name: first },
  { name: 'the process tier (bubblewrap where it works)', tier: 'process' },
  { name: 'the process tier, Node permission flags only', tier: 'process', bwrap: 'off' },
];
