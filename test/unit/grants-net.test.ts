// Host patterns (src/grants/net.ts): a pattern that covers another allows
// every URL the other allows, checked over generated patterns and URLs.
import { describe, expect, it } from 'vitest';
import { checkGrantedPatterns, type HostPattern, intersectNet, parseHostPattern, patternCovers, refusedUrl, urlMatches } from '../../src/grants/net.js';

const allowedUrl = (net: string[], url: URL) => refusedUrl({ net, netBlocked: [] }, url) === undefined;
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

  it('a blocked pattern wins over every grant; without a port it blocks every port, with a scheme only that scheme', () => {
    const rules = (netBlocked: string[]) => ({ net: ['*.example.org', 'http://127.0.0.1:8080', '127.0.0.1:9000'], netBlocked });
    expect(refusedUrl(rules([]), new URL('https://api.example.org/'))).toBeUndefined();
    expect(refusedUrl(rules(['api.example.org']), new URL('https://api.example.org/'))).toBe('blocked by the policy (net.blocked api.example.org)');
    expect(refusedUrl(rules(['api.example.org']), new URL('https://www.example.org/'))).toBeUndefined();
    expect(refusedUrl(rules(['*.example.org']), new URL('https://deep.api.example.org/'))).toMatch(/^blocked/);
    // No port: every port of the host, not only the default one.
    expect(refusedUrl(rules(['127.0.0.1']), new URL('http://127.0.0.1:8080/'))).toMatch(/^blocked/);
    expect(refusedUrl(rules(['127.0.0.1']), new URL('https://127.0.0.1:9000/'))).toMatch(/^blocked/);
    // A port or a scheme narrows it.
    expect(refusedUrl(rules(['127.0.0.1:9000']), new URL('http://127.0.0.1:8080/'))).toBeUndefined();
    expect(refusedUrl(rules(['https://127.0.0.1:9000']), new URL('http://127.0.0.1:9000/'))).toBeUndefined();
    expect(refusedUrl(rules(['https://127.0.0.1:9000']), new URL('https://127.0.0.1:9000/'))).toMatch(/^blocked/);
    expect(refusedUrl({ net: [], netBlocked: [] }, new URL('https://example.org/'))).toBe('no network access is granted');
    expect(refusedUrl(rules([]), new URL('https://example.com/'))).toBe('host not granted');
  });

  it('a policy blocked entry that is not a host pattern is POLICY_INVALID naming it', () => {
    expect(() => checkGrantedPatterns({ outbound: ['example.org'], blocked: ['ftp://x'] }, 'p.json')).toThrow(
      /p\.json: net\.blocked ftp:\/\/x is not a host pattern/,
    );
    expect(() => checkGrantedPatterns({ outbound: ['a b'] }, 'p.json')).toThrow(/net\.outbound a b/);
    expect(() => checkGrantedPatterns(undefined, 'p.json')).not.toThrow();
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
