// Outbound host patterns: `api.example.com`, `*.example.org` (any subdomain,
// not the bare domain), with an optional scheme and port
// (`http://127.0.0.1:8080`). Without a scheme both http and https match; without
// a port, the scheme's default port only.
// A policy's `net.blocked` patterns take the same form and win over every grant, as
// fs `blocked` does; there a pattern without a port blocks the host on every port
// (a deny list errs on the side of denying).
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

/** What a call may reach: the granted patterns, less the blocked ones (Grants.net, Grants.netBlocked). */
export interface NetRules {
  net: string[];
  netBlocked: string[];
}

/** Does `url` fall under the blocked pattern `p`: its scheme and port only where `p` names them. */
function blockedMatches(p: HostPattern, url: URL): boolean {
  return urlMatches({ ...p, port: p.port ?? portOf(url) }, url);
}

function portOf(url: URL): number | undefined {
  const scheme = url.protocol.replace(/:$/, '');
  return url.port !== '' ? Number(url.port) : scheme === 'http' || scheme === 'https' ? DEFAULT_PORT[scheme] : undefined;
}

/**
 * Why `url` may not be reached under `rules`, or undefined when it may. The one check
 * every path a request takes applies (sandbox/net/http.ts for each hop, the process
 * tier's relay, the container egress proxy).
 */
export function refusedUrl(rules: NetRules, url: URL): string | undefined {
  const blocked = rules.netBlocked.find((t) => {
    const p = parseHostPattern(t);
    return p !== undefined && blockedMatches(p, url);
  });
  if (blocked !== undefined) return `blocked by the policy (net.blocked ${blocked})`;
  if (rules.net.length === 0) return 'no network access is granted';
  const granted = rules.net.some((t) => {
    const p = parseHostPattern(t);
    return p !== undefined && urlMatches(p, url);
  });
  return granted ? undefined : 'host not granted';
}

/** Throws POLICY_INVALID naming the first of a policy's `net.outbound` or `net.blocked` entries that is not a host pattern. */
export function checkGrantedPatterns(net: { outbound?: string[]; blocked?: string[] } | undefined, source: string): void {
  for (const key of ['outbound', 'blocked'] as const) {
    for (const pattern of net?.[key] ?? []) {
      if (!parseHostPattern(pattern)) {
        throw new CapsuleError(
          'POLICY_INVALID',
          `${source}: net.${key} ${pattern} is not a host pattern (api.example.com, *.example.org, http://127.0.0.1:8080)`,
        );
      }
    }
  }
}

/** The blocked patterns of every grant that applies (union: a deny in any of them holds). */
export function blockedNet(grants: Permissions[]): string[] {
  return [...new Set(grants.flatMap((g) => g.net?.blocked ?? []))];
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
