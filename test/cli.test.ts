// The command line: output on stdout, diagnostics on stderr, one-line errors.
import { describe, expect, it } from 'vitest';
import { cli, corpus, fixture, STACK_TRACE } from './helpers.js';

describe('capsule run', () => {
  it('runs a bundled capability with --input and prints its JSON output', () => {
    const r = cli(['run', 'demo.text.wordcount', '--input', '{"text":"one two three"}']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ words: 3, lines: 1, chars: 13 });
  });

  it('reads the input from stdin and from --input-file', () => {
    expect(JSON.parse(cli(['run', 'demo.echo'], { input: '{"via":"stdin"}' }).stdout)).toEqual({ via: 'stdin' });
    const r = cli(['run', 'demo.echo', '--input-file', 'capabilities/demo.echo/capability.json']);
    expect(JSON.parse(r.stdout).id).toBe('demo.echo');
  });

  it('--json prints output and stats', () => {
    const r = cli(['run', 'demo.echo', '--input', '[1,2]', '--json']);
    const parsed = JSON.parse(r.stdout);
    expect(parsed.output).toEqual([1, 2]);
    expect(parsed.stats).toMatchObject({ tier: 'worker' });
    expect(parsed.stats.durationMs).toBeGreaterThan(0);
  });

  it('a command gets stdin, the args after --, and exits with its own code', () => {
    const r = cli(['run', fixture('exit-code'), '--', '3'], { input: 'echo me' });
    expect(r.stdout).toBe('echo me');
    expect(r.stderr).toBe('bye\n');
    expect(r.status).toBe(3);
  });

  it('a command given --input null runs with no input; a non-object is INPUT_INVALID, not INTERNAL (found by fuzzing)', () => {
    const none = cli(['run', 'demo.text.wc', '--input', 'null']);
    expect(none.status).toBe(0);
    for (const text of ['5', '[1]']) {
      const r = cli(['run', 'demo.text.wc', '--input', text, '--', '--json']);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe('capsule: INPUT_INVALID: demo.text.wc: command input must be an object { args?, stdin?, env? }\n');
    }
  });

  it('--allow-host grants a host interface to a bare component', () => {
    const denied = cli(['run', fixture('log')]);
    expect(denied.stderr).toMatch(/^capsule: IMPORT_DENIED: component imports capsule:host\/log@0\.1\.0/);
    const granted = cli(['run', fixture('log'), '--allow-host', 'capsule:host/log']);
    expect(granted.status).toBe(0);
    expect(JSON.parse(granted.stdout)).toEqual({ logged: true });
    expect(granted.stderr).toContain('info: hello from guest');
  });

  const failures: [string[], RegExp][] = [
    [['run', 'no.such.capability'], /^capsule: CAPABILITY_NOT_FOUND: /],
    [['run', fixture('core-module')], /^capsule: COMPONENT_INVALID: .*core WebAssembly module/],
    [['run', fixture('fail')], /^capsule: CAPABILITY_ERROR: guest said no/],
    [['run', 'demo.text.wordcount', '--input', '{"text": 5}'], /^capsule: INPUT_INVALID: .*\/text must be string/],
    [['run', 'demo.echo', '--input', '{nope'], /^capsule: USAGE: --input is not JSON/],
    [['run', '/nonexistent/x.wasm'], /^capsule: CAPABILITY_NOT_FOUND: cannot read/],
    [['run'], /^capsule: USAGE: run needs/],
    [['frobnicate'], /^capsule: USAGE: unknown command "frobnicate"/],
    [['run', 'demo.echo', '--bogus'], /^capsule: USAGE: Unknown option '--bogus'/],
    [['run', 'demo.echo', '--timeout', 'soon'], /^capsule: USAGE: --timeout soon/],
    [['run', 'demo.echo', '--policy', 'missing.json'], /^capsule: POLICY_INVALID: /],
  ];
  for (const [args, pattern] of failures) {
    it(`fails cleanly: capsule ${args.map((a) => a.replace(/.*\//, '')).join(' ')}`, () => {
      const r = cli(args);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(STACK_TRACE);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});

describe('capsule list and inspect', () => {
  it('list prints a readable table of the bundled capabilities', () => {
    const r = cli(['list']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+VERSION\s+WORLD\s+LEVEL\s+TIER\s+REQUESTS\s+DESCRIPTION$/);
    for (const id of ['demo.echo', 'demo.markdown.render', 'demo.text.wc', 'demo.text.wordcount']) {
      expect(r.stdout).toMatch(new RegExp(`^${id.replace(/\./g, '\\.')}\\s+\\d+\\.\\d+\\.\\d+\\s+(capability|command)\\s+pure\\s+worker`, 'm'));
    }
  });

  it('list --json gives one object per capability', () => {
    const rows = JSON.parse(cli(['list', '--json']).stdout);
    expect(rows.map((r: { id: string }) => r.id)).toEqual(['demo.echo', 'demo.markdown.render', 'demo.text.wc', 'demo.text.wordcount']);
    expect(rows.find((r: { id: string }) => r.id === 'demo.markdown.render').permissions).toEqual(['capsule:host/log']);
  });

  it('inspect shows manifest, imports, exports, requested vs granted, and the verdict', () => {
    const r = cli(['inspect', 'demo.markdown.render']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^demo\.markdown\.render \d+\.\d+\.\d+ \(capsule-examples\)/);
    expect(r.stdout).toMatch(/capsule:host\/log@0\.1\.0\s+DENIED \(not granted\)/);
    expect(r.stdout).toContain('run: func(input: string) -> result<string, string>');
    expect(r.stdout).toMatch(/not granted\n\s+host capsule:host\/log/);
    expect(r.stdout).toMatch(/would be refused: IMPORT_DENIED/);
    const granted = cli(['inspect', 'demo.markdown.render', '--allow-host', 'capsule:host/log']);
    expect(granted.stdout).toMatch(/capsule:host\/log@0\.1\.0\s+granted/);
    expect(granted.stdout).toMatch(/would run: yes/);
  });

  it('inspect --json of a corpus command lists its WASI imports as deny-by-default links', () => {
    const report = JSON.parse(cli(['inspect', corpus('hello_stdout.component.wasm'), '--json']).stdout);
    expect(report.world).toBe('command');
    expect(report.imports.map((i: { name: string }) => i.name)).toContain('wasi:filesystem/preopens@0.2.3');
    expect(new Set(report.imports.map((i: { link: string }) => i.link))).toEqual(new Set(['wasi']));
    expect(report.tier).toEqual({ tier: 'worker', reason: 'default tier' });
    expect(report.refusal).toBeUndefined();
  });

  it('help and --version', () => {
    expect(cli(['help']).stdout).toMatch(/^capsule: run untrusted WebAssembly components/);
    expect(cli(['--version']).stdout).toMatch(/^capsule \d+\.\d+\.\d+\n$/);
  });
});
