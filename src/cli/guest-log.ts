// How the CLI prints what a guest says and what it was refused, on stderr.
import type { GuestLog } from '../runtime.js';
import type { Denial } from '../sandbox/job.js';
import { oneLine, prefixedLines } from './safe-text.js';

/**
 * A guest's log record or captured stdout/stderr: every line behind its
 * `[id] level:` tag, controls escaped, so no line of it can pass for capsule's.
 */
export function printGuestLog(r: GuestLog): void {
  const tag = r.source === 'log' ? `[${r.capability}] ${r.level}: ` : `[${r.capability} ${r.source}] `;
  process.stderr.write(prefixedLines(oneLine(tag), r.message));
}

/** One line per refused access; the target and reason can be guest-chosen text. */
export function printDenials(denials: Denial[]): void {
  for (const d of denials) {
    const line = d.kind === 'more' ? d.reason : `${d.kind} ${d.target}: ${d.reason}`;
    process.stderr.write(`capsule: PERMISSION_DENIED: ${oneLine(line)}\n`);
  }
}
