// What a bench run needs on disk: the package's own capabilities, and the bench
// fixtures (fixtures/build/bench-*.wasm) registered as capabilities in a temp dir
// with their digests pinned, plus the policy that lets every workload run inline.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PolicyDocument } from '../policy/policy.js';

/** dist/*.js sits one level below the package root. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CAPABILITIES_DIR = path.join(PACKAGE_ROOT, 'capabilities');
export const FIXTURES_DIR = path.join(PACKAGE_ROOT, 'fixtures', 'build');

export const fixturePath = (name: string) => path.join(FIXTURES_DIR, `${name}.wasm`);

/** Bench-only capabilities: id → component file and limits. */
const BENCH_CAPABILITIES: Record<string, { file: string; limits: Record<string, number> }> = {
  'bench.fib': { file: fixturePath('bench-fib'), limits: { memoryBytes: 16 << 20, timeoutMs: 5000, outputBytes: 4096 } },
  'bench.spin': { file: fixturePath('bench-spin'), limits: { memoryBytes: 16 << 20, timeoutMs: 100, outputBytes: 4096 } },
  // demo.echo's component with a 30 s limit instead of 1 s. A call's limit also covers waiting for
  // a worker to start (a cold call, the first call after a kill), and on a busy machine that wait
  // alone can pass 1 s: the bench is there to measure it, not to fail on it.
  'bench.echo': {
    file: path.join(CAPABILITIES_DIR, 'demo.echo', 'component.wasm'),
    limits: { memoryBytes: 16 << 20, timeoutMs: 30_000, outputBytes: 8 << 20 },
  },
  // The same component with room for a 16 MiB string in and out (its JSON is 2 bytes longer than the default 16 MiB input limit).
  'bench.echo-big': {
    file: path.join(CAPABILITIES_DIR, 'demo.echo', 'component.wasm'),
    limits: { memoryBytes: 256 << 20, timeoutMs: 60_000, outputBytes: 32 << 20, inputBytes: 32 << 20 },
  },
};

/** Writes `<dir>/<id>/capability.json` + component.wasm for each bench component that exists; returns the ids written. */
export async function writeBenchCapabilities(dir: string): Promise<string[]> {
  const written: string[] = [];
  for (const [id, { file: src, limits }] of Object.entries(BENCH_CAPABILITIES)) {
    if (!existsSync(src)) continue;
    const bytes = await readFile(src);
    const capDir = path.join(dir, id);
    await mkdir(capDir, { recursive: true });
    await copyFile(src, path.join(capDir, 'component.wasm'));
    const manifest = {
      id,
      version: '1.0.0',
      provider: { name: 'capsule bench' },
      description: `capsule bench: ${path.basename(src)}`,
      component: 'component.wasm',
      digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      world: 'capability',
      securityLevel: 'pure',
      limits,
    };
    await writeFile(path.join(capDir, 'capability.json'), JSON.stringify(manifest, null, 2));
    written.push(id);
  }
  return written;
}

/** The bench policy: the JS plugin gets its log import, and every workload may run inline (the baseline tier). */
export const BENCH_POLICY: PolicyDocument = {
  grants: [
    { capabilities: 'demo.markdown.render', host: ['capsule:host/log'] },
    { capabilities: ['demo.markdown.render', 'demo.text.wc', 'bench.*'], tier: 'inline' },
  ],
};
