// One plan per call: what a capability is granted, how its imports link, its
// limits and its tier, or the refusal that stops it before any guest code runs.
// Pure: the host (cwd, environment, disk answers, now) comes in as a DecideContext,
// so run, inspect and the audit trail read one object instead of each redoing it.
import { CapsuleError } from '../errors.js';
import { checkImports, type ImportLink, linkReport } from '../grants/interfaces.js';
import { type CallOverrides, type Decision, type DecideContext, decide } from '../policy/decide.js';
import { assertNotExpired } from '../policy/expired-needs.js';
import type { Policy } from '../policy/policy.js';
import { chooseTier, type Tier, type TierDecision } from '../policy/tier.js';
import type { CapabilityRequest } from '../policy/request.js';
import { type ComponentShape, notAWorld } from '../sandbox/describe.js';

/** What is planned for: the manifest, and the component's shape (none for a container capability). */
export interface PlanSubject {
  manifest: CapabilityRequest;
  component?: { shape: ComponentShape };
}

export interface Plan {
  decision: Decision;
  /** How each of the component's imports links (empty for a container capability). */
  imports: ImportLink[];
  /** The tier the policy decides; the runtime then finds a runner for it (Runtime.resolveTier). */
  tier: TierDecision;
}

/** A plan as far as it got: what inspect shows, with the refusal a run would get. */
export interface PlanAttempt {
  /** The grants and limits, when the intersection itself did not refuse. */
  decision?: Decision;
  /** With nothing granted when the decision was refused. */
  imports: ImportLink[];
  /** The tier, when the policy allows one; shown even when something else refuses the run. */
  tier?: TierDecision;
  plan?: Plan;
  refusal?: CapsuleError;
}

export type PlanCall = CallOverrides & { tier?: Tier };

/**
 * The plan for one call, or what stops it, in the order a run is refused:
 * what only an expired grant gave (CONTEXT_EXPIRED), uncovered requests, ungranted
 * imports (IMPORT_DENIED), a world the component does not have, then the tier asked for.
 */
export function attemptPlan(s: PlanSubject, policy: Policy, ctx: DecideContext, call: PlanCall = {}): PlanAttempt {
  const m = s.manifest;
  const shape = s.component?.shape;
  const attempt: PlanAttempt = { imports: linkReport(shape?.imports ?? [], undefined) };
  const decided = captured(() => decide(m, policy, ctx, call));
  const tier = decided instanceof CapsuleError ? undefined : captured(() => chooseTier(m, policy.doc, decided.policyGrants, call.tier));
  if (!(decided instanceof CapsuleError)) {
    attempt.decision = decided;
    attempt.imports = linkReport(shape?.imports ?? [], decided.grants.host);
    if (!(tier instanceof CapsuleError)) attempt.tier = tier;
  }
  const refusal = captured(() => {
    assertNotExpired(m, policy, ctx, call);
    if (decided instanceof CapsuleError) throw decided;
    if (shape) checkShape(shape, m, decided.grants.host);
    if (tier instanceof CapsuleError) throw tier;
  });
  if (refusal instanceof CapsuleError) attempt.refusal = refusal;
  else if (attempt.decision && attempt.tier) attempt.plan = { decision: attempt.decision, imports: attempt.imports, tier: attempt.tier };
  return attempt;
}

/** The plan for one call; throws the first refusal (see attemptPlan). */
export function planCall(s: PlanSubject, policy: Policy, ctx: DecideContext, call: PlanCall = {}): Plan {
  const a = attemptPlan(s, policy, ctx, call);
  if (a.refusal) throw a.refusal;
  if (!a.plan) throw new CapsuleError('INTERNAL', `${s.manifest.id}: the plan has no refusal and no result`);
  return a.plan;
}

/** The component links under the granted host interfaces and has the world its manifest names. */
function checkShape(shape: ComponentShape, m: CapabilityRequest, host: string[]): void {
  checkImports(shape.imports, host);
  if (shape.world === null) throw notAWorld(shape);
  if (shape.world !== m.world) throw notAWorld(shape, m.world);
}

/** The value, or the CapsuleError that `f` threw (anything else is a bug and goes on up). */
function captured<T>(f: () => T): T | CapsuleError {
  try {
    return f();
  } catch (e) {
    if (e instanceof CapsuleError) return e;
    throw e;
  }
}
