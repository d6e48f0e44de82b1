// Every error code the core path raises, each with the bad input that triggers it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../dist/index.js';
import { corpus, fixture, manifest, tempDir, writeCapability, failure } from './helpers.js';

const DIGEST_OF_NOTHING = `sha256:${'0'.repeat(64)}`;

let dir: string;
let rt: Runtime;

beforeAll(async () => {
  dir = tempDir();
  const cap = (id: string, extra: Record<string, unknown>, from = fixture('counter'), dirName = id) => writeCapability(dir, dirName, manifest(id, extra), from);
  // malformed manifests, one field each
  cap('bad.unknown-field', { colour: 'red' });
  cap('bad.memory', { limits: { memoryBytes: 2 * 1024 ** 3 } });
  cap('bad.cpu', { limits: { cpuMs: 10 * 60_000 } });
  cap('bad.world', { world: 'reactor' });
  cap('bad.schema', { inputSchema: { type: 'nonsense' } });
  cap('bad.escape', { component: '../counter/component.wasm' });
  writeCapability(dir, 'bad.noprovider', { id: 'bad.noprovider', version: '1.0.0', component: 'c.wasm', world: 'capability' });
  writeCapability(dir, 'bad.json', {});
  writeFileSync(path.join(dir, 'bad.json', 'capability.json'), '{ not json');
  cap('Bad_Id', { id: 'Bad_Id' }, fixture('counter'), 'Bad_Id');
  cap('right.name', {}, fixture('counter'), 'wrong.name');
  // components
  cap('ok.counter', { inputSchema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } });
  cap('bad.digest', { digest: DIGEST_OF_NOTHING });
  cap('bad.garbage', {});
  writeFileSync(path.join(dir, 'bad.garbage', 'component.wasm'), 'this is not wasm at all');
  cap('bad.truncated', {});
  writeFileSync(path.join(dir, 'bad.truncated', 'component.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 0xff, 0xff]));
  cap('bad.core', {}, fixture('core-module'));
  cap('bad.adder', {}, corpus('adder.component.wasm'));
  cap('bad.command', { world: 'command' });
  cap('test.log', { permissions: { host: ['capsule:host/log'] } }, fixture('log'));
  cap('test.log-ungranted', { permissions: { host: ['capsule:host/log'] } }, fixture('log'));
  cap('test.fail', {}, fixture('fail'));
  cap('test.typed', { inputSchema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } });
  cap('test.not-json', {}, fixture('not-json'));
  cap('test.wrong-output', { outputSchema: { type: 'object', required: ['total'] } });
  cap('test.small-output', { limits: { outputBytes: 5 } });
  cap('test.full', { securityLevel: 'full' });
  cap('test.vm', { isolation: 'vm' });
  // the same id in a second directory
  const second = tempDir();
  writeCapability(second, 'ok.counter', manifest('ok.counter'), fixture('counter'));
  rt = await createRuntime({
    capabilitiesDir: [dir, second],
    policy: { grants: [{ capabilities: 'test.log', host: ['capsule:host/log'] }] },
  });
});
afterAll(() => rt.close());

const run = (id: string, input: unknown = {}) => failure(rt.run(id, input));

describe('MANIFEST_INVALID names the field and the file', () => {
  const cases: [string, RegExp][] = [
    ['bad.unknown-field', /unknown field \/colour/],
    ['bad.memory', /\/limits\/memoryBytes must be <= 1073741824/],
    ['bad.cpu', /\/limits\/cpuMs must be <= 300000/],
    ['bad.world', /\/world must be one of "capability", "command"/],
    ['bad.schema', /\/inputSchema is not a valid JSON Schema/],
    ['bad.escape', /\/component must match/],
    ['bad.noprovider', /missing field \/provider/],
    ['bad.json', /not JSON/],
    ['Bad_Id', /\/id must match pattern/],
    ['wrong.name', /\/id is "right.name" but its directory is named "wrong.name"/],
  ];
  for (const [id, message] of cases) {
    it(id, async () => {
      const e = await run(id);
      expect(e.code).toBe('MANIFEST_INVALID');
      expect(e.message).toMatch(message);
      expect(e.message).toContain(path.join(dir, id, 'capability.json'));
    });
  }

  it('a duplicate id across directories is an error naming both files', async () => {
    const e = await run('ok.counter', { n: 1 });
    expect(e.code).toBe('MANIFEST_INVALID');
    expect(e.message).toMatch(/duplicate capability id ok\.counter/);
  });
});

describe('loading components', () => {
  it('CAPABILITY_NOT_FOUND for an unknown id', async () => {
    expect((await run('no.such.thing')).code).toBe('CAPABILITY_NOT_FOUND');
  });
  it('DIGEST_MISMATCH when the pinned digest differs', async () => {
    const e = await run('bad.digest');
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.message).toContain(DIGEST_OF_NOTHING);
  });
  it('COMPONENT_INVALID for garbage bytes', async () => {
    const e = await run('bad.garbage');
    expect(e.code).toBe('COMPONENT_INVALID');
    expect(e.message).toMatch(/not WebAssembly/);
  });
  it('COMPONENT_INVALID for a truncated component', async () => {
    const e = await run('bad.truncated');
    expect(e.code).toBe('COMPONENT_INVALID');
    expect(e.message).toMatch(/not a valid component/);
  });
  it('COMPONENT_INVALID for a core module', async () => {
    const e = await run('bad.core');
    expect(e.code).toBe('COMPONENT_INVALID');
    expect(e.message).toMatch(/core WebAssembly module, not a component/);
  });
  it('COMPONENT_INVALID for an unknown world, naming its exports', async () => {
    const e = await run('bad.adder');
    expect(e.code).toBe('COMPONENT_INVALID');
    expect(e.message).toContain('docs:adder/add@0.1.0');
  });
  it('COMPONENT_INVALID when the manifest claims another world', async () => {
    const e = await run('bad.command');
    expect(e.code).toBe('COMPONENT_INVALID');
    expect(e.message).toMatch(/expected the command world/);
  });
});

describe('linking and running', () => {
  it('IMPORT_DENIED names an ungranted import and no guest code runs', async () => {
    const logs: string[] = [];
    const local = await createRuntime({ capabilitiesDir: dir, logger: (r) => logs.push(r.message) });
    try {
      const e = await failure(local.run('test.log-ungranted', {}));
      expect(e.code).toBe('IMPORT_DENIED');
      expect(e.message).toContain('capsule:host/log');
      expect(logs).toEqual([]);
    } finally {
      await local.close();
    }
  });
  it('the same import links when the policy grants it, and the guest log reaches the logger', async () => {
    const logs: object[] = [];
    const local = await createRuntime({
      capabilitiesDir: dir,
      policy: { grants: [{ capabilities: 'test.log', host: ['capsule:host/log'] }] },
      logger: (r) => logs.push(r),
    });
    try {
      expect((await local.run('test.log', {})).output).toEqual({ logged: true });
      expect(logs).toEqual([{ level: 'info', message: 'hello from guest', capability: 'test.log', source: 'log' }]);
    } finally {
      await local.close();
    }
  });
  it('INPUT_INVALID against the input schema, before the guest runs', async () => {
    const e = await run('test.typed', { n: 'one' });
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toMatch(/\/n must be integer/);
    expect((await rt.run('test.typed', { n: 1 })).output).toEqual({ count: 1 });
  });
  it('OUTPUT_INVALID when the output is not JSON', async () => {
    const e = await run('test.not-json');
    expect(e.code).toBe('OUTPUT_INVALID');
    expect(e.message).toMatch(/not JSON/);
  });
  it('OUTPUT_INVALID when the output misses its schema', async () => {
    const e = await run('test.wrong-output');
    expect(e.code).toBe('OUTPUT_INVALID');
    expect(e.message).toMatch(/missing field \/total/);
  });
  it('OUTPUT_TOO_LARGE over limits.outputBytes', async () => {
    expect((await run('test.small-output')).code).toBe('OUTPUT_TOO_LARGE');
  });
  it('CAPABILITY_ERROR carries the guest err text', async () => {
    const e = await run('test.fail');
    expect(e.code).toBe('CAPABILITY_ERROR');
    expect(e.message).toBe('guest said no');
  });
  it('ESCALATION_UNAVAILABLE for a full capability, never a weaker tier', async () => {
    for (const id of ['test.full', 'test.vm']) {
      const e = await run(id);
      expect(e.code).toBe('ESCALATION_UNAVAILABLE');
    }
  });
  it('PERMISSION_DENIED for a weaker tier the policy does not grant', async () => {
    const e = await failure(rt.run('test.fail', {}, { tier: 'inline' }));
    expect(e.code).toBe('PERMISSION_DENIED');
    expect(e.message).toMatch(/tier inline/);
  });
  it('the runtime keeps serving after every failure', async () => {
    expect((await rt.run('test.log', {})).output).toEqual({ logged: true });
  });
});

describe('bad call options and inputs are refused before anything runs', () => {
  it('input JSON cannot carry (a cycle, a BigInt) is INPUT_INVALID', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const input of [cyclic, { n: 1n }]) {
      const e = await failure(rt.run('test.fail', input));
      expect(e.code).toBe('INPUT_INVALID');
      expect(e.message).toMatch(/cannot be sent as JSON/);
    }
  });

  it('a limit that is not a positive number, or an unknown tier, is USAGE', async () => {
    for (const opts of [{ timeoutMs: -5 }, { timeoutMs: Number.NaN }, { memoryLimitBytes: 0 }, { outputBytes: Infinity }, { tier: 'bogus' }]) {
      const e = await failure(rt.run('test.typed', { n: 1 }, opts as never));
      expect(e.code).toBe('USAGE');
    }
  });
});
