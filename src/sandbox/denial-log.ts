// The denials kept for one call. A guest can make any number of refused
// requests, each naming any target, and every denial is held in the worker,
// copied to the caller and written to the audit log: so only the first
// MAX_DENIALS are kept, each text cut to MAX_DENIAL_TEXT characters, and the
// rest are only counted, in one summary entry at the end of the list.
import type { DeniedAccess, Denial, MoreDenials } from './job.js';

/** Denials kept per call; the rest are counted in one `kind: 'more'` entry. */
export const MAX_DENIALS = 64;
/** Characters kept of a denial's target and of its reason. */
export const MAX_DENIAL_TEXT = 512;

export class DenialLog {
  private readonly kept: DeniedAccess[] = [];
  private readonly more: Partial<Record<DeniedAccess['kind'], number>> = {};
  private dropped = 0;

  push(d: DeniedAccess): void {
    if (this.kept.length < MAX_DENIALS) {
      this.kept.push({ kind: d.kind, target: clip(d.target), reason: clip(d.reason) });
      return;
    }
    this.dropped++;
    this.more[d.kind] = (this.more[d.kind] ?? 0) + 1;
  }

  /** The kept denials, then the summary of the others when there were any. */
  list(): Denial[] {
    if (this.dropped === 0) return [...this.kept];
    const by = Object.entries(this.more)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    const summary: MoreDenials = {
      kind: 'more',
      target: '',
      reason: `${this.dropped} more denials not listed (${by})`,
      count: this.dropped,
      byKind: { ...this.more },
    };
    return [...this.kept, summary];
  }
}

/** `text` cut to MAX_DENIAL_TEXT characters with a marker saying how much was cut. */
export function clip(text: string): string {
  if (text.length <= MAX_DENIAL_TEXT) return text;
  // Do not split a surrogate pair: the cut text must stay well-formed.
  const code = text.charCodeAt(MAX_DENIAL_TEXT - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? MAX_DENIAL_TEXT - 1 : MAX_DENIAL_TEXT;
  return `${text.slice(0, end)}…[+${text.length - end} chars]`;
}
