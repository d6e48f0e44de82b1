// Loads the operator's policy (file or object), checked against its schema.
// No policy means: grant nothing beyond clocks/random a manifest requests.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import schema from '../../schema/policy.schema.json' with { type: 'json' };
import { CapsuleError, messageOf } from '../errors.js';
import { createAjv, describeErrors } from '../json-schema.js';
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
}

const validatePolicy = createAjv().compile(schema);

export async function loadPolicy(input: string | PolicyDocument | undefined, extraGrants: PolicyGrant[] = []): Promise<Policy> {
  const policy = await readPolicy(input);
  if (extraGrants.length === 0) return policy;
  const doc = { ...policy.doc, grants: [...(policy.doc.grants ?? []), ...extraGrants] };
  return checkPolicy(doc, policy.source, policy.baseDir);
}

async function readPolicy(input: string | PolicyDocument | undefined): Promise<Policy> {
  if (input === undefined) return { doc: {}, baseDir: process.cwd(), source: '(no policy)' };
  if (typeof input !== 'string') return checkPolicy(input, '(policy object)', process.cwd());
  const file = path.resolve(input);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new CapsuleError('POLICY_INVALID', `${file}: ${messageOf(e)}`);
  }
  return checkPolicy(value, file, path.dirname(file));
}

function checkPolicy(value: unknown, source: string, baseDir: string): Policy {
  if (!validatePolicy(value)) {
    const problems = describeErrors(validatePolicy.errors);
    throw new CapsuleError('POLICY_INVALID', `${source}: ${problems.join('; ')}`, { problems });
  }
  return { doc: value as PolicyDocument, baseDir, source };
}
