// The plan (src/plan/plan.ts) is pure and made once per call: run, inspect and the
// audit trail read the same object. These check its refusal order and what it keeps
// when it refuses, against src/, with the host given as data.
import { describe, expect, it } from 'vitest';
import { attemptPlan, planCall, type PlanSubject } from '../../src/plan/plan.js';
import type { DecideContext } from '../../src/policy/decide.js';
import type { PolicyGrant } from '../../src/policy/policy.js';
import type { ComponentShape } from '../../src/sandbox/describe.js';
import { plainDisk, testPolicy } from './grants-gen.js';
import { refusal } from './refusal.js';

const LOADED = Date.UTC(2030, 0, 1);
const ctx: DecideContext = { cwd: '/work', env: {}, now: LOADED + 1000, disk: plainDisk };

const policy = (grants: PolicyGrant[]) => testPolicy(grants, LOADED);

const RUN = 'run: func(input: string) -> result<string, string>';
const shape = (imports: string[], exports = [RUN]): ComponentShape => ({ imports, exports, world: exports[0] === RUN ? 'capability' : null, wit: '' });
const subject = (s: ComponentShape, permissions: PlanSubject['manifest']['permissions'] = {}): PlanSubject => ({
  manifest: { id: 'acme.t', world: 'capability', securityLevel: 'controlled', permissions },
  component: { shape: s },
});

describe('plan', () => {
  const granted = policy([{ capabilities: 'acme.*', host: ['capsule:host/log'], clocks: true }]);

  it('one object holds the decision, the link report and the tier', () => {
    const p = planCall(subject(shape(['wasi:io/streams@0.2.3', 'capsule:host/log@0.1.0']), { host: ['capsule:host/log'], clocks: true }), granted, ctx);
    expect(p.decision.grants.host).toEqual(['capsule:host/log']);
    expect(p.decision.grants.clocks).toBe(true);
    expect(p.imports).toEqual([
      { name: 'wasi:io/streams@0.2.3', link: 'wasi' },
      { name: 'capsule:host/log@0.1.0', link: 'granted' },
    ]);
    expect(p.tier).toEqual({ tier: 'worker', reason: 'default tier' });
    expect(planCall(subject(shape(['capsule:host/log@0.1.0']), { host: ['capsule:host/log'] }), granted, ctx)).toEqual({
      ...p,
      decision: { ...p.decision, grants: { ...p.decision.grants, clocks: false } },
      imports: [{ name: 'capsule:host/log@0.1.0', link: 'granted' }],
    });
  });

  it('an ungranted import is IMPORT_DENIED, and the attempt keeps the decision, links and tier for inspect', () => {
    const a = attemptPlan(subject(shape(['acme:secret/keys'])), granted, ctx);
    expect(a.refusal?.code).toBe('IMPORT_DENIED');
    expect(a.plan).toBeUndefined();
    expect(a.decision?.limits.timeoutMs).toBe(10_000);
    expect(a.imports).toEqual([{ name: 'acme:secret/keys', link: 'denied' }]);
    expect(a.tier?.tier).toBe('worker');
  });

  it('a component in no capsule world, or another than the manifest names, is COMPONENT_INVALID', () => {
    expect(refusal(() => planCall(subject(shape([], ['run: func()'])), granted, ctx)).code).toBe('COMPONENT_INVALID');
    const command = { ...shape([], ['wasi:cli/run@0.2.3']), world: 'command' as const };
    expect(refusal(() => planCall(subject(command), granted, ctx)).message).toMatch(/expected the capability world/);
  });

  it('an uncovered request refuses before the imports are looked at, with what was not granted', () => {
    const strict = policy([{ capabilities: 'acme.*' }]);
    const a = attemptPlan(subject(shape(['acme:secret/keys']), { env: ['TOKEN'] }), strict, ctx);
    expect(a.refusal?.code).toBe('PERMISSION_DENIED');
    expect(a.refusal?.details?.notGranted).toEqual(['env TOKEN']);
    expect(a.decision).toBeUndefined();
    expect(a.imports).toEqual([{ name: 'acme:secret/keys', link: 'denied' }]);
  });

  it('what only an expired grant gave is CONTEXT_EXPIRED, ahead of every other refusal', () => {
    const p = policy([{ capabilities: 'acme.*', env: ['TOKEN'], ttlSeconds: 1 }]);
    const later = { ...ctx, env: { TOKEN: 'x' }, now: LOADED + 5000 };
    const s = subject(shape(['acme:secret/keys']), { env: ['TOKEN'] });
    expect(refusal(() => planCall(s, p, later)).code).toBe('CONTEXT_EXPIRED');
    expect(planCall(subject(shape([]), { env: ['TOKEN'] }), p, { ...later, now: LOADED + 500 }).decision.grants.env).toEqual({ TOKEN: 'x' });
  });

  it('a weaker tier than needed is refused last: the attempt still shows the grants', () => {
    const a = attemptPlan(subject(shape([])), granted, ctx, { tier: 'inline' });
    expect(a.refusal?.code).toBe('PERMISSION_DENIED');
    expect(a.refusal?.message).toMatch(/may not run in tier inline/);
    expect(a.decision).toBeDefined();
    expect(a.tier).toBeUndefined();
    const imports = refusal(() => planCall(subject(shape(['acme:secret/keys'])), granted, ctx, { tier: 'inline' }));
    expect(imports.code).toBe('IMPORT_DENIED');
  });

  it('a container capability has no component: no links, tier vm', () => {
    const p = planCall({ manifest: { id: 'acme.box', world: 'command', runtime: 'container' } }, granted, ctx);
    expect(p.imports).toEqual([]);
    expect(p.tier.tier).toBe('vm');
  });
});
