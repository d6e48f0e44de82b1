// Per-call grants (rt.run(id, input, { grants })): what one call may have beyond
// the runtime-wide policy. Each is held to the policy's `perCall` ceiling first
// (outside it: PERMISSION_DENIED naming every entry, never dropped), then joins
// the policy's grants for this call only, so the manifest's request still bounds
// what runs. A manifest fs path `$name` is filled in by the call's `dirs.name`,
// which also grants that directory to the call for the access the manifest asks.
// Pure: the disk and the current directory come in (grants/fs.ts rules the paths).
import path from 'node:path';
import { CapsuleError } from '../errors.js';
import { intersectEnv } from './env.js';
import { type FsPolicy, outsideCeiling, type PathFacts } from './fs.js';
import { intersectNet } from './net.js';
import type { Permissions } from './permissions.js';

/** What a caller may grant one call. */
export interface CallGrants {
  fs?: { read?: string[]; write?: string[] };
  /** `NAME=value` (or `NAME`, the host's value). */
  env?: string[];
  net?: { outbound?: string[] };
  /** Fills the manifest's symbolic fs paths: `{ workspace: '/srv/ws/u1' }` for `$workspace`. */
  dirs?: Record<string, string>;
  /** Key/value configuration the guest reads through capsule:host/config. */
  config?: Record<string, string>;
}

/** The policy's perCall ceiling (schema/policy.schema.json). */
export interface PerCallCeiling {
  fs?: { read?: string[]; write?: string[] };
  env?: string[];
  net?: { outbound?: string[] };
  config?: boolean | string[];
}

const SYMBOLIC = /^\$([A-Za-z_][A-Za-z0-9_-]*)$/;

/** A manifest fs entry that a call's `dirs` fills in (`$workspace` → `workspace`). */
export function symbolicDir(entry: string): string | undefined {
  return SYMBOLIC.exec(entry)?.[1];
}

export interface AppliedCallGrants {
  /** The manifest's request with its symbolic paths filled in. */
  request: Permissions;
  /** This call's grant, to join the policy's (undefined: none). */
  grant?: Permissions;
  /** The call's config, held to the ceiling's keys. */
  config: Record<string, string>;
}

/**
 * Fills the request's symbolic paths and checks the call's grants against `ceiling`.
 * `cwd` resolves relative per-call paths; `policy` is where ceiling paths resolve.
 */
export function applyCallGrants(
  id: string,
  req: Permissions,
  call: CallGrants | undefined,
  ceiling: PerCallCeiling | undefined,
  policy: Pick<FsPolicy, 'baseDir' | 'source'>,
  cwd: string,
  disk: PathFacts,
): AppliedCallGrants {
  const dirs = call?.dirs ?? {};
  const read = abs(call?.fs?.read, cwd);
  const write = abs(call?.fs?.write, cwd);
  const unfilled: string[] = [];
  const fill = (kind: 'read' | 'write', into: string[]) =>
    (req.fs?.[kind] ?? []).map((entry) => {
      const name = symbolicDir(entry);
      if (name === undefined) return entry;
      const dir = dirs[name];
      if (dir === undefined) {
        unfilled.push(`fs.${kind} ${entry}`);
        return entry;
      }
      const full = path.resolve(cwd, dir);
      into.push(full);
      return full;
    });
  const request: Permissions = req.fs ? { ...req, fs: { ...req.fs, read: fill('read', read), write: fill('write', write) } } : req;
  if (unfilled.length > 0) {
    throw new CapsuleError('PERMISSION_DENIED', `${id} requests ${unfilled.join('; ')}, which this call's grants do not fill in (grants.dirs)`, {
      notGranted: unfilled,
    });
  }
  const outside: string[] = [];
  const fsRead = ceiling?.fs?.read ?? [];
  const fsWrite = ceiling?.fs?.write ?? [];
  // Reading is within a read or a write ceiling, as with grants.
  outside.push(...outsideCeiling(read, [...fsRead, ...fsWrite], policy.baseDir, policy.source, disk).map((p) => `fs.read ${p}`));
  outside.push(...outsideCeiling(write, fsWrite, policy.baseDir, policy.source, disk).map((p) => `fs.write ${p}`));
  const env = call?.env ?? [];
  const envNames = env.map((e) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e));
  intersectEnv(envNames, ceiling?.env ?? [], {}, outside);
  const net = call?.net?.outbound ?? [];
  intersectNet(id, net, [{ net: { outbound: ceiling?.net?.outbound ?? [] } }], outside);
  const config = call?.config ?? {};
  const keys = ceiling?.config;
  for (const key of Object.keys(config)) if (keys !== true && !(Array.isArray(keys) && keys.includes(key))) outside.push(`config ${key}`);
  if (outside.length > 0) {
    throw new CapsuleError(
      'PERMISSION_DENIED',
      `${id}: this call's grants go beyond what the policy (${policy.source}) lets a call be given (perCall): ${outside.join('; ')}`,
      { outsideCeiling: outside },
    );
  }
  const any = read.length + write.length + env.length + net.length > 0;
  const grant: Permissions | undefined = any
    ? { fs: { read, write }, ...(env.length ? { env } : {}), ...(net.length ? { net: { outbound: net } } : {}) }
    : undefined;
  return { request, ...(grant ? { grant } : {}), config };
}

function abs(paths: string[] | undefined, cwd: string): string[] {
  return (paths ?? []).map((p) => path.resolve(cwd, p));
}

/** A call's `grants` option, checked for shape (USAGE naming the field); values are checked by applyCallGrants. */
export function checkCallGrants(v: unknown, id: string): void {
  const bad = (what: string) => new CapsuleError('USAGE', `${id}: option grants${what}`);
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  const strings = (x: unknown, where: string) => {
    if (x !== undefined && !(Array.isArray(x) && x.every((s) => typeof s === 'string' && s.length > 0))) throw bad(`${where} must be a list of strings`);
  };
  const stringMap = (x: unknown, where: string) => {
    if (x !== undefined && !(isObj(x) && Object.values(x).every((s) => typeof s === 'string'))) throw bad(`${where} must map names to strings`);
  };
  if (!isObj(v)) throw bad(' must be an object { fs?, env?, net?, dirs?, config? }');
  const known = new Set(['fs', 'env', 'net', 'dirs', 'config']);
  const unknown = Object.keys(v).find((k) => !known.has(k));
  if (unknown !== undefined) throw bad(`.${unknown} is not a per-call grant (fs, env, net, dirs, config)`);
  if (v.fs !== undefined) {
    if (!isObj(v.fs)) throw bad('.fs must be { read?, write? }');
    strings(v.fs.read, '.fs.read');
    strings(v.fs.write, '.fs.write');
  }
  strings(v.env, '.env');
  if (v.net !== undefined) {
    if (!isObj(v.net)) throw bad('.net must be { outbound? }');
    strings(v.net.outbound, '.net.outbound');
  }
  stringMap(v.dirs, '.dirs');
  stringMap(v.config, '.config');
}
