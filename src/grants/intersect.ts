// fs, env and net: what runs is the manifest's request ∩ the policy's grants.
// A request no grant covers is refused at load, naming it, unless the policy
// says `"onUngranted": "drop"` (then it is left out and reported by inspect).
import { CapsuleError } from '../errors.js';
import { NO_FS, type FsGrant } from '../sandbox/job.js';
import { parseHostPattern, patternCovers } from '../sandbox/net/host-pattern.js';
import { blockedEntry, grantPath, intersectPaths, preopensFor, realish } from './fs-paths.js';
import type { Policy, PolicyGrant } from './policy.js';
import type { Permissions } from './request.js';
import { pathsUnder } from './sensitive.js';
import { within } from '../sandbox/wasi/fs-scope.js';

export interface Scoped {
  fs: FsGrant;
  env: Record<string, string>;
  net: string[];
  notGranted: string[];
}

export function intersectPermissions(id: string, req: Permissions, grants: PolicyGrant[], policy: Policy): Scoped {
  const uncovered: string[] = [];
  const fs = intersectFs(id, req, grants, policy, uncovered);
  const env = intersectEnv(req.env ?? [], grants, uncovered);
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

function intersectFs(id: string, req: Permissions, grants: PolicyGrant[], policy: Policy, uncovered: string[]): FsGrant {
  const asked = (kind: 'read' | 'write') =>
    (req.fs?.[kind] ?? []).map((e) => grantPath(e, process.cwd(), 'MANIFEST_INVALID', `${id} permissions.fs.${kind}`));
  // A granted path swapped for a symlink since the policy was loaded grants nothing.
  const unmoved = (g: string) => policy.grantReal.get(g) === undefined || policy.grantReal.get(g) === realish(g);
  const given = (kind: 'read' | 'write') =>
    grants
      .flatMap((g) => (g.fs?.[kind] ?? []).map((e) => grantPath(e, policy.baseDir, 'POLICY_INVALID', policy.source)))
      .filter(unmoved);
  const write = intersectPaths(asked('write'), given('write'));
  // Reading is covered by a read or a write grant.
  const read = intersectPaths(asked('read'), [...given('read'), ...given('write')]);
  uncovered.push(...write.uncovered.map((p) => `fs.write ${p}`), ...read.uncovered.map((p) => `fs.read ${p}`));
  const all = [...read.kept, ...write.kept];
  if (all.length === 0) return NO_FS;
  // A request inside a broader grant (e.g. /etc/shadow under a read-only /) is still never granted.
  for (const p of all) {
    const hit = policy.sensitive.find((s) => within(s, p));
    if (hit) throw new CapsuleError('PERMISSION_DENIED', `${id} requests ${p}, but ${hit} is a sensitive path that can never be granted`, { path: p });
  }
  for (const p of write.kept) {
    const hit = policy.noWrite.find((s) => within(s, p));
    if (hit) throw new CapsuleError('PERMISSION_DENIED', `${id} requests ${p} writable, but ${hit} can never be written`, { path: p });
  }
  const entries = [
    ...(req.fs?.blocked ?? []).map((b) => blockedEntry(b, process.cwd())),
    ...grants.flatMap((g) => (g.fs?.blocked ?? []).map((b) => blockedEntry(b, policy.baseDir))),
  ];
  const globs = entries.flatMap((e) => e.globs.flatMap(withContents));
  const literal = entries.flatMap((e) => e.paths);
  const preopens = preopensFor(all);
  return {
    preopens,
    // Where each preopen resolved when this was decided: a link swapped in later is refused.
    preopenReal: Object.fromEntries(preopens.map((p) => [p, realish(p)])),
    read: read.kept,
    write: write.kept,
    blocked: [...new Set(globs)],
    blockedPaths: [...new Set([...literal, ...pathsUnder(all, policy.sensitive)])],
    readOnlyPaths: pathsUnder(write.kept, policy.noWrite),
  };
}

/** A blocked glob also blocks what lies below what it matches (`secret*` → `secret*` and `secret*\/**`). */
function withContents(glob: string): string[] {
  return glob.endsWith('/**') ? [glob] : [glob, `${glob.replace(/\/$/, '')}/**`];
}

function intersectEnv(asked: string[], grants: PolicyGrant[], uncovered: string[]): Record<string, string> {
  const given = new Map<string, string | undefined>();
  for (const entry of grants.flatMap((g) => g.env ?? [])) {
    const eq = entry.indexOf('=');
    if (eq < 0) given.set(entry, given.get(entry));
    else given.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  const env: Record<string, string> = {};
  for (const name of asked) {
    if (!given.has(name)) {
      uncovered.push(`env ${name}`);
      continue;
    }
    // A value from the policy wins; otherwise the host's, if it has one.
    const value = given.get(name) ?? process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function intersectNet(id: string, asked: string[], grants: PolicyGrant[], uncovered: string[]): string[] {
  const given = grants.flatMap((g) => g.net?.outbound ?? []).map((t) => parseHostPattern(t)).filter((p) => p !== undefined);
  const kept: string[] = [];
  for (const text of asked) {
    const p = parseHostPattern(text);
    if (!p) throw new CapsuleError('MANIFEST_INVALID', `${id}: permissions.net.outbound ${text} is not a host pattern`);
    if (given.some((g) => patternCovers(g, p))) kept.push(text);
    else uncovered.push(`net ${text}`);
  }
  return kept;
}
