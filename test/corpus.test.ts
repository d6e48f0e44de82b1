// Third-party components (fixtures/corpus, vendored from jco) behave as its README says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type CommandOutput, type Runtime } from '../dist/index.js';
import { cli, corpus, STACK_TRACE, tempDir, failure } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ capabilitiesDir: tempDir() });
});
afterAll(() => rt.close());

const runCommand = (file: string, input: object = {}) => rt.runFile<CommandOutput>(corpus(file), input);

describe('corpus', () => {
  it('hello_stdout: prints both lines with nothing granted (imports filesystem and environment)', async () => {
    const { output, stats } = await runCommand('hello_stdout.component.wasm');
    expect(output).toEqual({
      exitCode: 0,
      stdout: 'writing to stdout: hello, world\n',
      stderr: 'writing to stderr: hello, world\n',
    });
    expect(stats.tier).toBe('worker');
    expect(stats.memoryBytes).toBeGreaterThan(0);
  });

  it('hello_stdout through the CLI: stdout, stderr, exit 0', () => {
    const r = cli(['run', corpus('hello_stdout.component.wasm')]);
    expect(r.stdout).toBe('writing to stdout: hello, world\n');
    expect(r.stderr).toBe('writing to stderr: hello, world\n');
    expect(r.status).toBe(0);
  });

  it('stdout-pollable-hang: completes well before its time limit', async () => {
    const { output } = await rt.runFile<CommandOutput>(corpus('stdout-pollable-hang.component.wasm'), {}, { timeoutMs: 5000 });
    expect(output.exitCode).toBe(0);
  });

  it('dir.virt: lists its own virtual directory', async () => {
    const { output } = await runCommand('dir.virt.wasm', { args: ['/foo'] });
    expect(output.stdout).toBe('Listing directory: /foo\n - .\n - ..\n - foo\n');
    expect(output.exitCode).toBe(0);
  });

  for (const file of ['stdio.composed.wasm', 'env-allow.composed.wasm']) {
    it(`${file}: links, but run says it is not a capability and inspect lists its exports`, async () => {
      const e = await failure(rt.runFile(corpus(file), {}));
      expect(e.code).toBe('COMPONENT_INVALID');
      expect(e.message).toMatch(/not a capsule capability/);
      expect(e.message).toContain('test-get-env');
      const r = cli(['inspect', corpus(file), '--json']);
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.world).toBeNull();
      expect(report.exports.join(' ')).toContain('test-file-read');
      expect(report.imports.every((i: { link: string }) => i.link === 'wasi')).toBe(true);
    });
  }

  it('flavorful: IMPORT_DENIED naming test:flavorful/test, before any guest code runs', async () => {
    const e = await failure(rt.runFile(corpus('flavorful.component.wasm'), {}));
    expect(e.code).toBe('IMPORT_DENIED');
    expect(e.message).toContain('test:flavorful/test');
    const r = cli(['run', corpus('flavorful.component.wasm')]);
    expect(r.stderr).toMatch(/^capsule: IMPORT_DENIED: .*test:flavorful\/test/);
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(r.status).toBe(1);
  });

  it('adder: not a capability; inspect shows the export, run refuses clearly', async () => {
    const e = await failure(rt.runFile(corpus('adder.component.wasm'), {}));
    expect(e.code).toBe('COMPONENT_INVALID');
    expect(e.message).toContain('docs:adder/add@0.1.0');
    const r = cli(['inspect', corpus('adder.component.wasm')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('docs:adder/add@0.1.0');
    expect(r.stdout).toMatch(/would be refused: COMPONENT_INVALID/);
  });
});
