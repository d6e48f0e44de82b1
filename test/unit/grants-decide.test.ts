// decide() is pure: the current directory, the environment, the time and the
// disk come in as a DecideContext, so the same inputs always give the same
// decision and nothing is read from this process.
import { describe, expect, it } from 'vitest';
import { decide, type DecideContext } from '../../src/policy/decide.js';
import { expiredNeeds } from '../../src/policy/expired-needs.js';
import type { Policy, PolicyGrant } from '../../src/policy/policy.js';
import type { CapabilityRequest } from '../../src/policy/request.js';
import { plainDisk, testPolicy } from './grants-gen.js';

const LOADED = Date.UTC(2030, 0, 1);

const policy = (grants: PolicyGrant[]) => testPolicy(grants, LOADED, { onUngranted: 'drop' });

const m: CapabilityRequest = {
  id: 'acme.t',
  world: 'capability',
  securityLevel: 'controlled',
  permissions: { env: ['MODE'], fs: { read: ['./in'] } },
};

describe('decide', () => {
  const p = policy([{ capabilities: 'acme.*', env: ['MODE'], fs: { read: ['/work'] }, ttlSeconds: 60 }]);
  const ctx: DecideContext = { cwd: '/work', env: { MODE: 'from-context' }, now: LOADED + 1000, disk: plainDisk };

  it('takes cwd, env and disk from its context, never from the process', () => {
    process.env.MODE = 'from-process';
    try {
      const d = decide(m, p, ctx);
      expect(d.grants.env).toEqual({ MODE: 'from-context' });
      expect(d.grants.fs.read).toEqual(['/work/in']);
      expect(d.notGranted).toEqual([]);
      expect(decide(m, p, ctx)).toEqual(d);
    } finally {
      delete process.env.MODE;
    }
  });

  it('counts grant lifetimes from its context time', () => {
    const later = { ...ctx, now: LOADED + 61_000 };
    expect(decide(m, p, later).notGranted).toEqual(['fs.read /work/in', 'env MODE']);
    expect(expiredNeeds(m, p, later).map((n) => n.need)).toEqual(['fs.read /work/in', 'env MODE']);
    expect(expiredNeeds(m, p, ctx)).toEqual([]);
  });
});

describe('decide: CPU and fuel budgets', () => {
  const ctx: DecideContext = { cwd: '/work', env: {}, now: LOADED + 1000, disk: plainDisk };
  const bare: CapabilityRequest = { id: 'acme.c', world: 'capability' };
  const withCeilings = (ceilings: Record<string, number>): Policy => {
    const p = policy([]);
    return { ...p, doc: { ...p.doc, ceilings } };
  };

  it('none by default: a call without cpuMs or fuel is unlimited (its checks still interrupt it)', () => {
    const l = decide(bare, policy([]), ctx).limits;
    expect(l.cpuMs).toBeUndefined();
    expect(l.fuel).toBeUndefined();
  });

  it('the smallest of manifest, policy ceiling and call option; an option only lowers', () => {
    const asks: CapabilityRequest = { ...bare, limits: { cpuMs: 500, fuel: 9000 } };
    expect(decide(asks, policy([]), ctx).limits).toMatchObject({ cpuMs: 500, fuel: 9000 });
    expect(decide(asks, withCeilings({ cpuMs: 200, fuel: 100 }), ctx).limits).toMatchObject({ cpuMs: 200, fuel: 100 });
    expect(decide(asks, policy([]), ctx, { cpuMs: 50, fuel: 10 }).limits).toMatchObject({ cpuMs: 50, fuel: 10 });
    expect(decide(asks, policy([]), ctx, { cpuMs: 5000, fuel: 1e9 }).limits).toMatchObject({ cpuMs: 500, fuel: 9000 });
    // A ceiling applies to a manifest that asks for nothing.
    expect(decide(bare, withCeilings({ cpuMs: 300 }), ctx).limits.cpuMs).toBe(300);
    expect(decide(bare, policy([]), ctx, { cpuMs: 1e9 }).limits.cpuMs).toBe(300_000);
  });
});
