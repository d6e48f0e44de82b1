// ajv runs in strict mode: a keyword it would silently ignore is refused when the
// schema is compiled, for capsule's own schemas and a capability's input/output.
import { describe, expect, it } from 'vitest';
import policySchema from '../../schema/policy.schema.json' with { type: 'json' };
import capabilitySchema from '../../schema/capability.schema.json' with { type: 'json' };
import { createAjv } from '../../src/json-schema.js';
import { checkManifest } from '../../src/registry/manifest.js';
import { refusal } from './refusal.js';

const manifestWith = (inputSchema: unknown) => ({
  id: 'test.strict',
  version: '1.0.0',
  provider: { name: 'test' },
  component: 'component.wasm',
  world: 'capability',
  inputSchema,
});

describe('strict schemas', () => {
  it('capsule`s own schemas compile in strict mode', () => {
    expect(() => createAjv().compile(capabilitySchema)).not.toThrow();
    expect(() => createAjv().compile(policySchema)).not.toThrow();
  });

  it('a misspelt keyword in an input schema is MANIFEST_INVALID, not a rule silently dropped', () => {
    const e = refusal(() => checkManifest(manifestWith({ type: 'string', maxLenght: 5 }), 'm.json'));
    expect(e.code).toBe('MANIFEST_INVALID');
    expect(e.message).toMatch(/\/inputSchema is not a valid JSON Schema: strict mode: unknown keyword: "maxLenght"/);
  });

  it('a keyword that cannot apply to the stated type is MANIFEST_INVALID', () => {
    const e = refusal(() => checkManifest(manifestWith({ type: 'string', minimum: 1 }), 'm.json'));
    expect(e.code).toBe('MANIFEST_INVALID');
    expect(e.message).toMatch(/\/inputSchema is not a valid JSON Schema: strict mode/);
  });

  it('sound schemas still load: required beside if/then, union types, required without properties', () => {
    for (const s of [
      { type: 'object', required: ['text'] },
      { type: ['string', 'null'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
      { type: 'object', properties: { a: { type: 'string' }, b: {} }, if: { required: ['a'] }, then: { required: ['b'] } },
      true,
    ]) {
      expect(() => checkManifest(manifestWith(s), 'm.json'), JSON.stringify(s)).not.toThrow();
    }
  });
});
