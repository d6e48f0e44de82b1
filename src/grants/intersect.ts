// fs, env and net: what runs is the manifest's request ∩ the policy's grants.
// A request no grant covers is refused at load, naming it, unless the policy
// says `"onUngranted": "drop"` (then it is left out and reported by inspect).
// Pure: the current directory, the host's environment and the disk's answers
// come in as `HostView` (src/policy/decide.ts passes the real ones).
import { CapsuleError } from '../errors.js';
import { intersectEnv } from './env.js';
import { type FsGrant, type FsPolicy, intersectFs, type PathFacts } from './fs.js';
import { intersectNet } from './net.js';
import type { Permissions } from './permissions.js';

/** The policy as the intersection reads it (src/policy/policy.ts's Policy is one). */
export interface GrantingPolicy extends FsPolicy {
  doc: { onUngranted?: 'refuse' | 'drop' };
}

/** What the intersection needs to know about the host it plans for. */
export interface HostView {
  /** Absolute: a manifest's relative paths resolve here. */
  cwd: string;
  /** Where an env grant without a value takes it from. */
  env: Readonly<Record<string, string | undefined>>;
  disk: PathFacts;
}

export interface Scoped {
  fs: FsGrant;
  env: Record<string, string>;
  net: string[];
  notGranted: string[];
}

/**
 * Clocks and random are granted when requested, unless a matching grant says
 * false (then they still link, and every call fails with PERMISSION_DENIED).
 */
export function grantedSwitch(key: 'clocks' | 'random', req: Permissions, grants: Permissions[]): boolean {
  return req[key] === true && !grants.some((g) => g[key] === false);
}

export function intersectPermissions(id: string, req: Permissions, grants: Permissions[], policy: GrantingPolicy, host: HostView): Scoped {
  const uncovered: string[] = [];
  const fs = intersectFs(id, req, grants, policy, host.cwd, host.disk, uncovered);
  const env = intersectEnv(
    req.env ?? [],
    grants.flatMap((g) => g.env ?? []),
    host.env,
    uncovered,
  );
  const net = intersectNet(id, req.net?.outbound ?? [], grants, uncovered);
  if (uncovered.length > 0 && policy.doc.onUngranted !== 'drop') {
    throw new CapsuleError(
      'PERMISSION_DENIED',
      `${id} requests ${uncovered.join('; ')}, which the policy (${policy.source}) does not grant; ` +
        'grant it, or set "onUngranted": "drop" to run without it',
      { notGranted: uncovered },
    );
  }
  return { fs, env, net, notGranted: uncovered };
}
