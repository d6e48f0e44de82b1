// Loads the operator's policy (file or object), checked against its schema.
// No policy means: grant nothing beyond clocks/random a manifest requests.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { CapsuleError, messageOf } from '../errors.js';
import { describeErrors } from '../json-schema.js';
import { validatePolicy } from '../schema-validators.cjs';
import { parseJson } from '../json-text.js';
import { checkExpiresAt, type NumberedGrant, numberGrants } from './expiry.js';
import { parsePublicKey, type TrustedKey } from './keys.js';
import type { CapsulePolicy } from '../schema-types.js';
import { checkBlockedEntry, grantPath, realish } from '../grants/fs.js';
import { checkGrantedPatterns } from '../grants/net.js';
import { checkGrantable, noWritePaths, sensitivePaths, withRealForms } from '../grants/sensitive.js';
import { hostPaths } from '../host-paths.js';

// The policy document's types are generated from schema/policy.schema.json
// (scripts/schema-types.mjs): the schema is the one definition.
export type PolicyDocument = CapsulePolicy;
/** One grant: the same permission shapes a manifest requests, for the capabilities it names. */
export type PolicyGrant = NonNullable<CapsulePolicy['grants']>[number];
export type Ceilings = NonNullable<CapsulePolicy['ceilings']>;

export interface Policy {
  doc: PolicyDocument;
  /** Where relative paths in the policy resolve (the policy file's directory). */
  baseDir: string;
  source: string;
  /** When the runtime loaded it (ms since the epoch): `ttlSeconds` count from here. */
  loadedAt: number;
  /** `doc.grants` (and flag grants), numbered, with when each expires. */
  grants: NumberedGrant[];
  /** `doc.trustedKeys`, decoded. */
  keys: TrustedKey[];
  /** Host paths that can never be granted (system, user secrets, capsule's own files), with their real paths at load. */
  sensitive: string[];
  /** Host paths that can never be written, with everything below them (system trees, shell start-up files, capsule's install). */
  noWrite: string[];
  /** Each granted fs path's real path when the policy was loaded: a grant whose path later resolves elsewhere no longer applies. */
  grantReal: Map<string, string>;
}

/**
 * `ownFiles`: capsule's own files (audit log, cache dir) that no grant may reach;
 * the policy file itself is added here. `readOnly`: paths a guest may never write
 * (capsule's install, the capabilities directories in use).
 */
export async function loadPolicy(
  input: string | PolicyDocument | undefined,
  extraGrants: PolicyGrant[] = [],
  ownFiles: string[] = [],
  readOnly: string[] = [],
): Promise<Policy> {
  const loadedAt = Date.now();
  const policy = await readPolicy(input, loadedAt, { files: ownFiles, readOnly });
  if (extraGrants.length === 0) return policy;
  const own = { files: [...ownFiles, ...(path.isAbsolute(policy.source) ? [policy.source] : [])], readOnly };
  // Checked alone first, so that an error names where the bad grant came from.
  checkPolicy({ grants: extraGrants }, 'extra grants (--allow-* flags)', process.cwd(), loadedAt, own);
  const doc = { ...policy.doc, grants: [...(policy.doc.grants ?? []), ...extraGrants] };
  return checkPolicy(doc, policy.source, policy.baseDir, loadedAt, own);
}

/** capsule's own paths: `files` no grant may reach, `readOnly` no grant may write. */
interface Own {
  files: string[];
  readOnly: string[];
}

async function readPolicy(input: string | PolicyDocument | undefined, loadedAt: number, own: Own): Promise<Policy> {
  if (input === undefined) return checkPolicy({}, '(no policy)', process.cwd(), loadedAt, own);
  if (typeof input !== 'string') return checkPolicy(input, '(policy object)', process.cwd(), loadedAt, own);
  const file = path.resolve(input);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CapsuleError('POLICY_INVALID', `${file}: ${messageOf(e)}`);
  }
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (e) {
    // One short line: where and what, never a quote of the file.
    throw new CapsuleError('POLICY_INVALID', `${file}: not JSON: ${messageOf(e)}`);
  }
  return checkPolicy(value, file, path.dirname(file), loadedAt, { ...own, files: [...own.files, file] });
}

function checkPolicy(value: unknown, source: string, baseDir: string, loadedAt: number, own: Own): Policy {
  if (!validatePolicy(value)) {
    const problems = describeErrors(validatePolicy.errors);
    throw new CapsuleError('POLICY_INVALID', `${source}: ${problems.join('; ')}`, { problems });
  }
  const doc = value as PolicyDocument;
  const at = { home: homedir(), cwd: process.cwd() };
  const prot = {
    sensitive: withRealForms(sensitivePaths(own.files, at), hostPaths),
    noWrite: withRealForms(noWritePaths(own.readOnly, at), hostPaths),
  };
  const grantReal = new Map<string, string>();
  for (const [i, g] of (doc.grants ?? []).entries()) {
    checkExpiresAt(g, `${source}: /grants/${i}/expiresAt`);
    for (const [kind, write] of [
      ['read', false],
      ['write', true],
    ] as const) {
      for (const [j, entry] of (g.fs?.[kind] ?? []).entries()) {
        const granted = grantPath(entry, baseDir, 'POLICY_INVALID', `${source}: /grants/${i}/fs/${kind}/${j}`);
        checkGrantable(granted, write, prot, source, at.home, hostPaths);
        grantReal.set(granted, realish(granted, hostPaths));
      }
    }
    for (const [j, entry] of (g.fs?.blocked ?? []).entries()) checkBlockedEntry(entry, 'POLICY_INVALID', `${source}: /grants/${i}/fs/blocked/${j}`);
    checkGrantedPatterns(g.net, source);
  }
  return {
    doc,
    baseDir,
    source,
    ...prot,
    grantReal,
    loadedAt,
    grants: numberGrants(doc.grants ?? [], loadedAt, doc.levels),
    keys: trustedKeys(doc, source),
  };
}

/** Decodes `trustedKeys`; a key that does not decode, or an id used twice, makes the policy invalid. */
function trustedKeys(doc: PolicyDocument, source: string): TrustedKey[] {
  const keys: TrustedKey[] = [];
  for (const [i, k] of (doc.trustedKeys ?? []).entries()) {
    const key = parsePublicKey(k.publicKey);
    if (typeof key === 'string') {
      throw new CapsuleError('POLICY_INVALID', `${source}: /trustedKeys/${i}/publicKey (key ${JSON.stringify(k.id)}) ${key}`);
    }
    if (keys.some((t) => t.id === k.id)) {
      throw new CapsuleError('POLICY_INVALID', `${source}: /trustedKeys/${i}/id ${JSON.stringify(k.id)} is used by another key`);
    }
    keys.push({ id: k.id, key });
  }
  return keys;
}
