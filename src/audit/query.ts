// `capsule audit query` and `capsule audit report`: the records of a log that
// match a filter, and a summary of them. The log's chain is checked first: a
// question asked of a log that was edited gets AUDIT_INVALID, not an answer.
import { CapsuleError } from '../errors.js';
import { type AuditRecord, openLine, verifyChain } from './chain.js';
import { atLeast, type Severity, severityOf } from './severity.js';
import { readLog } from './verify.js';

export interface AuditFilter {
  /** Capability id; `*` matches any run of characters (`acme.*`). */
  capability?: string;
  principal?: string;
  /** Event name (`denial`, `run.end`, …). */
  event?: string;
  /** This severity or a higher one. */
  severity?: Severity;
  /** ms since the epoch, inclusive. */
  since?: number;
  until?: number;
}

/** A record as read, with its severity worked out when it was written before the field existed. */
export type ReadRecord = AuditRecord & { severity: Severity };

export function readAuditRecords(file: string): ReadRecord[] {
  const text = readLog(file);
  const chain = verifyChain(text);
  if (chain.broken) {
    const { line, reason } = chain.broken;
    throw new CapsuleError('AUDIT_INVALID', `${file}: line ${line}: ${reason} (capsule audit verify)`, { line, reason });
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => openLine(l) as AuditRecord)
    .map((r) => (typeof r.severity === 'string' ? (r as ReadRecord) : { ...r, severity: severityOf(r) }));
}

export function matches(r: ReadRecord, f: AuditFilter): boolean {
  if (f.capability !== undefined && !(typeof r.capability === 'string' && globMatch(f.capability, r.capability))) return false;
  if (f.principal !== undefined && r.principal !== f.principal) return false;
  if (f.event !== undefined && r.event !== f.event) return false;
  if (f.severity !== undefined && !atLeast(r.severity, f.severity)) return false;
  const t = Date.parse(r.time);
  if (f.since !== undefined && !(t >= f.since)) return false;
  if (f.until !== undefined && !(t <= f.until)) return false;
  return true;
}

function globMatch(pattern: string, value: string): boolean {
  const re = pattern
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`).test(value);
}

export interface AuditSummary {
  lines: number;
  from: string | null;
  to: string | null;
  calls: { total: number; ok: number; failed: number; byTier: Record<string, number>; byOutcome: Record<string, number> };
  denials: { total: number; plan: number; byKind: Record<string, number> };
  limits: { total: number; byCode: Record<string, number> };
  escalations: { total: number; unavailable: number };
  fallbacks: number;
  refusals: { signature: number; digest: number; provider: number };
  cacheTampered: number;
  bySeverity: Record<Severity, number>;
  byPrincipal: Record<string, number>;
}

const bump = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n;
};

/** What happened in `records`: calls, denials, limits hit, escalations, fallbacks, provenance refusals. */
export function summarize(records: ReadRecord[]): AuditSummary {
  const s: AuditSummary = {
    lines: records.length,
    from: records[0]?.time ?? null,
    to: records[records.length - 1]?.time ?? null,
    calls: { total: 0, ok: 0, failed: 0, byTier: {}, byOutcome: {} },
    denials: { total: 0, plan: 0, byKind: {} },
    limits: { total: 0, byCode: {} },
    escalations: { total: 0, unavailable: 0 },
    fallbacks: 0,
    refusals: { signature: 0, digest: 0, provider: 0 },
    cacheTampered: 0,
    bySeverity: { info: 0, warning: 0, critical: 0 },
    byPrincipal: {},
  };
  for (const r of records) {
    s.bySeverity[r.severity]++;
    const outcome = String(r.outcome ?? '');
    switch (r.event) {
      case 'run.end':
        s.calls.total++;
        if (outcome === 'ok') s.calls.ok++;
        else s.calls.failed++;
        bump(s.calls.byTier, String(r.tier));
        bump(s.calls.byOutcome, outcome);
        bump(s.byPrincipal, typeof r.principal === 'string' ? r.principal : '(none)');
        break;
      case 'denial':
        if (r.stage !== undefined) {
          s.denials.total++;
          s.denials.plan++;
        } else if (r.kind === 'more') {
          // The summary line of a call refused more than 64 times: the count it carries.
          const n = typeof r.count === 'number' ? r.count : 0;
          s.denials.total += n;
          for (const [k, v] of Object.entries((r.byKind ?? {}) as Record<string, number>)) bump(s.denials.byKind, k, v);
        } else {
          s.denials.total++;
          bump(s.denials.byKind, String(r.kind));
          // A disk or descriptor quota (fs-quota.ts) is a limit the guest hit, though the call goes on.
          const quota = /\(limits\.(\w+)\)/.exec(String(r.reason ?? ''));
          if (quota) {
            s.limits.total++;
            bump(s.limits.byCode, `limits.${quota[1]}`);
          }
        }
        break;
      case 'limit':
        s.limits.total++;
        bump(s.limits.byCode, String(r.code));
        break;
      case 'escalation':
        s.escalations.total++;
        if (outcome !== 'ok') s.escalations.unavailable++;
        if (r.fallbackFrom !== undefined) s.fallbacks++;
        break;
      case 'load':
        if (outcome === 'SIGNATURE_INVALID') s.refusals.signature++;
        if (outcome === 'DIGEST_MISMATCH') s.refusals.digest++;
        if (outcome === 'PROVIDER_DENIED') s.refusals.provider++;
        break;
      case 'cache.tampered':
        s.cacheTampered++;
        break;
    }
  }
  return s;
}
