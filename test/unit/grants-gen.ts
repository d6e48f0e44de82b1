// Deterministic case generators for the grants property tests: a seeded PRNG
// (mulberry32), so a failing case is the same on every run and can be replayed;
// and the plain host and policy the pure-layer tests plan against.
import { numberGrants } from '../../src/policy/expiry.js';
import type { Policy, PolicyDocument, PolicyGrant } from '../../src/policy/policy.js';

export type Rng = () => number;

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(r: Rng, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

/** 0..max components drawn from `alphabet`, joined with `/`. */
export function relPath(r: Rng, alphabet: readonly string[], max: number): string {
  const n = Math.floor(r() * (max + 1));
  return Array.from({ length: n }, () => pick(r, alphabet)).join('/');
}

/** An absolute path of 1..max segments from `names`. */
export function absPath(r: Rng, names: readonly string[], max: number): string {
  const n = 1 + Math.floor(r() * max);
  return `/${Array.from({ length: n }, () => pick(r, names)).join('/')}`;
}

/** A disk where nothing is a symlink and nothing is a file: real paths are the paths. */
export const plainDisk = { realpath: (p: string) => p, isFile: () => false };

/** A loaded Policy (as loadPolicy gives) of `grants`, loaded at `loadedAt`, with no sensitive paths or keys. */
export function testPolicy(grants: PolicyGrant[], loadedAt: number, doc: Partial<PolicyDocument> = {}): Policy {
  return {
    doc: { grants, ...doc },
    baseDir: '/srv',
    source: '/srv/policy.json',
    loadedAt,
    grants: numberGrants(grants, loadedAt, doc.levels),
    keys: [],
    sensitive: [],
    noWrite: [],
    grantReal: new Map(),
  };
}

/** An assertion for generated cases: expect() per case costs more than the rule under test. */
export function ok(cond: boolean | undefined, what: string): void {
  if (cond !== true) throw new Error(`property does not hold: ${what}`);
}
