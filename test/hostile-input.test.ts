// Issue 9, class 10 (found by fuzzing), the API side: whatever a caller hands
// capsule (a function, a Symbol, a throwing getter, a Proxy) and whatever schema a
// manifest carries ($ref cycles, catastrophic patterns, unknown formats), the
// result is a CapsuleError with the right code: never a raw TypeError/RangeError,
// never the caller's own Error, never a stalled event loop.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapsuleError, createRuntime, type Runtime } from '../dist/index.js';
import { CAPABILITIES, failure, fixture, manifest, tempDir, writeCapability } from './helpers.js';

const ECHO = path.join(CAPABILITIES, 'demo.echo', 'component.wasm');

let dir: string;
let rt: Runtime;

/** A capability that echoes its input, with `extra` manifest fields (schemas). */
const cap = (id: string, extra: Record<string, unknown>) => writeCapability(dir, id, manifest(id, extra), ECHO);

beforeAll(async () => {
  dir = tempDir();
  cap('test.echo', {});
  writeCapability(dir, 'test.log', manifest('test.log', { permissions: { host: ['capsule:host/log'] } }), fixture('log'));
  cap('test.typed', { inputSchema: { type: 'object', properties: { s: { type: 'string', maxLength: 5 } } } });
  // Bad schemas: each must be MANIFEST_INVALID naming the field, at load.
  cap('schema.ref-root', { inputSchema: { $ref: '#' } });
  cap('schema.ref-cycle', {
    inputSchema: { definitions: { a: { allOf: [{ $ref: '#/definitions/b' }] }, b: { $ref: '#/definitions/a' } }, $ref: '#/definitions/a' },
  });
  cap('schema.ref-remote', { inputSchema: { $ref: 'https://example.com/s.json' } });
  cap('schema.redos', { inputSchema: { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } } });
  cap('schema.redos-alt', { outputSchema: { type: 'string', pattern: '^(a|a)*$' } });
  cap('schema.redos-keys', { inputSchema: { type: 'object', patternProperties: { '^(\\w+\\s?)*$': {} } } });
  cap('schema.backref', { inputSchema: { type: 'string', pattern: '^(a*)\\1$' } });
  cap('schema.format', { inputSchema: { type: 'string', format: 'no-such-format' } });
  cap('schema.deep', { inputSchema: nest(100) });
  // Accepted: recursion that goes into the value ends with the value.
  cap('schema.tree', { inputSchema: { type: 'array', items: { $ref: '#' } } });
  // Accepted (star height 1) but polynomial: the check runs under a time limit.
  cap('schema.poly', { inputSchema: { type: 'string', pattern: '\\d*\\d*\\d*x' } });
  cap('schema.safe', { inputSchema: { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z0-9-]+$', format: 'uuid' } } } });
  rt = await createRuntime({ capabilitiesDir: dir, pool: { minThreads: 1, maxThreads: 1 } });
});
afterAll(() => rt.close());

function nest(levels: number): Record<string, unknown> {
  let s: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < levels; i++) s = { type: 'object', properties: { a: s } };
  return s;
}

describe('hostile API input is INPUT_INVALID', () => {
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const inputs: [string, unknown][] = [
    ['a function', () => 1],
    ['a Symbol', Symbol('x')],
    [
      'a throwing getter',
      {
        get a() {
          throw new Error('the caller’s own error');
        },
      },
    ],
    [
      'a throwing toJSON',
      {
        toJSON() {
          throw new TypeError('boom');
        },
      },
    ],
    [
      'a Proxy whose traps throw',
      new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('trap');
          },
          get() {
            throw new Error('trap');
          },
        },
      ),
    ],
    ['a revoked Proxy', revoked],
  ];
  for (const [what, input] of inputs) {
    it(what, async () => {
      const e = await failure(rt.run('test.echo', input));
      expect(e.code).toBe('INPUT_INVALID');
      expect(e.message).toMatch(/^test\.echo: input cannot be sent as JSON/);
    });
  }

  it('the schema checks exactly what the guest receives (a getter is read once)', async () => {
    let reads = 0;
    const input = {
      get s() {
        reads++;
        return reads === 1 ? 'ok' : 'x'.repeat(100);
      },
    };
    const r = await rt.run('test.typed', input);
    expect(r.output).toEqual({ s: 'ok' });
    expect(reads).toBe(1);
  });
});

describe('hostile run options are USAGE', () => {
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const options: [string, unknown][] = [
    [
      'a throwing getter',
      {
        get timeoutMs() {
          throw new Error('the caller’s own error');
        },
      },
    ],
    [
      'a Proxy whose traps throw',
      new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('trap');
          },
        },
      ),
    ],
    ['a revoked Proxy', revoked],
    ['a Proxy of an AbortSignal', { signal: new Proxy(new AbortController().signal, {}) }],
    ['a signal that is not an AbortSignal', { signal: { aborted: false } }],
    ['a Symbol as a limit', { timeoutMs: Symbol('x') }],
    ['a function as a limit', { memoryLimitBytes: () => 1 }],
  ];
  for (const [what, opts] of options) {
    it(what, async () => {
      const e = await failure(rt.run('test.echo', 1, opts as never));
      expect(e.code).toBe('USAGE');
    });
  }

  it('a getter on opts is read once: the limit checked is the limit used', async () => {
    let reads = 0;
    const opts = {
      get timeoutMs() {
        reads++;
        return reads === 1 ? 1000 : Number.NaN;
      },
    };
    await rt.run('test.echo', 1, opts);
    expect(reads).toBe(1);
  });

  it('an id that is not a string is USAGE', async () => {
    expect((await failure(rt.run(Symbol('x') as never, 1))).code).toBe('USAGE');
    expect((await failure(rt.runFile({} as never, 1))).code).toBe('USAGE');
  });
});

describe('hostile createRuntime options are USAGE or POLICY_INVALID', () => {
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const cases: [string, unknown, string][] = [
    [
      'a throwing getter',
      {
        get capabilitiesDir() {
          throw new Error('mine');
        },
      },
      'USAGE',
    ],
    [
      'a Proxy whose traps throw',
      new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('trap');
          },
        },
      ),
      'USAGE',
    ],
    ['a revoked Proxy', revoked, 'USAGE'],
    ['a number as capabilitiesDir', { capabilitiesDir: 5 }, 'USAGE'],
    [
      'a policy with a throwing getter',
      {
        policy: {
          get grants() {
            throw new Error('mine');
          },
        },
      },
      'POLICY_INVALID',
    ],
    [
      'a policy Proxy whose traps throw',
      {
        policy: new Proxy(
          {},
          {
            ownKeys() {
              throw new Error('trap');
            },
          },
        ),
      },
      'POLICY_INVALID',
    ],
    ['a revoked policy Proxy', { policy: revoked }, 'POLICY_INVALID'],
    ['a policy that is a function', { policy: () => ({}) }, 'POLICY_INVALID'],
  ];
  for (const [what, opts, code] of cases) {
    it(what, async () => {
      const e = await failure(createRuntime(opts as never));
      expect(e.code).toBe(code);
    });
  }

  it('a policy object is read once: what the schema checked is what decides', async () => {
    let reads = 0;
    const policy = {
      get grants() {
        reads++;
        return reads === 1 ? [] : [{ capabilities: '*', host: ['capsule:host/log'] }];
      },
    };
    const r = await createRuntime({ capabilitiesDir: dir, policy });
    try {
      expect(reads).toBe(1);
      expect(r.policy.doc.grants).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it('a logger that throws does not fail the call', async () => {
    const r = await createRuntime({
      capabilitiesDir: dir,
      policy: { grants: [{ capabilities: 'test.log', host: ['capsule:host/log'] }] },
      pool: { minThreads: 1, maxThreads: 1 },
      logger: () => {
        throw new Error('logger broke');
      },
    });
    try {
      // The guest logs one record: the logger throws on it.
      await expect(r.run('test.log', {})).resolves.toMatchObject({ output: { logged: true } });
    } finally {
      await r.close();
    }
  });
});

describe('manifest schemas are checked at load', () => {
  const refused: [string, RegExp][] = [
    ['schema.ref-root', /\/inputSchema refers back to itself without going into a part of the value/],
    ['schema.ref-cycle', /\/inputSchema\/definitions\/\w\S* refers back to itself/],
    ['schema.ref-remote', /\/inputSchema\/\$ref must be a local JSON pointer/],
    ['schema.redos', /\/inputSchema\/properties\/s\/pattern is refused: .*nested quantifiers/],
    ['schema.redos-alt', /\/outputSchema\/pattern is refused: .*alternatives/],
    ['schema.redos-keys', /\/inputSchema\/patternProperties\/.* is refused/],
    ['schema.backref', /\/inputSchema\/pattern is refused: backreferences/],
    ['schema.format', /\/inputSchema\/format "no-such-format" is not a format capsule checks/],
    ['schema.deep', /\/inputSchema is nested too deeply/],
  ];
  for (const [id, message] of refused) {
    it(`${id} is MANIFEST_INVALID naming the field`, async () => {
      const e = await failure(rt.run(id, 'aaaa'));
      expect(e.code).toBe('MANIFEST_INVALID');
      expect(e.message).toMatch(message);
      expect(e.message).toContain('capability.json');
    });
  }

  it('recursion into the value is accepted; a value nested past the stack is INPUT_INVALID, not RangeError', async () => {
    expect((await rt.run('schema.tree', [[], [[]]])).output).toEqual([[], [[]]]);
    let deep: unknown[] = [];
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const e = await failure(rt.run('schema.tree', deep, { inputBytes: 1024 * 1024 }));
    expect(['INPUT_INVALID', 'INPUT_TOO_LARGE']).toContain(e.code);
  });

  it('a polynomial pattern cannot hold the event loop: its check is cut off', async () => {
    const started = performance.now();
    const e = await failure(rt.run('schema.poly', '1'.repeat(20_000)));
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toMatch(/took over \d+ ms/);
    // Generous: the check stops at 200 ms; unbounded it runs for minutes.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('known formats and safe patterns are enforced', async () => {
    expect((await rt.run('schema.safe', { id: '0b0e5a9c-7d6c-4c4f-8a39-9e3f1b1d2a10' })).output).toBeTruthy();
    const e = await failure(rt.run('schema.safe', { id: 'not-a-uuid' }));
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toMatch(/\/id must match format "uuid"/);
  });

  it('the input size is checked before the schema', async () => {
    const e = await failure(rt.run('schema.poly', '1'.repeat(5000), { inputBytes: 1000 }));
    expect(e.code).toBe('INPUT_TOO_LARGE');
  });

  it('every failure above was a CapsuleError and the runtime still serves', async () => {
    expect((await rt.run('test.echo', { still: 'here' })).output).toEqual({ still: 'here' });
    expect(new CapsuleError('USAGE', 'x')).toBeInstanceOf(Error);
  });
});
