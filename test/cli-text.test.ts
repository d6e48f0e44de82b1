// Issue 9, class 10 (found by fuzzing), the CLI side: text a guest or a file
// controls never breaks capsule's one-line diagnostics. Newlines, ESC, NUL and
// bidi controls are escaped; no guest can print a line that passes for one of
// capsule's own `capsule: CODE: ...` lines; JSON syntax errors are one short line.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, fixture, manifest, STACK_TRACE, tempDir, writeCapability, CAPABILITIES } from './helpers.js';

/** Raw control or bidi characters that must never reach the terminal from capsule's own lines. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for exactly these raw characters
const RAW_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

describe('guest text on capsule lines is escaped, one line each', () => {
  it('a guest err text and log record with a forged capsule line, ESC, NUL and U+202E', () => {
    // fixtures/src/forge.wat: logs and returns err("line1\n\x1b[31mcapsule: OK: forged\0\u202eend").
    const r = cli(['run', fixture('forge'), '--allow-host', 'capsule:host/log']);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(RAW_CONTROLS);
    const out = lines(r.stderr);
    // The log record is two lines, each behind the guest's tag; then one error line.
    expect(out).toEqual([
      '[file.forge] warn: line1',
      '[file.forge] warn: \\x1b[31mcapsule: OK: forged\\x00\\u202eend',
      'capsule: CAPABILITY_ERROR: line1\\n\\x1b[31mcapsule: OK: forged\\x00\\u202eend',
    ]);
    expect(out.filter((l) => l.startsWith('capsule:'))).toHaveLength(1);
  });

  it('a denied path the guest chose, with a newline and ESC, stays on its denial line', () => {
    const granted = tempDir();
    const target = `${granted}/../x\n\u001b[31mcapsule: OK: forged`;
    const r = cli(['run', fixture('attack-fs'), `--allow-read=${granted}`, '--', 'read', target]);
    const own = lines(r.stderr).filter((l) => l.startsWith('capsule:'));
    expect(own.length).toBeGreaterThan(0);
    for (const l of own) expect(l).toMatch(/^capsule: PERMISSION_DENIED: fs .*\\n\\x1b\[31mcapsule: OK: forged: /);
    expect(r.stderr).not.toMatch(RAW_CONTROLS);
  });

  it('capsule list escapes a manifest description', () => {
    const dir = tempDir();
    writeCapability(
      dir,
      'test.desc',
      manifest('test.desc', { description: 'nice\n\u001b[2Jcapsule: OK: forged\u202e' }),
      path.join(CAPABILITIES, 'demo.echo', 'component.wasm'),
    );
    const r = cli(['list', '--capabilities', dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('nice\\n\\x1b[2Jcapsule: OK: forged\\u202e');
    expect(r.stdout).not.toMatch(RAW_CONTROLS);
  });
});

describe('JSON syntax errors and schema warnings are one short line', () => {
  it('a manifest that is not JSON: file, line and column, no quote of the file', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'test.broken'));
    writeFileSync(path.join(dir, 'test.broken', 'capability.json'), '{\n  "id": "test.broken",\n  "version": nope,\n  "world": "capability"\n}\n');
    const r = cli(['run', 'test.broken', '--capabilities', dir]);
    expect(r.status).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^capsule: MANIFEST_INVALID: .*test\.broken\/capability\.json: not JSON: line 3 column 14: unexpected 'n', expected a value\n$/);
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });

  it('a policy that is not JSON: file, line and column', () => {
    const dir = tempDir();
    const policy = path.join(dir, 'policy.json');
    writeFileSync(policy, '{\n  "grants": [\n    { "capabilities": "demo.*" },\n  ]\n}\n');
    const r = cli(['run', 'demo.echo', '--input', '1', '--policy', policy]);
    expect(r.status).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^capsule: POLICY_INVALID: .*policy\.json: not JSON: line 4 column 3: unexpected '\]', expected a value\n$/);
  });

  it('an unknown format is MANIFEST_INVALID, and ajv prints nothing', () => {
    const dir = tempDir();
    writeCapability(
      dir,
      'test.format',
      manifest('test.format', { inputSchema: { type: 'string', format: 'colour' } }),
      path.join(CAPABILITIES, 'demo.echo', 'component.wasm'),
    );
    const r = cli(['run', 'test.format', '--input', '"red"', '--capabilities', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/unknown format/);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^capsule: MANIFEST_INVALID: .*\/inputSchema\/format "colour" is not a format capsule checks/)]);
  });
});
