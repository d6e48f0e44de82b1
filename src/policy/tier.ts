// Which tier a call runs in. A capability that must escalate never runs weaker:
// without a usable runner it is ESCALATION_UNAVAILABLE, unless the policy names a fallback.
import { CapsuleError } from '../errors.js';
import type { CapabilityRequest } from './request.js';
import { matchesAny } from './id-glob.js';
import type { PolicyDocument, PolicyGrant } from './policy.js';

export type Tier = 'inline' | 'worker' | 'process' | 'vm';
export const TIER_ORDER: Tier[] = ['inline', 'worker', 'process', 'vm'];
const strength = (t: Tier) => TIER_ORDER.indexOf(t);

export interface TierDecision {
  tier: Tier;
  /** Why this tier, in one line (shown by inspect). */
  reason: string;
}

/** The tier a capability needs before the caller's wishes are considered. */
export function requiredTier(m: CapabilityRequest, policy: PolicyDocument): TierDecision {
  if (m.securityLevel === 'full') return { tier: 'vm', reason: 'securityLevel full always runs in a VM' };
  if (m.isolation === 'vm') return { tier: 'vm', reason: 'the manifest asks for isolation vm' };
  if (matchesAny(policy.escalate, m.id)) return { tier: 'vm', reason: 'the policy escalates it (escalate)' };
  if (m.isolation === 'process') return { tier: 'process', reason: 'the manifest asks for isolation process' };
  return { tier: 'worker', reason: 'default tier' };
}

/**
 * The tier for one call: a stronger tier than required is always allowed; a weaker
 * one only where a policy grant names it (e.g. `inline` for benchmarks).
 */
export function chooseTier(
  m: CapabilityRequest,
  policy: PolicyDocument,
  grants: PolicyGrant[],
  requested: Tier | undefined,
): TierDecision {
  const required = requiredTier(m, policy);
  const allowedWeaker = grants.map((g) => g.tier).filter((t): t is Tier => t !== undefined);
  const wish = requested ?? (m.isolation && m.isolation !== 'auto' ? m.isolation : undefined);
  if (wish === undefined || wish === required.tier) return required;
  if (strength(wish) > strength(required.tier)) return { tier: wish, reason: `requested ${wish}` };
  if (required.tier !== 'vm' && allowedWeaker.includes(wish)) {
    return { tier: wish, reason: `requested ${wish}; the policy grants tier ${wish}` };
  }
  throw new CapsuleError(
    'PERMISSION_DENIED',
    `${m.id} may not run in tier ${wish}: it needs ${required.tier} (${required.reason}) and no policy grant names tier ${wish}`,
  );
}
