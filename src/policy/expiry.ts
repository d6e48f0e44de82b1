// Grant lifetime. A grant with `expiresAt` (ISO date-time) or `ttlSeconds`
// (counted from when the runtime loaded the policy) stops applying at the
// earlier of the two. A call that needs something only an expired grant gave
// fails with CONTEXT_EXPIRED naming that grant, instead of being silently
// refused or run without it.
import { CapsuleError } from '../errors.js';
import { LEVEL_TTL_SECONDS } from '../grants/levels.js';
import type { SecurityLevel } from '../grants/permissions.js';
import type { CapsulePolicy } from '../schema-types.js';
import type { PolicyGrant } from './policy.js';

/** A policy grant with where it sits in the policy, for messages. */
export interface NumberedGrant {
  /** 1-based position in the policy's `grants` (flag grants follow the file's). */
  index: number;
  grant: PolicyGrant;
  /** When it stops applying (ms since the epoch), by its own expiresAt/ttlSeconds; undefined: it names neither. */
  expiresAt?: number;
  /** A grant that names neither ends by the level of the capability it is applied to (LEVEL_TTL_SECONDS, policy `levels`). */
  levelEnds?: Partial<Record<SecurityLevel, number>>;
}

/**
 * `expiresAt` must name a finite instant. The schema's date-time format admits
 * strings Date.parse cannot read (a leap second `…T23:59:60Z`): NaN would compare
 * false against every clock, so such a grant would never expire (and would cancel
 * its ttlSeconds).
 */
export function checkExpiresAt(grant: PolicyGrant, where: string): void {
  if (grant.expiresAt === undefined) return;
  const t = Date.parse(grant.expiresAt);
  if (!Number.isFinite(t) || !Number.isFinite(new Date(t).getTime())) {
    throw new CapsuleError(
      'POLICY_INVALID',
      `${where} ${JSON.stringify(grant.expiresAt)} is not a time capsule can compare (use e.g. 2030-01-01T00:00:00Z; no leap seconds)`,
    );
  }
}

/** When `expiresAt` ends; one that does not parse counts as long expired (fail closed; checkExpiresAt refuses it at load). */
function endOf(expiresAt: string): number {
  const t = Date.parse(expiresAt);
  return Number.isFinite(t) ? t : 0;
}

export function numberGrants(grants: PolicyGrant[], loadedAt: number, levels: CapsulePolicy['levels'] = {}): NumberedGrant[] {
  const levelEnds: Partial<Record<SecurityLevel, number>> = {};
  for (const [level, fallback] of Object.entries(LEVEL_TTL_SECONDS) as [SecurityLevel, number | null][]) {
    const given = levels?.[level]?.ttlSeconds;
    const ttl = given === undefined ? fallback : given;
    if (ttl !== null) levelEnds[level] = loadedAt + ttl * 1000;
  }
  return grants.map((grant, i) => {
    if (grant.expiresAt === undefined && grant.ttlSeconds === undefined) return { index: i + 1, grant, levelEnds };
    const ends = [
      grant.expiresAt === undefined ? Infinity : endOf(grant.expiresAt),
      grant.ttlSeconds === undefined ? Infinity : loadedAt + grant.ttlSeconds * 1000,
    ];
    return { index: i + 1, grant, expiresAt: Math.min(...ends) };
  });
}

/** When `g` stops applying to a capability of `level`; undefined: never. */
export function endFor(g: NumberedGrant, level: SecurityLevel): number | undefined {
  return g.expiresAt ?? g.levelEnds?.[level];
}

export function isExpired(g: NumberedGrant, now: number, level: SecurityLevel): boolean {
  const end = endFor(g, level);
  return end !== undefined && now >= end;
}

/** `grant #2 (capabilities "demo.*")` */
export function describeGrant(g: NumberedGrant): string {
  return `grant #${g.index} (capabilities ${JSON.stringify(g.grant.capabilities)})`;
}

/** What a call needs that only an expired grant would give, one item per need. */
export interface ExpiredNeed {
  need: string;
  grant: NumberedGrant;
}

export function contextExpired(id: string, needs: ExpiredNeed[], level: SecurityLevel): CapsuleError {
  const parts = needs.map((n) => {
    const byLevel =
      n.grant.expiresAt === undefined ? ` (the ${level} level's default lifetime; set ttlSeconds, or the policy's levels.${level}.ttlSeconds)` : '';
    return `${n.need}: ${describeGrant(n.grant)} expired at ${new Date(endFor(n.grant, level) ?? 0).toISOString()}${byLevel}`;
  });
  return new CapsuleError('CONTEXT_EXPIRED', `${id}: ${parts.join('; ')}`, {
    expired: needs.map((n) => ({ need: n.need, grant: n.grant.index })),
  });
}
