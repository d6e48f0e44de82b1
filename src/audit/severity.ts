// How much an audit record matters, by its event and outcome. Written on every
// new line (`severity`) and worked out the same way for lines written before the
// field existed, so a query over an old log sees the same levels.
//   info      the normal course: a runtime, a load, a plan, a run that ended ok
//   warning   something was refused or stopped: a denial, a limit, a failed run or
//             load, an escalation that could not be served or fell back to a weaker tier
//   critical  someone tampered or impersonated: a signature, digest or provider
//             refusal at load, a transpile-cache file changed on disk
export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

/** Load outcomes that mean a component or manifest is not what it claims to be. */
const TAMPERING = new Set(['SIGNATURE_INVALID', 'DIGEST_MISMATCH', 'PROVIDER_DENIED']);

export function severityOf(r: { event: string; outcome?: unknown; fallbackFrom?: unknown }): Severity {
  const failed = r.outcome !== undefined && r.outcome !== 'ok';
  switch (r.event) {
    case 'cache.tampered':
      return 'critical';
    case 'load':
      if (!failed) return 'info';
      return TAMPERING.has(String(r.outcome)) ? 'critical' : 'warning';
    case 'denial':
    case 'limit':
      return 'warning';
    case 'escalation':
      return failed || r.fallbackFrom !== undefined ? 'warning' : 'info';
    case 'run.end':
      return failed ? 'warning' : 'info';
    default:
      return 'info';
  }
}

/** `a` is at least as severe as `b`. */
export function atLeast(a: Severity, b: Severity): boolean {
  return SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b);
}
