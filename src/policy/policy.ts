// Loads the operator's policy (file or object), checked against its schema.
// No policy means: grant nothing beyond clocks/random a manifest requests.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import schema from '../../schema/policy.schema.json' with { type: 'json' };
import { CapsuleError, messageOf } from '../errors.js';
import { createAjv, describeErrors } from '../json-schema.js';
import { type NumberedGrant, numberGrants } from './expiry.js';
import { parsePublicKey, type TrustedKey } from './keys.js';
import type { SecurityLevel } from './request.js';
import type { Tier } from './tier.js';

export interface PolicyGrant {
  capabilities: string | string[];
  host?: string[];
  fs?: { read?: string[]; write?: string[]; blocked?: string[] };
  env?: string[];
  net?: { outbound?: string[] };
  clocks?: boolean;
  random?: boolean;
  tier?: Tier;
  ttlSeconds?: number;
  expiresAt?: string;
}

export interface Ceilings {
  memoryBytes?: number;
  timeoutMs?: number;
  cpuMs?: number;
  outputBytes?: number;
  inputBytes?: number;
}

export interface PolicyDocument {
  grants?: PolicyGrant[];
  ceilings?: Ceilings;
  trustedKeys?: { id: string; publicKey: string }[];
  requireSignature?: SecurityLevel[];
  deniedProviders?: string[];
  escalate?: string[];
  fallback?: 'worker' | 'process' | null;
}

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
}

const validatePolicy = createAjv().compile(schema);

export async function loadPolicy(input: string | PolicyDocument | undefined, extraGrants: PolicyGrant[] = []): Promise<Policy> {
  const loadedAt = Date.now();
  const policy = await readPolicy(input, loadedAt);
  if (extraGrants.length === 0) return policy;
  const doc = { ...policy.doc, grants: [...(policy.doc.grants ?? []), ...extraGrants] };
  return checkPolicy(doc, policy.source, policy.baseDir, loadedAt);
}

async function readPolicy(input: string | PolicyDocument | undefined, loadedAt: number): Promise<Policy> {
  if (input === undefined) return checkPolicy({}, '(no policy)', process.cwd(), loadedAt);
  if (typeof input !== 'string') return checkPolicy(input, '(policy object)', process.cwd(), loadedAt);
  const file = path.resolve(input);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new CapsuleError('POLICY_INVALID', `${file}: ${messageOf(e)}`);
  }
  return checkPolicy(value, file, path.dirname(file), loadedAt);
}

function checkPolicy(value: unknown, source: string, baseDir: string, loadedAt: number): Policy {
  if (!validatePolicy(value)) {
    const problems = describeErrors(validatePolicy.errors);
    throw new CapsuleError('POLICY_INVALID', `${source}: ${problems.join('; ')}`, { problems });
  }
  const doc = value as PolicyDocument;
  return { doc, baseDir, source, loadedAt, grants: numberGrants(doc.grants ?? [], loadedAt), keys: trustedKeys(doc, source) };
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
