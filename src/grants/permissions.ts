// What a capability may ask for and a policy may grant: the same shapes on
// both sides (a manifest's `permissions`, a policy grant), so that
// src/grants/intersect.ts can intersect them. Also the request the --allow-*
// flags make.
import path from 'node:path';

export type SecurityLevel = 'pure' | 'controlled' | 'sandboxed' | 'full';

export interface Permissions {
  host?: string[];
  fs?: { read?: string[]; write?: string[]; blocked?: string[] };
  env?: string[];
  /** `blocked`: policy grants only (the capability schema has no such field). */
  net?: { outbound?: string[]; blocked?: string[] };
  clocks?: boolean;
  random?: boolean;
}

/** The --allow-* flags' values, split at commas. */
export interface AllowFlags {
  host: string[];
  read: string[];
  write: string[];
  env: string[];
  net: string[];
}

/**
 * What the --allow-* flags ask for (for a bare .wasm they are the request as
 * well as the grant). Paths resolve against `cwd`, not against the policy
 * file's directory.
 */
export function permissionsFromFlags(f: AllowFlags, cwd: string): Permissions {
  const read = f.read.map((p) => path.resolve(cwd, p));
  const write = f.write.map((p) => path.resolve(cwd, p));
  const p: Permissions = {};
  if (f.host.length) p.host = f.host;
  if (read.length || write.length) p.fs = { read, write };
  if (f.env.length) p.env = f.env;
  if (f.net.length) p.net = { outbound: f.net };
  return p;
}
