// The app's host option, and how it is matched to a component's imports (src/host-functions.ts).
import { describe, expect, it } from 'vitest';
import { CapsuleError } from '../../src/errors.js';
import { hostImportsFor, hostTable } from '../../src/host-functions.js';

const KV = 'acme:kv/store';

describe('hostImportsFor', () => {
  it('links a granted interface the app supplies, by unversioned name', () => {
    const table = hostTable({ [`${KV}@1.0.0`]: { get: (_k: string) => '' } });
    expect(hostImportsFor({ [KV]: { get: { params: 1, result: true } } }, table, [`${KV}@1.0.0`])).toEqual({ [KV]: { get: { params: 1, result: true } } });
    expect(hostImportsFor({ [KV]: { get: { params: 1, result: true } } }, table, [])).toBeUndefined();
  });

  it('an import named like an Object.prototype member finds nothing the app did not give', () => {
    const table = hostTable({ [KV]: {} });
    for (const fn of ['constructor', 'toString', 'hasOwnProperty']) {
      const e = (() => {
        try {
          hostImportsFor({ [KV]: { [fn]: { params: 1, result: false } } }, table, [KV]);
        } catch (x) {
          return x;
        }
      })();
      expect(e).toBeInstanceOf(CapsuleError);
      expect((e as CapsuleError).code).toBe('IMPORT_DENIED');
      expect((e as CapsuleError).message).toContain(`has no function ${fn}`);
    }
  });

  it('a function taking more parameters than the import passes is IMPORT_DENIED', () => {
    const table = hostTable({ [KV]: { set: (_k: string, _v: string, _extra: number) => undefined } });
    expect(() => hostImportsFor({ [KV]: { set: { params: 2, result: false } } }, table, [KV])).toThrow(/with 2 parameters; the app's function takes 3/);
  });
});
