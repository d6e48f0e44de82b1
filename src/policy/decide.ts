// Effective grants and limits for one capability: manifest request ∩ policy,
// limits = min(request or default, policy ceiling, per-call override). Pure:
// the current directory, the environment, the time and the disk's answers come
// in as a DecideContext (the runtime passes currentHost(), src/host-paths.ts).
import type { CapabilityRequest } from './request.js';
import type { Grants, Limits } from '../sandbox/job.js';
import { intersectHost } from '../grants/interfaces.js';
import { blockedNet } from '../grants/net.js';
import { grantedSwitch, type HostView, intersectPermissions } from '../grants/intersect.js';
import { checkLevel } from '../grants/levels.js';
import type { SecurityLevel } from '../grants/permissions.js';
import { applyCallGrants, type CallGrants } from '../grants/per-call.js';
import { isExpired, type NumberedGrant } from './expiry.js';
import { matchesAny } from './id-glob.js';
import type { Policy, PolicyGrant } from './policy.js';

export const DEFAULT_LIMITS: Limits = {
  memoryBytes: 128 * 1024 * 1024,
  timeoutMs: 10_000,
  outputBytes: 1024 * 1024,
  inputBytes: 16 * 1024 * 1024,
};

/** Absolute ceilings, whatever manifest or policy say (SPEC: 1 GiB, 5 minutes). */
export const HARD_LIMITS: Limits = {
  memoryBytes: 1024 * 1024 * 1024,
  timeoutMs: 300_000,
  outputBytes: 256 * 1024 * 1024,
  inputBytes: 256 * 1024 * 1024,
};

/** The schema's ceiling on cpuMs (5 minutes, as timeoutMs). */
export const HARD_CPU_MS = 300_000;

/** Disk and descriptor limits of capsule's wasi:filesystem: always set, so a writable grant cannot fill the disk. */
export const DEFAULT_DISK_LIMITS = { writeBytes: 1024 * 1024 * 1024, files: 10_000, openFiles: 256 } as const;
/** Open descriptors share the host process's own limit (often 1024): one call may not take most of it. */
export const HARD_OPEN_FILES = 4096;
/** Outgoing HTTP connections per call (limits.connections) when neither manifest nor policy says. */
export const DEFAULT_CONNECTIONS = 256;
/** The limits with a default but no hard bound of their own (openFiles excepted): the manifest's, under the policy's ceiling. */
const BOUNDED_DEFAULTS = { ...DEFAULT_DISK_LIMITS, connections: DEFAULT_CONNECTIONS } as const;
type BoundedLimit = keyof typeof BOUNDED_DEFAULTS;

type RequiredLimit = 'memoryBytes' | 'timeoutMs' | 'outputBytes' | 'inputBytes';

export interface CallOverrides {
  timeoutMs?: number;
  /** May only lower the manifest's and the policy's cpuMs. */
  cpuMs?: number;
  /** A fuel budget for a deterministic stop point; may only lower the manifest's and the policy's. */
  fuel?: number;
  memoryLimitBytes?: number;
  outputBytes?: number;
  inputBytes?: number;
  /** May only lower the manifest's and the policy's disk and descriptor limits. */
  writeBytes?: number;
  files?: number;
  openFiles?: number;
  /** May only lower the manifest's and the policy's limits.connections. */
  connections?: number;
  /** What this call is granted beyond the policy, held to its perCall ceiling (grants/per-call.ts). */
  grants?: CallGrants;
}

export interface Decision {
  grants: Grants;
  limits: Limits;
  /** The policy grants that apply to this capability. */
  policyGrants: PolicyGrant[];
  /** What the manifest requested and did not get, one line each. */
  notGranted: string[];
}

/** What a decision needs from the host it is made on: the current directory, the environment, the disk, and now (ms since the epoch). */
export interface DecideContext extends HostView {
  now: number;
}

/** Which policy grants count; by default those not expired at `ctx.now`. */
export type GrantFilter = (g: NumberedGrant) => boolean;
export const unexpiredAt =
  (now: number, level: SecurityLevel): GrantFilter =>
  (g) =>
    !isExpired(g, now, level);

/**
 * One of the four limits every call has: the manifest's (or the default), under the
 * policy's ceiling and capsule's hard bound, and lowered by the call's override.
 */
export function requiredLimit(m: Pick<CapabilityRequest, 'limits'>, policy: Policy, key: RequiredLimit, override?: number): number {
  const ceilings = policy.doc.ceilings ?? {};
  return Math.min(m.limits?.[key] ?? DEFAULT_LIMITS[key], ceilings[key] ?? HARD_LIMITS[key], HARD_LIMITS[key], override ?? Infinity);
}

export function grantsFor(policy: Policy, id: string, applies: GrantFilter): PolicyGrant[] {
  return policy.grants.filter((g) => applies(g) && matchesAny(g.grant.capabilities, id)).map((g) => g.grant);
}

export function decide(
  m: CapabilityRequest,
  policy: Policy,
  ctx: DecideContext,
  call: CallOverrides = {},
  applies: GrantFilter = unexpiredAt(ctx.now, m.securityLevel ?? 'pure'),
): Decision {
  const policyGrants = grantsFor(policy, m.id, applies);
  // The call's own grants join the policy's for this call only; the request still bounds them.
  const applied = applyCallGrants(m.id, m.permissions ?? {}, call.grants, policy.doc.perCall, policy, ctx.cwd, ctx.disk);
  const req = applied.request;
  const granting = applied.grant ? [...policyGrants, { capabilities: m.id, ...applied.grant }] : policyGrants;
  const { host, notGranted } = intersectHost(
    req.host ?? [],
    policyGrants.flatMap((g) => g.host ?? []),
  );
  const clocks = grantedSwitch('clocks', req, policyGrants);
  const random = grantedSwitch('random', req, policyGrants);
  if (req.clocks && !clocks) notGranted.push('clocks');
  if (req.random && !random) notGranted.push('random');
  checkLevel(m.id, m.securityLevel ?? 'pure', req);
  const scoped = intersectPermissions(m.id, req, granting, policy, ctx);
  notGranted.push(...scoped.notGranted);

  const ceilings = policy.doc.ceilings ?? {};
  const pick = (key: RequiredLimit, override: number | undefined) => requiredLimit(m, policy, key, override);
  // CPU and fuel budgets have no default (a call without one still has checks, for
  // interruption, and an unlimited budget): the smallest of what is set, if anything is.
  const budget = (key: 'cpuMs' | 'fuel', override: number | undefined) => {
    const set = [m.limits?.[key], ceilings[key], override].filter((v): v is number => v !== undefined);
    return set.length ? { [key]: Math.min(...set, key === 'cpuMs' ? HARD_CPU_MS : Infinity) } : {};
  };
  const bounded = (key: BoundedLimit, override: number | undefined) =>
    Math.min(m.limits?.[key] ?? BOUNDED_DEFAULTS[key], ceilings[key] ?? Infinity, key === 'openFiles' ? HARD_OPEN_FILES : Infinity, override ?? Infinity);
  return {
    grants: {
      host,
      clocks,
      random,
      env: scoped.env,
      fs: scoped.fs,
      net: scoped.net,
      netBlocked: blockedNet(policyGrants),
      ...configOf(policyGrants, applied.config),
    },
    limits: {
      memoryBytes: pick('memoryBytes', call.memoryLimitBytes),
      timeoutMs: pick('timeoutMs', call.timeoutMs),
      outputBytes: pick('outputBytes', call.outputBytes),
      inputBytes: pick('inputBytes', call.inputBytes),
      ...budget('cpuMs', call.cpuMs),
      ...budget('fuel', call.fuel),
      writeBytes: bounded('writeBytes', call.writeBytes),
      files: bounded('files', call.files),
      openFiles: bounded('openFiles', call.openFiles),
      connections: bounded('connections', call.connections),
    },
    policyGrants,
    notGranted,
  };
}

/** capsule:host/config's values: the policy grants' in order (a later one wins), then the call's. */
function configOf(grants: PolicyGrant[], call: Record<string, string>): { config?: Record<string, string> } {
  const config: Record<string, string> = Object.assign({}, ...grants.map((g) => g.config ?? {}), call);
  return Object.keys(config).length > 0 ? { config } : {};
}
