// `capsule audit verify|tail` read the file through these.
import { readFileSync } from 'node:fs';
import { CapsuleError, messageOf } from '../errors.js';
import { type AuditRecord, type ChainReport, openLine, verifyChain } from './chain.js';

export function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CapsuleError('AUDIT_INVALID', `cannot read audit log ${file}: ${messageOf(e)}`);
  }
}

export function verifyAuditFile(file: string): ChainReport {
  return verifyChain(readLog(file));
}

/** The last `n` lines, parsed; a line that does not parse is returned as its problem. */
export function tailAuditFile(file: string, n: number): { line: number; record: AuditRecord | string }[] {
  const text = readLog(file);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const from = Math.max(0, lines.length - n);
  return lines.slice(from).map((l, i) => ({ line: from + i + 1, record: openLine(l) }));
}
