// rt.runText(id, jsonText): input and output as JSON text. Nothing is parsed on the
// calling thread unless a schema checks it, yet every check run() makes still holds:
// not-JSON input or output, schemas, and the input and output size limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../dist/index.js';
import { CAPABILITIES, failure, fixture, manifest, tempDir, writeCapability } from './helpers.js';

let rt: Runtime;
const TIERS = ['worker', 'inline'] as const;

beforeAll(async () => {
  const dir = tempDir('capsule-run-text-');
  const cap = (id: string, extra: Record<string, unknown>, from: string) => writeCapability(dir, id, manifest(id, extra), from);
  const echo = `${CAPABILITIES}/demo.echo/component.wasm`;
  cap('text.echo', {}, echo);
  cap('text.typed', { inputSchema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } }, echo);
  cap('text.out-typed', { outputSchema: { type: 'object', required: ['total'] } }, echo);
  cap('text.small', { limits: { outputBytes: 8, inputBytes: 64 } }, echo);
  cap('text.not-json', {}, fixture('not-json'));
  cap('text.counter', {}, fixture('counter'));
  cap('text.command', { world: 'command' }, fixture('exit-code'));
  rt = await createRuntime({
    capabilitiesDir: dir,
    policy: { grants: [{ capabilities: 'text.*', tier: 'inline' }] },
    pool: { minThreads: 1, maxThreads: 1 },
  });
});
afterAll(() => rt?.close());

describe.each(TIERS)('runText in the %s tier', (tier) => {
  it('returns the output as the text the guest wrote, with the same stats as run', async () => {
    const text = '{"b": [1, 2, {"c": "é"}], "a": null}';
    const r = await rt.runText('text.echo', text, { tier });
    expect(r.output).toBe(text);
    expect(r.stats.tier).toBe(tier);
    expect((await rt.run('text.echo', JSON.parse(text), { tier })).output).toEqual(JSON.parse(text));
    // A glued (not direct) component too.
    expect(JSON.parse((await rt.runText('text.counter', '{}', { tier })).output)).toEqual({ count: 1 });
  });

  it('input that is not JSON is INPUT_INVALID with where, checked before the guest gets it', async () => {
    for (const bad of ['{"a": nope}', '', '{"a":1} trailing', '\u0000']) {
      const e = await failure(rt.runText('text.echo', bad, { tier }));
      expect(e.code, bad).toBe('INPUT_INVALID');
      expect(e.message).toMatch(/^text\.echo: input is not JSON text: line 1 column \d+: /);
    }
    // With an input schema the text is parsed here, for the schema: the same answer.
    expect((await failure(rt.runText('text.typed', '{"n": ', { tier }))).code).toBe('INPUT_INVALID');
  });

  it('the input schema checks the text parsed', async () => {
    const e = await failure(rt.runText('text.typed', '{"n": "one"}', { tier }));
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toMatch(/\/n must be integer/);
    expect((await rt.runText('text.typed', '{"n": 1}', { tier })).output).toBe('{"n": 1}');
  });

  it('output that is not JSON, or misses its schema, is OUTPUT_INVALID', async () => {
    const e = await failure(rt.runText('text.not-json', '{}', { tier }));
    expect(e.code).toBe('OUTPUT_INVALID');
    expect(e.message).toMatch(/^text\.not-json: output is not JSON text: line \d+ column \d+: /);
    const schema = await failure(rt.runText('text.out-typed', '{"x": 1}', { tier }));
    expect(schema.code).toBe('OUTPUT_INVALID');
    expect(schema.message).toMatch(/missing field \/total/);
    expect((await rt.runText('text.out-typed', '{"total": 1}', { tier })).output).toBe('{"total": 1}');
  });

  it('input and output size limits hold, in UTF-8 bytes', async () => {
    // 22 characters, 64 bytes: over inputBytes 64 only when counted in bytes.
    const wide = JSON.stringify('€'.repeat(21));
    expect(Buffer.byteLength(wide)).toBe(65);
    const e = await failure(rt.runText('text.small', wide, { tier }));
    expect(e.code).toBe('INPUT_TOO_LARGE');
    expect(e.message).toBe('text.small: input is 65 bytes, over the limit of 64');
    // Output: 8 bytes allowed; '"€€€"' is 5 characters and 11 bytes.
    const out = await failure(rt.runText('text.small', '"€€€"', { tier }));
    expect(out.code).toBe('OUTPUT_TOO_LARGE');
    expect(out.message).toBe('text.small: output is 11 bytes, over the limit of 8');
    expect((await rt.runText('text.small', '"€€"', { tier })).output).toBe('"€€"');
    // The caller's own lower limit too.
    expect((await failure(rt.runText('text.echo', '[1,2,3]', { tier, inputBytes: 6 }))).code).toBe('INPUT_TOO_LARGE');
  });

  it('a command-world capability takes its { args, stdin, env } as text and gives its output as JSON text', async () => {
    const r = await rt.runText('text.command', JSON.stringify({ args: ['3'], stdin: 'echo me' }), { tier });
    expect(JSON.parse(r.output)).toEqual({ exitCode: 3, stdout: 'echo me', stderr: 'bye\n' });
    expect((await failure(rt.runText('text.command', '{"args": 3}', { tier }))).code).toBe('INPUT_INVALID');
    expect((await failure(rt.runText('text.command', 'args', { tier }))).code).toBe('INPUT_INVALID');
  });
});

describe('runText arguments', () => {
  it('an id or input that is not a string is USAGE', async () => {
    expect((await failure(rt.runText(42 as never, '{}'))).code).toBe('USAGE');
    const e = await failure(rt.runText('text.echo', { a: 1 } as never));
    expect(e.code).toBe('USAGE');
    expect(e.message).toBe('runText needs the input as JSON text (a string), got an object');
  });
});
