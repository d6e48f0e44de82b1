// Deny by default and fresh instances: nothing leaks between calls or from the host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type CommandOutput, type Runtime } from '../dist/index.js';
import { fixture, manifest, tempDir, writeCapability } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  const dir = tempDir();
  writeCapability(dir, 'test.counter', manifest('test.counter'), fixture('counter'));
  rt = await createRuntime({
    capabilitiesDir: dir,
    policy: { grants: [{ capabilities: ['test.*', 'file.*'], tier: 'inline' }] },
    pool: { minThreads: 1, maxThreads: 1 },
  });
});
afterAll(() => rt.close());

describe('fresh instance per call', () => {
  for (const tier of ['worker', 'inline'] as const) {
    it(`a counter in a guest global is 1 on every call (${tier})`, async () => {
      const counts = [];
      for (let i = 0; i < 5; i++) counts.push((await rt.run('test.counter', {}, { tier })).output);
      expect(counts).toEqual(Array(5).fill({ count: 1 }));
    });
  }

  it('stays 1 under concurrent calls on a shared worker', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => rt.run('test.counter', {})));
    expect(results.map((r) => r.output)).toEqual(Array(8).fill({ count: 1 }));
  });
});

describe('WASI is closed by default', () => {
  it('a guest listing preopens sees none and reading env sees nothing, though the host has env vars', async () => {
    process.env.CAPSULE_TEST_SECRET = 'hunter2';
    expect(Object.keys(process.env).length).toBeGreaterThan(3);
    try {
      for (const tier of ['worker', 'inline'] as const) {
        const { output } = await rt.runFile<CommandOutput>(fixture('wasi-probe'), {}, { tier });
        const seen = JSON.parse(output.stdout);
        expect(seen.preopens).toEqual([]);
        expect(seen.env).toEqual([]);
        expect(seen.rootOpen).not.toBe(0); // open("/") fails
        expect(seen.etcPasswd).not.toBe(0); // fopen("/etc/passwd") fails
        expect(output.stdout).not.toContain('hunter2');
      }
    } finally {
      delete process.env.CAPSULE_TEST_SECRET;
    }
  });

  it('a command sees exactly the args and env its caller passes, and nothing of the host', async () => {
    process.env.CAPSULE_TEST_SECRET = 'hunter2';
    try {
      const { output } = await rt.runFile<CommandOutput>(fixture('wasi-probe'), { args: ['a b'], env: { ONLY: 'this' } });
      const seen = JSON.parse(output.stdout);
      expect(seen.env).toEqual(['ONLY=this']);
      expect(seen.args).toEqual(['file.wasi-probe', 'a b']);
    } finally {
      delete process.env.CAPSULE_TEST_SECRET;
    }
  });
});
