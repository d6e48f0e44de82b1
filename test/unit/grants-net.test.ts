// Host patterns (src/grants/net.ts): a pattern that covers another allows
// every URL the other allows, checked over generated patterns and URLs.
import { describe, expect, it } from 'vitest';
import { allowedUrl, type HostPattern, intersectNet, parseHostPattern, patternCovers, urlMatches } from '../../src/grants/net.js';
import { pick, rng } from './grants-gen.js';

const HOSTS = ['example.org', 'api.example.org', 'a.api.example.org', 'example.com', '127.0.0.1'];
const PATTERNS = [
  ...HOSTS,
  '*.example.org',
  '*.api.example.org',
  'http://example.org',
  'https://api.example.org',
  'http://127.0.0.1:8080',
  '127.0.0.1:8080',
  '*.example.org:8443',
];
const URLS = HOSTS.flatMap((h) => ['http', 'https'].flatMap((s) => [`${s}://${h}/`, `${s}://${h}:8080/x`, `${s}://${h}:8443/`]));

describe('host patterns', () => {
  it('parses schemes, wildcards and ports, and refuses what is not a pattern', () => {
    expect(parseHostPattern('HTTP://Example.ORG:8080/')).toEqual({ scheme: 'http', host: 'example.org', port: 8080 });
    expect(parseHostPattern('*.example.org')).toEqual({ scheme: undefined, host: '*.example.org' });
    for (const bad of ['', 'example..org', '.example.org', 'example.org:0', 'example.org:70000', 'ftp://example.org', 'a/b', '*']) {
      expect(parseHostPattern(bad)).toBeUndefined();
    }
  });

  it('a wildcard covers subdomains, not the bare domain; no port means the default port', () => {
    expect(allowedUrl(['*.example.org'], new URL('https://api.example.org/'))).toBe(true);
    expect(allowedUrl(['*.example.org'], new URL('https://example.org/'))).toBe(false);
    expect(allowedUrl(['example.org'], new URL('https://example.org:8443/'))).toBe(false);
    expect(allowedUrl(['example.org'], new URL('ftp://example.org/'))).toBe(false);
  });

  it('covers(outer, inner) ⇒ every URL inner allows, outer allows (never wider than the grant)', () => {
    const parsed = PATTERNS.map((t) => parseHostPattern(t)).filter((p): p is HostPattern => p !== undefined);
    expect(parsed).toHaveLength(PATTERNS.length);
    for (const outer of parsed) {
      for (const inner of parsed) {
        if (!patternCovers(outer, inner)) continue;
        for (const u of URLS) {
          const url = new URL(u);
          if (urlMatches(inner, url)) expect(urlMatches(outer, url), `${JSON.stringify(outer)} ⊇ ${JSON.stringify(inner)} at ${u}`).toBe(true);
        }
      }
      expect(patternCovers(outer, outer)).toBe(true);
    }
  });

  it('request ∩ grant keeps only requested patterns a grant covers, the rest uncovered', () => {
    const r = rng(11);
    for (let i = 0; i < 300; i++) {
      const asked = Array.from({ length: Math.floor(r() * 4) }, () => pick(r, PATTERNS));
      const granted = Array.from({ length: Math.floor(r() * 3) }, () => pick(r, PATTERNS));
      const uncovered: string[] = [];
      const kept = intersectNet('c', asked, [{ net: { outbound: granted } }], uncovered);
      expect([...kept, ...uncovered.map((u) => u.replace(/^net /, ''))].sort()).toEqual([...asked].sort());
      for (const k of kept) {
        const p = parseHostPattern(k) as HostPattern;
        expect(granted.some((g) => patternCovers(parseHostPattern(g) as HostPattern, p))).toBe(true);
      }
    }
  });

  it('a requested entry that is no pattern is MANIFEST_INVALID', () => {
    expect(() => intersectNet('c', ['not a host'], [], [])).toThrow(/not a host pattern/);
  });
});
