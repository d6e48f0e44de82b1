// The glue-free path for import-free capabilities must give the same outcomes as
// jco's glue, and must only be chosen for components it fully understands.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readComponent } from '../src/sandbox/component/read.js';
import { ComponentCompiler } from '../src/sandbox/compile.js';
import { directAbiOf } from '../src/sandbox/direct-abi.js';
import { execute } from '../src/sandbox/execute.js';
import type { Job } from '../src/sandbox/job.js';
import { componentJob } from './component-job.js';
import { corpus, fixture, ROOT, tempDir } from './helpers.js';

const compiler = new ComponentCompiler(tempDir('capsule-direct-'));

const job = (file: string, input: string): Promise<Job> => componentJob(compiler, file, { id: 'test.direct', input });

describe('direct calls', () => {
  it('are chosen for import-free single-module capabilities only', async () => {
    for (const name of ['counter', 'fail', 'not-json', 'trap', 'membomb']) {
      expect((await job(fixture(name), '{}')).directAbi).toBeDefined();
    }
    expect((await job(fixture('log'), '{}')).directAbi).toBeUndefined(); // imports capsule:host/log
    expect(directAbiOf(readComponent(readFileSync(corpus('adder.component.wasm'))), ['x.wasm'])).toBeUndefined();
  });

  it('an unrecognised top-level item means no direct path', () => {
    const bytes = readFileSync(fixture('counter'));
    expect(directAbiOf(readComponent(bytes), ['component.core.wasm'])).toBeDefined();
    // An instance section holding one empty instance, appended.
    const withInstance = Buffer.concat([bytes, Buffer.from([0x05, 0x03, 0x01, 0x01, 0x00])]);
    expect(directAbiOf(readComponent(withInstance), ['component.core.wasm'])).toBeUndefined();
    expect(directAbiOf(readComponent(bytes), ['a.wasm', 'b.wasm'])).toBeUndefined();
  });

  for (const [name, input] of [
    ['counter', '{}'],
    ['fail', '{}'],
    ['not-json', '{}'],
    ['trap', '"unreachable"'],
    ['trap', '"bounds"'],
    ['membomb', '{}'],
    ['membomb-trap', '{}'],
    ['bigout', '{}'],
  ] as const) {
    it(`${name} ${input}: same outcome and memory as through the glue`, async () => {
      const direct = await job(fixture(name), input);
      const { directAbi: _, ...viaGlue } = direct;
      const a = await execute(direct);
      const b = await execute(viaGlue);
      expect(a.outcome).toEqual(b.outcome);
      expect(a.memoryBytes).toBe(b.memoryBytes);
    });
  }

  // The input is encoded straight into the guest's memory: multi-byte and lone-surrogate text as the glue passes it.
  for (const input of ['{"s":"é😀ß"}', '"\uD800x"', '"\uDC00"']) {
    it(`demo.echo ${JSON.stringify(input)}: same outcome as through the glue`, async () => {
      const direct = await job(path.join(ROOT, 'capabilities', 'demo.echo', 'component.wasm'), input);
      expect(direct.directAbi).toBeDefined();
      const { directAbi: _, ...viaGlue } = direct;
      const a = await execute(direct);
      expect(a.outcome).toEqual(await execute(viaGlue).then((b) => b.outcome));
      expect(a.outcome.ok).toBe(true);
    });
  }
});
