// The bundled capabilities: each runs and gives the right answer; committed
// artefacts match their pins; WAT (and, with clang, C) builds are reproducible.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type CommandOutput, type Runtime } from '../dist/index.js';
import { CAPABILITIES, ROOT } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({
    capabilitiesDir: CAPABILITIES,
    policy: { grants: [{ capabilities: 'demo.*', host: ['capsule:host/log'] }] },
  });
});
afterAll(() => rt.close());

describe('bundled capabilities', () => {
  it('demo.echo returns its input', async () => {
    const input = { nested: { list: [1, 'two', null, true] }, unicode: 'héllo ✓' };
    expect((await rt.run('demo.echo', input)).output).toEqual(input);
  });

  it('demo.text.wordcount counts words, lines and code points', async () => {
    expect((await rt.run('demo.text.wordcount', { text: 'a b  c' })).output).toEqual({ words: 3, lines: 1, chars: 6 });
    expect((await rt.run('demo.text.wordcount', { text: 'héllo é\n x' })).output).toEqual({ words: 3, lines: 2, chars: 10 });
  });

  it('demo.markdown.render renders Markdown with marked, logging through the granted host interface', async () => {
    const logs: string[] = [];
    const local = await createRuntime({
      capabilitiesDir: CAPABILITIES,
      policy: { grants: [{ capabilities: 'demo.markdown.render', host: ['capsule:host/log'] }] },
      logger: (r) => logs.push(`${r.level} ${r.message}`),
    });
    try {
      const { output } = await local.run('demo.markdown.render', { markdown: '# Hi\n\n*x* | a |\n|---|\n| 1 |' });
      expect((output as { html: string }).html).toContain('<h1>Hi</h1>');
      expect(logs.some((l) => l.startsWith('debug markdown.render: input of'))).toBe(true);
    } finally {
      await local.close();
    }
  });

  it('demo.text.wc is a command: stdin in, counts out, --json', async () => {
    const { output } = await rt.run<CommandOutput>('demo.text.wc', { stdin: 'hello world\n  foo\tbar\nbaz', args: ['--json'] });
    expect(output.exitCode).toBe(0);
    expect(JSON.parse(output.stdout)).toEqual({ lines: 2, words: 5, bytes: 25 });
  });
});

describe('committed artefacts', () => {
  for (const id of ['demo.echo', 'demo.markdown.render', 'demo.text.wc', 'demo.text.wordcount']) {
    it(`${id}: component.wasm matches the digest pinned in its manifest`, () => {
      const m = JSON.parse(readFileSync(path.join(CAPABILITIES, id, 'capability.json'), 'utf8'));
      const bytes = readFileSync(path.join(CAPABILITIES, id, m.component));
      expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(m.digest);
    });
  }

  it('WAT fixtures and capabilities rebuild to the committed bytes', () => {
    const out = execFileSync(process.execPath, ['scripts/build-fixtures.mjs', '--check', '--only', 'wat'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).not.toMatch(/DIFFERS/);
    expect(out.match(/^same/gm)?.length).toBeGreaterThanOrEqual(5);
    const caps = execFileSync(process.execPath, ['scripts/build-capabilities.mjs', '--check', 'demo.echo'], { cwd: ROOT, encoding: 'utf8' });
    expect(caps).toMatch(/^checked demo\.echo from /m);
  });

  const hasClang = spawnSync('clang', ['--version']).status === 0;
  it.runIf(hasClang)('C fixtures and capabilities rebuild to the committed bytes (needs clang + wasi-libc)', () => {
    const out = execFileSync(process.execPath, ['scripts/build-fixtures.mjs', '--check', '--only', 'c'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).not.toMatch(/DIFFERS/);
    const caps = execFileSync(process.execPath, ['scripts/build-capabilities.mjs', '--check', 'demo.text.wc', 'demo.text.wordcount'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(caps.match(/^checked /gm)).toHaveLength(2);
  });
});
