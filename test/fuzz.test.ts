// The bounded fuzz run of issue 9: a fixed seed, a few hundred mutated components,
// manifests, policies and inputs through one long-lived runtime (and a CLI sample).
// Whatever the mutant, the runtime process lives, every failure is a CapsuleError
// with a specific code, nothing hangs past its watchdog, and valid components still
// run afterwards. On failure, the saved reproducers are under fuzz-results/
// (`npm run fuzz -- --replay <case file>` re-runs one).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from 'vitest';
import { ROOT, tempDir } from './helpers.js';

interface FuzzSummary {
  cases: number;
  bad: Record<string, number>;
  poisoned: number;
  finalCanary: string[];
  canaryProblems: string[];
  savedDir?: string;
}

// A fixed number of cases, so the machine's speed never decides the result; --minutes
// is only a backstop far beyond what 100 cases take (about 40 s idle, 2 min at load 10).
const CASES = 100;
const MINUTES = 3.5;

function runFuzz(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'scripts', 'fuzz.mjs'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-8000)));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('bounded fuzz run: no crash, no hang, no non-CapsuleError, no poisoning', async () => {
  const out = path.join(tempDir('capsule-fuzz-test-'), 'summary.json');
  const r = await runFuzz(['--seed', '24301', '--cases', String(CASES), '--minutes', String(MINUTES), '--cli-every', '50', '--quiet', '--json', out]);
  const summary = JSON.parse(readFileSync(out, 'utf8')) as FuzzSummary;
  const table = `${r.stdout}\n${r.stderr}`;
  expect(summary.cases, table).toBe(CASES);
  expect(summary.bad, table).toEqual({ internal: 0, 'non-capsule': 0, hang: 0, crash: 0, runaway: 0 });
  expect({ poisoned: summary.poisoned, problems: summary.canaryProblems, final: summary.finalCanary }, table).toEqual({ poisoned: 0, problems: [], final: [] });
  expect(r.status, table).toBe(0);
}, 300_000);

interface Seed {
  name: string;
  bytes: Uint8Array;
  tree: unknown;
}
interface CasesModule {
  loadSeeds(root: string, long: boolean): Seed[];
  generateCase(seed: number, index: number, ctx: { seeds: Seed[]; donors: unknown[]; long: boolean }): unknown;
}
interface WasmModule {
  parse(b: Uint8Array): unknown;
  encode(t: unknown): Uint8Array;
}
const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(ROOT, rel)).href)) as T;

test('fuzz cases are a function of (seed, index): a saved case can be regenerated', async () => {
  const { loadSeeds, generateCase } = await load<CasesModule>('scripts/fuzz/cases.mjs');
  const seeds = loadSeeds(ROOT, false);
  const ctx = { seeds, donors: seeds.map((s) => s.tree).filter(Boolean), long: false };
  // a digest of the whole case, bytes included (deep equality of megabytes is slow)
  const digest = (i: number) =>
    createHash('sha256')
      .update(JSON.stringify(generateCase(24301, i, ctx), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)))
      .digest('hex');
  for (const i of [0, 1, 7, 42, 199]) expect(digest(i)).toBe(digest(i));
});

test('the section parser gives back every seed byte for byte (mutations start from the real structure)', async () => {
  const { loadSeeds } = await load<CasesModule>('scripts/fuzz/cases.mjs');
  const { encode } = await load<WasmModule>('scripts/fuzz/wasm.mjs');
  for (const s of loadSeeds(ROOT, false)) {
    expect(s.tree, s.name).toBeTruthy();
    expect(Buffer.compare(Buffer.from(encode(s.tree)), Buffer.from(s.bytes)), s.name).toBe(0);
  }
});
