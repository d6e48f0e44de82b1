// Levels' default grant lifetimes (seed CCOS): a policy grant that names no
// expiresAt or ttlSeconds lasts, for a capability of that level, 1 hour
// (controlled), 10 minutes (sandboxed, full) or forever (pure), from when the
// runtime loaded the policy, unless the policy's `levels` says otherwise or the
// grant names its own end. A call that needs what such a grant gave is then
// CONTEXT_EXPIRED, saying it was the level's default.
import { describe, expect, it } from 'vitest';
import { planCall, type PlanSubject } from '../../src/plan/plan.js';
import type { DecideContext } from '../../src/policy/decide.js';
import type { PolicyDocument, PolicyGrant } from '../../src/policy/policy.js';
import type { SecurityLevel } from '../../src/grants/permissions.js';
import type { ComponentShape } from '../../src/sandbox/describe.js';
import { plainDisk, testPolicy } from './grants-gen.js';
import { refusal } from './refusal.js';

const LOADED = Date.UTC(2030, 0, 1);
const MIN = 60_000;
const at = (ms: number): DecideContext => ({ cwd: '/work', env: { TOKEN: 'x' }, now: LOADED + ms, disk: plainDisk });
const shape: ComponentShape = { imports: [], exports: ['run: func(input: string) -> result<string, string>'], world: 'capability', wit: '' };
const subject = (securityLevel: SecurityLevel): PlanSubject => ({
  manifest: { id: 'acme.t', world: 'capability', securityLevel, permissions: { env: ['TOKEN'] } },
  component: { shape },
});
const grant: PolicyGrant = { capabilities: 'acme.*', env: ['TOKEN'] };
const policy = (g: PolicyGrant = grant, doc: Partial<PolicyDocument> = {}) => testPolicy([g], LOADED, doc);
const env = (level: SecurityLevel, ms: number, p = policy()) => planCall(subject(level), p, at(ms)).decision.grants.env;

describe('default grant lifetime by level', () => {
  it('sandboxed and full: 10 minutes', () => {
    for (const level of ['sandboxed', 'full'] as const) {
      expect(env(level, 10 * MIN - 1)).toEqual({ TOKEN: 'x' });
      const e = refusal(() => planCall(subject(level), policy(), at(10 * MIN)));
      expect(e.code).toBe('CONTEXT_EXPIRED');
      expect(e.message).toContain(`the ${level} level's default lifetime`);
      expect(e.message).toContain(new Date(LOADED + 10 * MIN).toISOString());
    }
  });

  it('controlled: 1 hour; pure: no end', () => {
    expect(env('controlled', 59 * MIN)).toEqual({ TOKEN: 'x' });
    expect(refusal(() => planCall(subject('controlled'), policy(), at(60 * MIN))).code).toBe('CONTEXT_EXPIRED');
    // A pure capability asking for env would exceed its level: the lifetime shows on what it may ask for, the host interfaces.
    const pure: PlanSubject = { manifest: { id: 'acme.t', world: 'capability', securityLevel: 'pure', permissions: { clocks: true } }, component: { shape } };
    const clocks = policy({ capabilities: 'acme.*', clocks: true });
    expect(planCall(pure, clocks, at(1000 * 24 * 60 * MIN)).decision.grants.clocks).toBe(true);
  });

  it("the policy's levels replace a default (null: no end)", () => {
    const longer = policy(grant, { levels: { sandboxed: { ttlSeconds: 3600 }, full: { ttlSeconds: null } } });
    expect(env('sandboxed', 59 * MIN, longer)).toEqual({ TOKEN: 'x' });
    expect(refusal(() => planCall(subject('sandboxed'), longer, at(60 * MIN))).code).toBe('CONTEXT_EXPIRED');
    expect(env('full', 1000 * 24 * 60 * MIN, longer)).toEqual({ TOKEN: 'x' });
    const shorter = policy(grant, { levels: { controlled: { ttlSeconds: 60 } } });
    expect(refusal(() => planCall(subject('controlled'), shorter, at(MIN))).code).toBe('CONTEXT_EXPIRED');
  });

  it("a grant's own ttlSeconds or expiresAt wins over the level's default, longer or shorter", () => {
    const own = policy({ ...grant, ttlSeconds: 7200 });
    expect(env('sandboxed', 119 * MIN, own)).toEqual({ TOKEN: 'x' });
    expect(refusal(() => planCall(subject('sandboxed'), own, at(120 * MIN))).code).toBe('CONTEXT_EXPIRED');
    const never = policy({ ...grant, expiresAt: '2999-01-01T00:00:00Z' });
    expect(env('sandboxed', 24 * 60 * MIN, never)).toEqual({ TOKEN: 'x' });
  });
});
