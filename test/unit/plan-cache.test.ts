// Plans kept between calls (src/plan/plan-cache.ts): reused only while everything
// the planning read still holds, so a kept plan is always the plan a fresh planning
// would make. Against src/, with the host given as data.
import { describe, expect, it } from 'vitest';
import { PlanCache, planKey } from '../../src/plan/plan-cache.js';
import { type Plan, planCall, type PlanSubject } from '../../src/plan/plan.js';
import type { DecideContext } from '../../src/policy/decide.js';
import type { Policy, PolicyGrant } from '../../src/policy/policy.js';
import { plainDisk, testPolicy } from './grants-gen.js';
import { refusal } from './refusal.js';

const LOADED = Date.UTC(2030, 0, 1);
const RUN = 'run: func(input: string) -> result<string, string>';
const subject = (permissions: PlanSubject['manifest']['permissions'] = {}): PlanSubject => ({
  manifest: { id: 'acme.t', world: 'capability', securityLevel: 'controlled', permissions },
  component: { shape: { imports: [], exports: [RUN], world: 'capability', wit: '' } },
});
const host = (over: Partial<DecideContext> = {}): DecideContext => ({ cwd: '/work', env: { TOKEN: 'a' }, now: LOADED + 1000, disk: plainDisk, ...over });

/** A cache and a planner that plans as the runtime does. */
function planner() {
  const cache = new PlanCache<PlanSubject, Plan>();
  const plan = (s: PlanSubject, policy: Policy, h: DecideContext, call = {}) => cache.get(s, planKey(call), policy, h, (ctx) => planCall(s, policy, ctx, call));
  return { cache, plan };
}

describe('plan cache', () => {
  const grants: PolicyGrant[] = [{ capabilities: 'acme.*', env: ['TOKEN'] }];

  it('plans once per subject × call overrides, and the kept plan equals a fresh one', () => {
    const { cache, plan } = planner();
    const s = subject({ env: ['TOKEN'] });
    const policy = testPolicy(grants, LOADED);
    const first = plan(s, policy, host());
    expect(plan(s, policy, host({ now: LOADED + 2000 }))).toBe(first);
    expect(cache.made).toBe(1);
    expect(first).toEqual(planCall(s, policy, host()));
    // Other overrides are another plan; the same overrides again are not.
    expect(plan(s, policy, host(), { timeoutMs: 50 }).decision.limits.timeoutMs).toBe(50);
    plan(s, policy, host(), { timeoutMs: 50 });
    expect(cache.made).toBe(2);
    // A kept plan is shared: nothing may change it.
    expect(Object.isFrozen(first.decision.grants.env)).toBe(true);
  });

  it('a policy change (another policy object) plans again', () => {
    const { cache, plan } = planner();
    const s = subject({ env: ['TOKEN'] });
    expect(plan(s, testPolicy(grants, LOADED), host()).decision.grants.env).toEqual({ TOKEN: 'a' });
    const fixed = testPolicy([{ capabilities: 'acme.*', env: ['TOKEN=fixed'] }], LOADED);
    expect(plan(s, fixed, host()).decision.grants.env).toEqual({ TOKEN: 'fixed' });
    expect(cache.made).toBe(2);
  });

  it('at the earliest grant expiry it plans again, and an expired grant still refuses (CONTEXT_EXPIRED) every time', () => {
    const { cache, plan } = planner();
    const s = subject({ env: ['TOKEN'] });
    // Two grants: one ends at +5 s (ttl), the other never; the plan before +5 s uses the first.
    const policy = testPolicy([{ capabilities: 'acme.*', env: ['TOKEN'], ttlSeconds: 5 }, { capabilities: 'other.*' }], LOADED);
    expect(plan(s, policy, host({ now: LOADED + 4999 })).decision.grants.env).toEqual({ TOKEN: 'a' });
    expect(cache.made).toBe(1);
    for (let i = 0; i < 2; i++) expect(refusal(() => plan(s, policy, host({ now: LOADED + 5000 + i }))).code).toBe('CONTEXT_EXPIRED');
    expect(cache.made).toBe(3);
    // A clock set back before the plan was made does not reuse it either.
    expect(plan(s, policy, host({ now: LOADED + 10 })).decision.grants.env).toEqual({ TOKEN: 'a' });
    expect(cache.made).toBe(4);
  });

  it('a grant expiring later does not stop a plan made before an earlier one from being kept until that one', () => {
    const { cache, plan } = planner();
    const s = subject();
    const policy = testPolicy(
      [
        { capabilities: 'x.*', ttlSeconds: 2 },
        { capabilities: 'acme.*', ttlSeconds: 9 },
      ],
      LOADED,
    );
    plan(s, policy, host({ now: LOADED + 100 }));
    plan(s, policy, host({ now: LOADED + 1999 }));
    expect(cache.made).toBe(1);
    plan(s, policy, host({ now: LOADED + 2000 }));
    plan(s, policy, host({ now: LOADED + 8999 }));
    expect(cache.made).toBe(2);
  });

  it('what the planning read of the host (an env value, the directory, a disk answer) changing plans again', () => {
    const { cache, plan } = planner();
    const policy = testPolicy([{ capabilities: 'acme.*', env: ['TOKEN'], fs: { read: ['/data'] } }], LOADED);
    const s = subject({ env: ['TOKEN'], fs: { read: ['/data'] } });
    expect(plan(s, policy, host()).decision.grants.env).toEqual({ TOKEN: 'a' });
    // A variable it never read may change.
    plan(s, policy, host({ env: { TOKEN: 'a', OTHER: 'x' } }));
    expect(cache.made).toBe(1);
    expect(plan(s, policy, host({ env: { TOKEN: 'b' } })).decision.grants.env).toEqual({ TOKEN: 'b' });
    expect(plan(s, policy, host({ env: {} })).decision.grants.env).toEqual({});
    expect(cache.made).toBe(3);
    plan(s, policy, host({ cwd: '/elsewhere' }));
    expect(cache.made).toBe(4);
    const moved = { realpath: (p: string) => (p === '/data' ? '/mnt/data' : p), isFile: () => false };
    const p = plan(s, policy, host({ disk: moved }));
    expect(cache.made).toBe(5);
    expect(p).toEqual(planCall(s, policy, host({ disk: moved })));
  });

  it('keeps a bounded number of plans per subject', () => {
    const { cache, plan } = planner();
    const s = subject();
    const policy = testPolicy([{ capabilities: 'acme.*' }], LOADED);
    for (let t = 1; t <= 40; t++) plan(s, policy, host(), { timeoutMs: t });
    plan(s, policy, host(), { timeoutMs: 40 });
    expect(cache.made).toBe(40);
    plan(s, policy, host(), { timeoutMs: 1 });
    expect(cache.made).toBe(41);
  });
});
