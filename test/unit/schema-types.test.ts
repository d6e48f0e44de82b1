// The manifest and policy types are generated from the schemas (scripts/schema-types.mjs):
// the committed src/schema-types.ts must be what the schemas give today.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/policy/policy.js';
import type { CapsuleCapabilityManifest, CapsulePolicy } from '../../src/schema-types.js';
import type { Manifest } from '../../src/registry/manifest.js';

/** json-schema-to-typescript is a devDependency; without it the file cannot be regenerated here. */
function generatorInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('json-schema-to-typescript');
    return true;
  } catch {
    return false;
  }
}

// Compile-time: the policy document type the runtime accepts is exactly the schema's.
// (PolicyDocument is still written by hand in src/policy/policy.ts: these two lines
// hold it to the schema until it becomes `type PolicyDocument = CapsulePolicy`.)
const toSchema = (p: PolicyDocument): CapsulePolicy => p;
const fromSchema = (p: CapsulePolicy): PolicyDocument => p;
const manifestIsSchema = (m: CapsuleCapabilityManifest): Manifest => m;

describe('types generated from the schemas', () => {
  it('the type checks above are compiled in', () => {
    expect([toSchema, fromSchema, manifestIsSchema].every((f) => typeof f === 'function')).toBe(true);
  });

  it.skipIf(!generatorInstalled())('src/schema-types.ts is up to date with schema/*.schema.json (npm run schema-types)', async () => {
    const script = new URL('../../scripts/schema-types.mjs', import.meta.url).href;
    const { schemaTypes, OUT } = (await import(script)) as { schemaTypes(): Promise<string>; OUT: string };
    expect(readFileSync(OUT, 'utf8')).toBe(await schemaTypes());
  });
});
