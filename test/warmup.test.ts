// build.warmup: a JS plugin's run called with declared inputs before componentize-js's wizer
// snapshot. What the warm-up leaves in module state is in every instance, identically; what a
// call leaves is seen by no later call (each call still gets a fresh instance).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSource } from '../src/authoring/build.js';
import type { GuestLog } from '../src/runtime.js';
import { CLI, cli, manifest, tempDir, writeCapability } from './helpers.js';

// Module state a call changes: a call counter and the last `set` value the module saw.
const PLUGIN = `import { log } from 'capsule:host/log';
let calls = 0;
let last = 'none';
export function run(input) {
  const req = JSON.parse(input);
  if (req.fail) throw 'asked to fail';
  calls++;
  log('info', 'call ' + calls);
  const seen = last;
  if (typeof req.set === 'string') last = req.set;
  return JSON.stringify({ calls, seen });
}
`;

// A componentize-js build is 10–200 s on the 2-core machine, depending on what else runs.
const BUILD_TIMEOUT = 600_000;

const INPUT_SCHEMA = {
  type: 'object',
  properties: { set: { type: 'string' }, fail: { type: 'boolean' } },
  additionalProperties: false,
};

function capability(root: string, id: string, warmup: unknown[]): string {
  const dir = writeCapability(root, id, manifest(id, { permissions: { host: ['capsule:host/log'] }, inputSchema: INPUT_SCHEMA, build: { warmup } }));
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, 'src', 'plugin.js'), PLUGIN);
  return dir;
}

/** `capsule build <id>` in root, with a timeout long enough for componentize-js. */
function build(root: string, id: string) {
  return spawnSync(process.execPath, [CLI, 'build', id], { cwd: root, encoding: 'utf8', timeout: BUILD_TIMEOUT });
}

describe('build.warmup', () => {
  it(
    "runs before the snapshot: every fresh instance starts from the warm-up's state, never from an earlier call's",
    async () => {
      const root = tempDir();
      capability(root, 'acme.warm', [{ set: 'warm' }, {}]);
      const built = build(root, 'acme.warm');
      expect(built.stderr).toBe('');
      expect(built.status).toBe(0);

      const { createRuntime } = await import('../dist/index.js');
      const logs: GuestLog[] = [];
      const rt = await createRuntime({
        capabilitiesDir: root,
        cacheDir: tempDir('capsule-cache-'),
        // tier inline named so that both tiers may run it (worker is its default).
        policy: { grants: [{ capabilities: 'acme.warm', host: ['capsule:host/log'], tier: 'inline' }] },
        logger: (r: GuestLog) => logs.push(r),
      });
      try {
        const outputs = [];
        for (const [tier, set] of [
          ['worker', 'a'],
          ['worker', 'b'],
          ['inline', 'c'],
          ['inline', 'd'],
        ] as const) {
          outputs.push((await rt.run('acme.warm', { set }, { tier })).output);
        }
        // Two warm-up calls ran before the snapshot (calls is 3, not 1, and the warm-up's `set`
        // is what each call sees), and no call sees the one before it ('a', 'b', 'c').
        expect(outputs).toEqual(Array(4).fill({ calls: 3, seen: 'warm' }));
        // The warm-up's own log lines were dropped (no host exists inside wizer); each call's arrive.
        expect(logs.filter((l) => l.source === 'log').map((l) => l.message)).toEqual(Array(4).fill('call 3'));
      } finally {
        await rt.close();
      }
    },
    BUILD_TIMEOUT,
  );

  it(
    'a warm-up input that run rejects fails the build, naming the input',
    () => {
      const root = tempDir();
      capability(root, 'acme.failing', [{}, { fail: true }]);
      const r = build(root, 'acme.failing');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^capsule: BUILD_FAILED: .*build\.warmup\[1\] failed: asked to fail/);
      expect(existsSync(path.join(root, 'acme.failing', 'component.wasm'))).toBe(false);
    },
    BUILD_TIMEOUT,
  );

  it('an input that does not match inputSchema is MANIFEST_INVALID before anything is built', () => {
    const root = tempDir();
    capability(root, 'acme.badwarm', [{ set: 1 }]);
    const r = cli(['build', 'acme.badwarm'], { cwd: root });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^capsule: MANIFEST_INVALID: .*\/build\/warmup\/0: .*input does not match its schema/);
    expect(existsSync(path.join(root, 'acme.badwarm', 'component.wasm'))).toBe(false);
    // An empty list and an unknown key in build are refused by the schema.
    for (const build of [{ warmup: [] }, { warmup: [{}], other: 1 }]) {
      const m = manifest('acme.badwarm', { inputSchema: INPUT_SCHEMA, build });
      writeFileSync(path.join(root, 'acme.badwarm', 'capability.json'), JSON.stringify(m));
      const bad = cli(['build', 'acme.badwarm'], { cwd: root });
      expect(bad.stderr).toMatch(/^capsule: MANIFEST_INVALID: .*\/build/);
      expect(bad.status).toBe(1);
    }
  });

  it('is refused for a source with no JS engine to warm (WAT, C)', async () => {
    const src = path.join(tempDir(), 'capability.wat');
    writeFileSync(src, '(component)');
    await expect(buildSource(src, { world: 'capability', warmup: ['{}'] })).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining('build.warmup is for JavaScript and TypeScript'),
    });
  });
});
