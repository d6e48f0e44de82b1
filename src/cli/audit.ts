// `capsule audit verify|tail|query|report [FILE]`.
// FILE defaults to $CAPSULE_AUDIT_LOG, else ./capsule-audit.jsonl.
import path from 'node:path';
import {
  type AuditFilter,
  type AuditRecord,
  type AuditSummary,
  matches,
  readAuditRecords,
  SEVERITIES,
  type Severity,
  summarize,
  tailAuditFile,
  verifyAuditFile,
} from '../audit/index.js';
import { CapsuleError } from '../errors.js';
import type { ParsedArgs } from './args.js';
import { usage } from './errors.js';
import { escapeControls } from './safe-text.js';

export async function auditCommand(a: ParsedArgs): Promise<number> {
  const [sub, given] = a.positionals;
  const file = path.resolve(given ?? (process.env.CAPSULE_AUDIT_LOG || 'capsule-audit.jsonl'));
  if (sub === 'verify') return verify(file);
  if (sub === 'tail') return tail(file, a.number('lines') ?? 20, a.values.json === true);
  if (sub === 'query') return query(file, filterOf(a));
  if (sub === 'report') return report(file, filterOf(a), a.values.json === true);
  throw usage('audit needs verify, tail, query or report');
}

function verify(file: string): number {
  const r = verifyAuditFile(file);
  if (r.broken) {
    const { line, reason } = r.broken;
    throw new CapsuleError('AUDIT_INVALID', `${file}: line ${line}: ${reason}`, { line, reason });
  }
  process.stdout.write(`${file}: OK: ${r.lines} lines, hash chain intact\n`);
  return 0;
}

/** Fields every line has, shown in fixed columns rather than as key=value. */
const COLUMNS = new Set(['seq', 'time', 'prev', 'hash', 'event', 'capability', 'outcome']);

function tail(file: string, n: number, json: boolean): number {
  for (const { line, record } of tailAuditFile(file, n)) {
    if (typeof record === 'string') {
      process.stdout.write(`${String(line).padStart(6)}  (broken: ${escapeControls(record)})\n`);
      continue;
    }
    // A record quotes guest-chosen targets: the readable form escapes controls.
    process.stdout.write(json ? `${JSON.stringify(record)}\n` : `${escapeControls(pretty(record))}\n`);
  }
  return 0;
}

function pretty(r: AuditRecord): string {
  const rest = Object.entries(r)
    .filter(([k]) => !COLUMNS.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const head = [String(r.seq).padStart(6), r.time, r.event.padEnd(13), String(r.capability ?? '-'), String(r.outcome ?? '')];
  return [...head.filter((c) => c !== ''), ...rest].join('  ');
}

/** The matching records, one JSON object a line (lines written before `severity` existed get it worked out). */
function query(file: string, f: AuditFilter): number {
  for (const r of readAuditRecords(file)) if (matches(r, f)) process.stdout.write(`${JSON.stringify(r)}\n`);
  return 0;
}

function report(file: string, f: AuditFilter, json: boolean): number {
  const s = summarize(readAuditRecords(file).filter((r) => matches(r, f)));
  // Each line escaped on its own: the text quotes guest-chosen names (principals, outcomes), never its own newlines.
  const text = () => `${reportLines(file, f, s).map(escapeControls).join('\n')}\n`;
  process.stdout.write(json ? `${JSON.stringify(s, null, 2)}\n` : text());
  return 0;
}

function reportLines(file: string, f: AuditFilter, s: AuditSummary): string[] {
  const by = (m: Record<string, number>) => {
    const parts = Object.entries(m)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, n]) => `${k} ${n}`);
    return parts.length ? ` (${parts.join(', ')})` : '';
  };
  const window = [
    f.since === undefined ? '' : `since ${new Date(f.since).toISOString()}`,
    f.until === undefined ? '' : `until ${new Date(f.until).toISOString()}`,
  ];
  const asked = window.filter(Boolean).join(', ');
  return [
    `audit report: ${file}${asked ? ` (${asked})` : ''}`,
    `lines: ${s.lines}${s.from ? `, from ${s.from} to ${s.to}` : ''}`,
    `calls: ${s.calls.total} (ok ${s.calls.ok}, failed ${s.calls.failed})${by(s.calls.byTier)}`,
    `outcomes:${by(s.calls.byOutcome) || ' none'}`,
    `denials: ${s.denials.total} (at plan ${s.denials.plan})${by(s.denials.byKind)}`,
    `limits hit: ${s.limits.total}${by(s.limits.byCode)}`,
    `escalations: ${s.escalations.total} (unavailable ${s.escalations.unavailable})`,
    `fallbacks to a weaker tier: ${s.fallbacks}`,
    `signature refusals: ${s.refusals.signature}`,
    `digest mismatches: ${s.refusals.digest}`,
    `provider refusals: ${s.refusals.provider}`,
    `transpile cache tampered: ${s.cacheTampered}`,
    `severity: info ${s.bySeverity.info}, warning ${s.bySeverity.warning}, critical ${s.bySeverity.critical}`,
    `calls by principal:${by(s.byPrincipal) || ' none'}`,
  ];
}

function filterOf(a: ParsedArgs): AuditFilter {
  const text = (name: string): string | undefined => {
    const v = a.values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const severity = text('severity');
  if (severity !== undefined && !SEVERITIES.includes(severity as Severity)) {
    throw usage(`--severity must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(severity)}`);
  }
  const f: AuditFilter = {};
  const capability = text('capability');
  const principal = text('principal');
  const kind = text('kind');
  const since = text('since');
  const until = text('until');
  if (capability !== undefined) f.capability = capability;
  if (principal !== undefined) f.principal = principal;
  if (kind !== undefined) f.event = kind;
  if (severity !== undefined) f.severity = severity as Severity;
  if (since !== undefined) f.since = instant(since, '--since');
  if (until !== undefined) f.until = instant(until, '--until');
  return f;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO 8601 date-time, or a span back from now: `90s`, `30m`, `24h`, `7d`. */
function instant(v: string, flag: string): number {
  const span = /^(\d+)([smhd])$/.exec(v);
  if (span) return Date.now() - Number(span[1]) * (UNITS[span[2] as string] as number);
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(t)) throw usage(`${flag} must be an ISO 8601 date-time or a span such as 30m, 24h, 7d; got ${JSON.stringify(v)}`);
  return t;
}
