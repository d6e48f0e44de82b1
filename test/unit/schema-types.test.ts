// The manifest and policy types and validators are generated from the schemas
// (scripts/schema-types.mjs, scripts/schema-validators.mjs): the committed
// src/schema-types.ts and src/schema-validators.cjs must be what the schemas give today.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Manifest (src/registry/manifest.ts) and PolicyDocument (src/policy/policy.ts) are
// defined from the generated types, so this file being current is what holds them.

describe('types and validators generated from the schemas', () => {
  it('src/schema-types.ts is up to date with schema/*.schema.json (npm run schema-types)', async () => {
    const script = new URL('../../scripts/schema-types.mjs', import.meta.url).href;
    const { schemaTypes, OUT } = (await import(script)) as { schemaTypes(): Promise<string>; OUT: string };
    expect(readFileSync(OUT, 'utf8')).toBe(await schemaTypes());
  });

  it('src/schema-validators.cjs is the validators compiled from schema/*.schema.json with createAjv (npm run schema-types)', async () => {
    const script = new URL('../../scripts/schema-validators.mjs', import.meta.url).href;
    const { schemaValidators, VALIDATORS_OUT } = (await import(script)) as { schemaValidators(): Promise<string>; VALIDATORS_OUT: string };
    expect(readFileSync(VALIDATORS_OUT, 'utf8')).toBe(await schemaValidators());
  });
});
