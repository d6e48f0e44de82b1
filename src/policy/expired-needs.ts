// What a call needs that an expired grant, and only an expired grant, would
// give: the requested permissions it would add, or the weaker tier it names.
import { CapsuleError } from '../errors.js';
import { type CallOverrides, type DecideContext, decide } from './decide.js';
import { contextExpired, type ExpiredNeed, isExpired } from './expiry.js';
import { matchesAny } from './id-glob.js';
import type { Policy } from './policy.js';
import type { CapabilityRequest } from './request.js';
import { chooseTier, type Tier } from './tier.js';

/** Throws CONTEXT_EXPIRED when the call needs something only an expired grant gave. */
export function assertNotExpired(m: CapabilityRequest, policy: Policy, ctx: DecideContext, call: CallOverrides & { tier?: Tier } = {}): void {
  const needs = expiredNeeds(m, policy, ctx, call);
  if (needs.length > 0) throw contextExpired(m.id, needs, m.securityLevel ?? 'pure');
}

export function expiredNeeds(m: CapabilityRequest, policy: Policy, ctx: DecideContext, call: CallOverrides & { tier?: Tier } = {}): ExpiredNeed[] {
  const { now } = ctx;
  const level = m.securityLevel ?? 'pure';
  const matching = policy.grants.filter((g) => matchesAny(g.grant.capabilities, m.id));
  const expired = matching.filter((g) => isExpired(g, now, level));
  if (expired.length === 0) return [];
  const active = new Set(matching.filter((g) => !isExpired(g, now, level)));
  // Compare what is granted with and without each expired grant; an uncovered
  // request must show up as "not granted" here, not stop the comparison.
  const lenient: Policy = { ...policy, doc: { ...policy.doc, onUngranted: 'drop' } };
  const without = decide(m, lenient, ctx, call, (g) => active.has(g));
  const tierRefused = call.tier !== undefined && refusesTier(m, policy, without.policyGrants, call.tier);
  const needs: ExpiredNeed[] = [];
  for (const grant of expired) {
    const withIt = decide(m, lenient, ctx, call, (g) => active.has(g) || g === grant);
    for (const need of without.notGranted) {
      if (!withIt.notGranted.includes(need) && !needs.some((n) => n.need === need)) needs.push({ need, grant });
    }
    if (tierRefused && call.tier && !refusesTier(m, policy, withIt.policyGrants, call.tier)) {
      if (!needs.some((n) => n.need.startsWith('tier '))) needs.push({ need: `tier ${call.tier}`, grant });
    }
  }
  return needs;
}

function refusesTier(m: CapabilityRequest, policy: Policy, grants: ReturnType<typeof decide>['policyGrants'], tier: Tier): boolean {
  try {
    chooseTier(m, policy.doc, grants, tier);
    return false;
  } catch (e) {
    if (e instanceof CapsuleError) return true;
    throw e;
  }
}
