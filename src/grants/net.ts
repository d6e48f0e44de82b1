// Outbound host patterns: `api.example.com`, `*.example.org` (any subdomain,
// not the bare domain), with an optional scheme and port
// (`http://127.0.0.1:8080`). Without a scheme both http and https match; without
// a port, the scheme's default port only.
import { CapsuleError } from '../errors.js';
import type { Permissions } from './permissions.js';

export interface HostPattern {
  scheme?: 'http' | 'https';
  /** Lower-case host, or `*.suffix`. */
  host: string;
  port?: number;
}

const DEFAULT_PORT = { http: 80, https: 443 } as const;

/** Parses a pattern; returns undefined when it is not one. */
export function parseHostPattern(text: string): HostPattern | undefined {
  const m = /^(?:(https?):\/\/)?(\*\.)?([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?\/?$/i.exec(text.trim());
  if (!m) return undefined;
  const [, scheme, star, host, port] = m;
  if (!host || host.startsWith('.') || host.endsWith('.') || host.includes('..')) return undefined;
  const p = port === undefined ? undefined : Number(port);
  if (p !== undefined && (p < 1 || p > 65535)) return undefined;
  return {
    scheme: scheme?.toLowerCase() as HostPattern['scheme'],
    host: `${star ?? ''}${host.toLowerCase()}`,
    ...(p === undefined ? {} : { port: p }),
  };
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

/** Does `url` fall under `p`? */
export function urlMatches(p: HostPattern, url: URL): boolean {
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https') return false;
  if (p.scheme !== undefined && p.scheme !== scheme) return false;
  const port = url.port === '' ? DEFAULT_PORT[scheme] : Number(url.port);
  if ((p.port ?? DEFAULT_PORT[scheme]) !== port) return false;
  return hostMatches(p.host, url.hostname.toLowerCase());
}

/** Does granting `outer` cover everything `inner` asks for? */
export function patternCovers(outer: HostPattern, inner: HostPattern): boolean {
  if (outer.scheme !== undefined && outer.scheme !== inner.scheme) return false;
  if (outer.port !== inner.port) return false;
  if (!outer.host.startsWith('*.')) return outer.host === inner.host;
  const suffix = outer.host.slice(1); // ".example.org"
  if (inner.host.startsWith('*.')) return inner.host.slice(1).endsWith(suffix);
  return hostMatches(outer.host, inner.host);
}

export function allowedUrl(patterns: string[], url: URL): boolean {
  return patterns.some((t) => {
    const p = parseHostPattern(t);
    return p !== undefined && urlMatches(p, url);
  });
}

/** Throws POLICY_INVALID naming the first of a policy's `net.outbound` entries that is not a host pattern. */
export function checkGrantedPatterns(patterns: string[], source: string): void {
  for (const pattern of patterns) {
    if (!parseHostPattern(pattern)) {
      throw new CapsuleError(
        'POLICY_INVALID',
        `${source}: net.outbound ${pattern} is not a host pattern (api.example.com, *.example.org, http://127.0.0.1:8080)`,
      );
    }
  }
}

/** request ∩ grants for net: the requested patterns some granted pattern covers; the rest goes to `uncovered`. */
export function intersectNet(id: string, asked: string[], grants: Permissions[], uncovered: string[]): string[] {
  const given = grants
    .flatMap((g) => g.net?.outbound ?? [])
    .map((t) => parseHostPattern(t))
    .filter((p) => p !== undefined);
  const kept: string[] = [];
  for (const text of asked) {
    const p = parseHostPattern(text);
    if (!p) throw new CapsuleError('MANIFEST_INVALID', `${id}: permissions.net.outbound ${text} is not a host pattern`);
    if (given.some((g) => patternCovers(g, p))) kept.push(text);
    else uncovered.push(`net ${text}`);
  }
  return kept;
}
