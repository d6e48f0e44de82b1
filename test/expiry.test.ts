// Grant lifetime: `expiresAt` and `ttlSeconds` (from when the runtime loaded the
// policy). An expired grant no longer applies; a call that needs it is CONTEXT_EXPIRED.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type PolicyDocument, type Runtime } from '../dist/index.js';
import { fixture, manifest, tempDir, writeCapability, failure } from './helpers.js';

let caps: string;
let data: string;
const open: Runtime[] = [];

beforeAll(() => {
  caps = tempDir('capsule-expiry-');
  writeCapability(caps, 'test.log', manifest('test.log', { permissions: { host: ['capsule:host/log'] } }), fixture('log'));
  writeCapability(caps, 'test.counter', manifest('test.counter'), fixture('counter'));
  data = tempDir('capsule-expiry-data-');
  writeCapability(
    caps,
    'test.reader',
    manifest('test.reader', { world: 'command', securityLevel: 'controlled', permissions: { fs: { read: [data] } } }),
    fixture('attack-fs'),
  );
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((rt) => rt.close()));
});

async function runtime(policy: PolicyDocument): Promise<Runtime> {
  const rt = await createRuntime({ capabilitiesDir: caps, policy, pool: { minThreads: 0, maxThreads: 1 } });
  open.push(rt);
  return rt;
}

const PAST = '2020-01-01T00:00:00Z';
const FUTURE = '2999-01-01T00:00:00Z';
const logGrant = { capabilities: 'test.*', host: ['capsule:host/log'] };

describe('expiresAt', () => {
  it('a grant still in force applies', async () => {
    const rt = await runtime({ grants: [{ ...logGrant, expiresAt: FUTURE }] });
    expect((await rt.run('test.log', {})).output).toEqual({ logged: true });
  });

  it('when the only grant for an import has expired, the call is CONTEXT_EXPIRED naming the grant, not IMPORT_DENIED', async () => {
    const rt = await runtime({ grants: [{ capabilities: 'other.*' }, { ...logGrant, expiresAt: PAST }] });
    const e = await failure(rt.run('test.log', {}));
    expect(e.code).toBe('CONTEXT_EXPIRED');
    expect(e.message).toBe('test.log: host capsule:host/log: grant #2 (capabilities "test.*") expired at 2020-01-01T00:00:00.000Z');
  });

  it('a filesystem grant that has expired is CONTEXT_EXPIRED too, not a request no policy covers', async () => {
    const rt = await runtime({ grants: [{ capabilities: 'test.reader', fs: { read: [data] }, expiresAt: PAST }] });
    const e = await failure(rt.run('test.reader', { args: ['ls', data] }));
    expect(e.code).toBe('CONTEXT_EXPIRED');
    expect(e.message).toContain(`fs.read ${data}: grant #1`);
    const never = await runtime({ grants: [{ capabilities: 'other.*', fs: { read: [data] } }] });
    expect((await failure(never.run('test.reader', { args: ['ls', data] }))).code).toBe('PERMISSION_DENIED');
  });

  it('without any grant the same call is IMPORT_DENIED: only an expired grant makes it CONTEXT_EXPIRED', async () => {
    const rt = await runtime({ grants: [{ capabilities: 'test.*', expiresAt: PAST }] });
    expect((await failure(rt.run('test.log', {}))).code).toBe('IMPORT_DENIED');
  });

  it('an expired grant does not matter when another grant in force gives the same', async () => {
    const rt = await runtime({ grants: [{ ...logGrant, expiresAt: PAST }, logGrant] });
    expect((await rt.run('test.log', {})).output).toEqual({ logged: true });
  });

  it('a capability that needs nothing from the expired grant still runs', async () => {
    const rt = await runtime({ grants: [{ ...logGrant, expiresAt: PAST }] });
    expect((await rt.run('test.counter', {})).output).toEqual({ count: 1 });
  });

  it('a weaker tier named only by an expired grant is CONTEXT_EXPIRED', async () => {
    const rt = await runtime({ grants: [{ capabilities: 'test.counter', tier: 'inline', expiresAt: PAST }] });
    const e = await failure(rt.run('test.counter', {}, { tier: 'inline' }));
    expect(e.code).toBe('CONTEXT_EXPIRED');
    expect(e.message).toMatch(/tier inline: grant #1/);
    expect((await rt.run('test.counter', {})).output).toEqual({ count: 1 });
  });
});

describe('ttlSeconds', () => {
  it('counts from when the runtime loaded the policy', async () => {
    const policy: PolicyDocument = { grants: [{ ...logGrant, ttlSeconds: 1 }] };
    const rt = await runtime(policy);
    expect((await rt.run('test.log', {})).output).toEqual({ logged: true });
    await new Promise((r) => setTimeout(r, 1100));
    const e = await failure(rt.run('test.log', {}));
    expect(e.code).toBe('CONTEXT_EXPIRED');
    expect(e.message).toMatch(/^test\.log: host capsule:host\/log: grant #1 \(capabilities "test\.\*"\) expired at /);
    // A runtime that loads the same policy now starts a new lifetime.
    const fresh = await runtime(policy);
    expect((await fresh.run('test.log', {})).output).toEqual({ logged: true });
  });

  it('with both, the earlier end wins', async () => {
    const rt = await runtime({ grants: [{ ...logGrant, ttlSeconds: 3600, expiresAt: PAST }] });
    expect((await failure(rt.run('test.log', {}))).code).toBe('CONTEXT_EXPIRED');
  });
});
