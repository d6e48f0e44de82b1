// Which tier a call runs in. A capability that must escalate never runs weaker:
// without a usable runner it is ESCALATION_UNAVAILABLE, unless the policy names a
// fallback (applied by the runtime once it knows no runner is usable; see fallbackTier).
import { CapsuleError } from '../errors.js';
import type { CapabilityRequest } from './request.js';
import { matchesAny } from './id-glob.js';
import type { PolicyDocument, PolicyGrant } from './policy.js';

export type Tier = 'inline' | 'worker' | 'process' | 'vm';
export const TIER_ORDER: Tier[] = ['inline', 'worker', 'process', 'vm'];
const strength = (t: Tier) => TIER_ORDER.indexOf(t);

export interface TierDecision {
  tier: Tier;
  /** Why this tier, in one line (shown by inspect, recorded by audit). */
  reason: string;
  /** The tier the capability needs, when this call runs in another (a stronger tier asked for, or a fallback). */
  required?: Tier;
  /** Set when the policy's fallback replaced this tier because it had no usable runner. */
  fallbackFrom?: Tier;
  /** A warning the runtime reports (logger, stats, audit), e.g. for a fallback. */
  warning?: string;
  /** The runner that serves the tier (`apple-container`, `podman`, `bwrap`, ...), once known. */
  runner?: string;
}

/** The tier a capability needs before the caller's wishes are considered. */
export function requiredTier(m: CapabilityRequest, policy: PolicyDocument): TierDecision {
  const vm = (reason: string): TierDecision => ({ tier: 'vm', reason });
  if (m.runtime === 'container') return vm('a container capability always runs in a VM');
  if (m.securityLevel === 'full') return vm('securityLevel full always runs in a VM');
  if (m.isolation === 'vm') return vm('the manifest asks for isolation vm');
  if (matchesAny(policy.escalate, m.id)) return vm('the policy escalates it (escalate)');
  if (m.isolation === 'process') return { tier: 'process', reason: 'the manifest asks for isolation process' };
  return { tier: 'worker', reason: 'default tier' };
}

/**
 * The tier for one call: a stronger tier than required is always allowed; a weaker
 * one only where a policy grant names it (e.g. `inline` for benchmarks).
 */
export function chooseTier(m: CapabilityRequest, policy: PolicyDocument, grants: PolicyGrant[], requested: Tier | undefined): TierDecision {
  const required = requiredTier(m, policy);
  const allowedWeaker = grants.map((g) => g.tier).filter((t): t is Tier => t !== undefined);
  const wish = requested ?? (m.isolation && m.isolation !== 'auto' ? m.isolation : undefined);
  if (wish === undefined || wish === required.tier) return required;
  if (strength(wish) > strength(required.tier)) return { tier: wish, reason: `requested ${wish}`, required: required.tier };
  if (required.tier !== 'vm' && allowedWeaker.includes(wish)) {
    return { tier: wish, reason: `requested ${wish}; the policy grants tier ${wish}`, required: required.tier };
  }
  throw new CapsuleError(
    'PERMISSION_DENIED',
    `${m.id} may not run in tier ${wish}: it needs ${required.tier} (${required.reason}) and no policy grant names tier ${wish}`,
  );
}

/**
 * What happens when the decided tier has no usable runner (`why`): the policy's
 * explicit fallback, reported as a warning, or ESCALATION_UNAVAILABLE. Never a
 * silent weaker run; a container capability has nowhere else to run.
 */
export function fallbackTier(m: CapabilityRequest, policy: PolicyDocument, decided: TierDecision, why: string): TierDecision {
  const fallback = policy.fallback;
  const required = decided.required === undefined || decided.required === decided.tier;
  if (fallback && required && m.runtime !== 'container') {
    const warning = `${m.id} needs tier ${decided.tier} (${decided.reason}) but ${why}; running it in tier ${fallback} because the policy names fallback ${fallback}`;
    return {
      tier: fallback,
      reason: `policy fallback ${fallback}: ${decided.reason}, and no ${decided.tier} runner is usable`,
      required: decided.tier,
      fallbackFrom: decided.tier,
      warning,
    };
  }
  const note = m.runtime === 'container' && fallback ? ' (a policy fallback cannot run a container capability)' : '';
  throw new CapsuleError('ESCALATION_UNAVAILABLE', `${m.id} must run in tier ${decided.tier} (${decided.reason}) and ${why}; it was not run${note}`, {
    required: decided.tier,
    reason: decided.reason,
    unavailable: why,
  });
}
