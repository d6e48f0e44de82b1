// Security levels (seed CCOS): what a manifest at each level may ask for at most.
// Defaults are the same at every level: nothing is granted unless the policy
// grants it. The ceiling is checked against the manifest's request, so a `pure`
// capability that asks for the network is refused whatever the policy says.
// `full` additionally always runs in a VM (policy/tier.ts).
import { CapsuleError } from '../errors.js';
import type { Permissions, SecurityLevel } from './permissions.js';

export interface LevelCeiling {
  fsRead: boolean;
  fsWrite: boolean;
  env: boolean;
  net: boolean;
}

export const LEVELS: Record<SecurityLevel, LevelCeiling> = {
  pure: { fsRead: false, fsWrite: false, env: false, net: false },
  controlled: { fsRead: true, fsWrite: false, env: true, net: false },
  sandboxed: { fsRead: true, fsWrite: true, env: true, net: true },
  full: { fsRead: true, fsWrite: true, env: true, net: true },
};

/**
 * How long a policy grant that names no `expiresAt` or `ttlSeconds` lasts for a
 * capability of each level, from when the runtime loaded the policy (seed CCOS:
 * a controlled context expires after an hour, a sandboxed one after 10 minutes;
 * `full`, which CCOS leaves open, takes the sandboxed lifetime, as the most
 * dangerous level should not outlive it). null: no end. A policy's
 * `levels.<level>.ttlSeconds` replaces these.
 */
export const LEVEL_TTL_SECONDS: Record<SecurityLevel, number | null> = {
  pure: null,
  controlled: 3600,
  sandboxed: 600,
  full: 600,
};

/**
 * How much a call's `run.end` audit line records beyond what every call's lines
 * say (seed CCOS: minimal, standard, comprehensive audit for pure, controlled,
 * sandboxed contexts; `full` takes the sandboxed one):
 *   minimal        every decision and outcome (load, grant, link, denials, limits, run start/end)
 *   standard       + the sizes of the input and the output (`inputBytes`, `outputBytes`)
 *   comprehensive  + their SHA-256 (`inputSha256`, `outputSha256`): what went in and out, provably, without the content
 * A policy's `levels.<level>.audit` replaces these.
 */
export type AuditDepth = 'minimal' | 'standard' | 'comprehensive';
export const LEVEL_AUDIT: Record<SecurityLevel, AuditDepth> = {
  pure: 'minimal',
  controlled: 'standard',
  sandboxed: 'comprehensive',
  full: 'comprehensive',
};

export function auditDepth(levels: { [L in SecurityLevel]?: { audit?: AuditDepth } } | undefined, level: SecurityLevel): AuditDepth {
  return levels?.[level]?.audit ?? LEVEL_AUDIT[level];
}

/** The weakest level whose ceiling allows `p` (used for a bare .wasm run with --allow-* flags). */
export function levelFor(p: Permissions): SecurityLevel {
  if (p.fs?.write?.length || p.net?.outbound?.length) return 'sandboxed';
  if (p.fs?.read?.length || p.env?.length) return 'controlled';
  return 'pure';
}

/** Throws MANIFEST_INVALID when the request exceeds its level's ceiling. */
export function checkLevel(id: string, level: SecurityLevel, p: Permissions): void {
  const c = LEVELS[level];
  const over: string[] = [];
  if (!c.fsRead && p.fs?.read?.length) over.push('fs.read');
  if (!c.fsWrite && p.fs?.write?.length) over.push('fs.write');
  if (!c.env && p.env?.length) over.push('env');
  if (!c.net && p.net?.outbound?.length) over.push('net.outbound');
  if (over.length > 0) {
    throw new CapsuleError('MANIFEST_INVALID', `${id}: securityLevel ${level} does not allow ${over.join(', ')} (see docs/security.md, security levels)`, {
      field: 'securityLevel',
      over,
    });
  }
}
