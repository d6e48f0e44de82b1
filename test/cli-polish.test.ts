// What a plugin author meets on the command line (issue 12): each command's own --help,
// --allow-clocks / --allow-random for a bare file, denials and --json on a failed call,
// and schemas in list --json.
import { describe, expect, it } from 'vitest';
import { cli, fixture } from './helpers.js';

describe('per-command help', () => {
  it('run --help lists every flag of run, the --allow-* ones included; list --help only its own', () => {
    const run = cli(['run', '--help']);
    expect(run.status).toBe(0);
    for (const flag of [
      '--input',
      '--input-file',
      '--json',
      '--allow-read',
      '--allow-write',
      '--allow-env',
      '--allow-net',
      '--allow-host',
      '--allow-clocks',
      '--allow-random',
      '--timeout',
      '--memory',
      '--tier',
      '--policy',
      '--capabilities',
      '--audit',
    ]) {
      expect(run.stdout).toContain(flag);
    }
    expect(cli(['help', 'run']).stdout).toBe(run.stdout);
    const list = cli(['list', '--help']).stdout;
    expect(list).toMatch(/^usage: capsule list/);
    expect(list).not.toContain('--allow-read');
    expect(cli(['build', '--help']).stdout).toMatch(/--sign KEY[\s\S]*--check/);
  });
});

describe('clocks and randomness for a bare .wasm', () => {
  it('a refused call says how to grant it, and --allow-random grants it', () => {
    const refused = cli(['run', fixture('esc-random'), '--input', '{}']);
    expect(refused.stderr).toMatch(/^capsule: PERMISSION_DENIED: .*random is not granted: to grant it, run it with --allow-random\n$/);
    expect(refused.status).toBe(1);
    const granted = cli(['run', fixture('esc-random'), '--input', '{}', '--allow-random']);
    expect(granted.stderr).toBe('');
    expect(JSON.parse(granted.stdout)).toEqual({ random: true });
  });
});

describe('a failed capability-world call', () => {
  const args = ['run', fixture('attack-net'), '--allow-net', '127.0.0.1:1', '--input', '{"url":"http://127.0.0.1:9/x"}'];

  it('prints the denials that explain it, then the error', () => {
    const r = cli(args);
    expect(r.stderr).toBe('capsule: PERMISSION_DENIED: net http://127.0.0.1:9/x: host not granted\ncapsule: CAPABILITY_ERROR: HTTP-request-denied\n');
    expect(r.status).toBe(1);
  });

  it('with --json prints the error object on stdout', () => {
    const r = cli([...args, '--json']);
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        code: 'CAPABILITY_ERROR',
        message: 'HTTP-request-denied',
        details: { denials: [expect.objectContaining({ kind: 'net', target: 'http://127.0.0.1:9/x' })] },
      },
    });
    expect(r.status).toBe(1);
  });
});

it('list --json carries each capability input and output schema', () => {
  const r = cli(['list', '--json', '--capabilities', 'capabilities']);
  const rows = JSON.parse(r.stdout) as { id: string; inputSchema?: unknown; outputSchema?: unknown }[];
  const wc = rows.find((x) => x.id === 'demo.text.wordcount');
  expect(wc?.inputSchema).toMatchObject({ required: ['text'] });
  expect(wc?.outputSchema).toMatchObject({ required: ['words', 'lines', 'chars'] });
});
