// With auditing off, the per-call audit points build nothing: no record, no run id
// (src/run-audit.ts). With it on, the same calls record their lines.
import { describe, expect, it } from 'vitest';
import type { Audit, AuditEvent } from '../../src/audit/index.js';
import type { Plan } from '../../src/plan/plan.js';
import type { Manifest } from '../../src/registry/manifest.js';
import { AuditTrail } from '../../src/run-audit.js';

const limits = { memoryBytes: 1, timeoutMs: 1, outputBytes: 1, inputBytes: 1 };
const plan = {
  decision: {
    grants: { host: [], clocks: false, random: false, env: {}, fs: { read: [], write: [] }, net: [], netBlocked: [] },
    limits,
    policyGrants: [],
    notGranted: [],
  },
  imports: [],
  tier: { tier: 'worker', reason: 'default tier' },
} as unknown as Plan;
const loaded = { manifest: { id: 'acme.t' } as Manifest };

function trail(path: string | undefined): { trail: AuditTrail; events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  const log: Audit = { path, record: (e) => void events.push(e), flush: async () => {}, close: async () => {} };
  return { trail: new AuditTrail(log), events };
}

describe('per-call audit points', () => {
  it('with auditing off record nothing and make no run id', async () => {
    const { trail: t, events } = trail(undefined);
    expect(t.plan(loaded, () => plan)).toBe(plan);
    const run = t.runStart({ capabilityId: 'acme.t', limits }, 'worker');
    expect(run.run).toBe('');
    t.runEnd({ ...run, error: new Error('x') });
    expect(await t.escalation('acme.t', { tier: 'process', reason: 'r' }, async () => ({ tier: 'process', reason: 'r' }))).toEqual({
      tier: 'process',
      reason: 'r',
    });
    expect(events).toEqual([]);
  });

  it('with auditing on the same calls record grant, run.start, run.end and escalation lines', async () => {
    const { trail: t, events } = trail('/tmp/audit.jsonl');
    t.plan(loaded, () => plan);
    const run = t.runStart({ capabilityId: 'acme.t', limits }, 'worker');
    expect(run.run).toMatch(/^[0-9a-f-]{36}$/);
    t.runEnd(run);
    await t.escalation('acme.t', { tier: 'process', reason: 'r' }, async () => ({ tier: 'process', reason: 'r' }));
    expect(events.map((e) => e.event)).toEqual(['grant', 'run.start', 'run.end', 'escalation']);
  });
});
