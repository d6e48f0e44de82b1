// The registry scan leaves compiling input/output schemas to the first use of a
// capability (issue 11: a `capsule run` compiled every capability's schemas). What
// must not change: a schema ajv refuses is still MANIFEST_INVALID with the message
// checkManifest gives, when that capability is loaded and in `list()`; and a run of
// a capability without schemas never loads ajv's compiler at all.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CapsuleError, createRuntime, type Runtime } from '../dist/index.js';
import { checkManifest } from '../src/registry/manifest.js';
import { CAPABILITIES, CLI, failure, manifest, tempDir, writeCapability } from './helpers.js';

const ECHO = path.join(CAPABILITIES, 'demo.echo', 'component.wasm');
const STRICT_BAD = { type: 'string', maxLenght: 5 };

let dir: string;
let rt: Runtime;
let expected: CapsuleError;

beforeAll(async () => {
  dir = tempDir();
  writeCapability(dir, 'test.echo', manifest('test.echo'), ECHO);
  writeCapability(dir, 'test.typed', manifest('test.typed', { inputSchema: { type: 'object', required: ['s'] } }), ECHO);
  const bad = writeCapability(dir, 'test.bad', manifest('test.bad', { outputSchema: STRICT_BAD }), ECHO);
  // Both wrong: the schema error comes first, as checkManifest orders them.
  writeCapability(dir, 'test.renamed', manifest('test.other', { inputSchema: STRICT_BAD }), ECHO);
  const file = path.join(bad, 'capability.json');
  try {
    checkManifest(JSON.parse(readFileSync(file, 'utf8')), file);
    throw new Error('checkManifest accepted a schema ajv strict mode refuses');
  } catch (e) {
    expected = e as CapsuleError;
  }
  rt = await createRuntime({ capabilitiesDir: dir, pool: { minThreads: 1, maxThreads: 1 } });
});
afterAll(() => rt.close());

describe('input/output schemas compiled on first use', () => {
  it('the refusal of a bad schema is what checkManifest says, at load', async () => {
    expect(expected.code).toBe('MANIFEST_INVALID');
    expect(expected.message).toMatch(/\/outputSchema is not a valid JSON Schema: strict mode: unknown keyword: "maxLenght"/);
    const e = await failure(rt.load('test.bad'));
    expect({ code: e.code, message: e.message, details: e.details }).toEqual({ code: expected.code, message: expected.message, details: expected.details });
    // The same again: the error stays with the entry.
    expect((await failure(rt.run('test.bad', {}))).message).toBe(expected.message);
  });

  it('list() reports a bad schema without a load, and the schema error before a wrong id', () => {
    const fresh = (id: string) => rt.registry.list().find((e) => e.id === id);
    expect(fresh('test.bad')?.error?.message).toBe(expected.message);
    expect(fresh('test.bad')?.manifest).toBeUndefined();
    expect(fresh('test.renamed')?.error?.message).toMatch(/\/inputSchema is not a valid JSON Schema: strict mode/);
    expect(fresh('test.echo')?.error).toBeUndefined();
  });

  it('the other capabilities run, and a good schema is still enforced', async () => {
    expect((await rt.run('test.echo', { a: 1 })).output).toEqual({ a: 1 });
    expect((await rt.run('test.typed', { s: 'x' })).output).toEqual({ s: 'x' });
    expect((await failure(rt.run('test.typed', {}))).code).toBe('INPUT_INVALID');
  });

  it('capsule list shows the bad schema; capsule run of a capability without schemas never loads ajv', () => {
    const listed = spawnSync(process.execPath, [CLI, 'list', '--capabilities', dir], { encoding: 'utf8' });
    expect(listed.stdout).toContain(`test.bad: MANIFEST_INVALID: ${expected.message}`);
    // Which CommonJS modules the process loaded, written as it exits.
    const probe = path.join(dir, 'probe.cjs');
    writeFileSync(probe, `process.on('exit', () => process.stderr.write('modules:' + JSON.stringify(Object.keys(require('node:module')._cache))));`);
    const run = (id: string) =>
      spawnSync(process.execPath, ['--require', probe, CLI, 'run', id, '--input', '{"s":"x"}', '--capabilities', dir], {
        encoding: 'utf8',
      });
    const loaded = (r: ReturnType<typeof run>) => JSON.parse(r.stderr.slice(r.stderr.indexOf('modules:') + 8)) as string[];
    const ajvCore = (mods: string[]) => mods.some((m) => /[/\\]ajv[/\\]dist[/\\]core\.js$/.test(m));
    const plain = run('test.echo');
    expect(plain.status, plain.stderr).toBe(0);
    expect(ajvCore(loaded(plain))).toBe(false);
    // The probe sees ajv when it is loaded: a capability with a schema compiles it.
    const typed = run('test.typed');
    expect(typed.status, typed.stderr).toBe(0);
    expect(ajvCore(loaded(typed))).toBe(true);
  });
});
