// `capsule audit verify [FILE]` and `capsule audit tail [FILE] [-n N] [--json]`.
// FILE defaults to $CAPSULE_AUDIT_LOG, else ./capsule-audit.jsonl.
import path from 'node:path';
import { type AuditRecord, tailAuditFile, verifyAuditFile } from '../audit/index.js';
import { CapsuleError } from '../errors.js';
import type { ParsedArgs } from './args.js';
import { usage } from './errors.js';
import { escapeControls } from './safe-text.js';

export async function auditCommand(a: ParsedArgs): Promise<number> {
  const [sub, given] = a.positionals;
  const file = path.resolve(given ?? (process.env.CAPSULE_AUDIT_LOG || 'capsule-audit.jsonl'));
  if (sub === 'verify') return verify(file);
  if (sub === 'tail') return tail(file, a.number('lines') ?? 20, a.values.json === true);
  throw usage('audit needs verify or tail');
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
