// Text a guest or a file controls, made safe to print on one of capsule's own
// lines. A guest's err text, a denied path, a log record or a manifest field can
// hold newlines (a forged `capsule: OK: ...` line), ESC sequences (recolour or
// rewrite the terminal), NUL, or Unicode bidi/format controls (reorder what the
// reader sees): each is written as a visible escape instead, so what capsule
// prints is one line that says what the guest sent, and nothing more.

/**
 * C0 controls and DEL, C1 controls, Unicode format characters (bidi embeddings,
 * overrides and isolates, zero-width joiners, BOM, soft hyphen...), line and
 * paragraph separators, and lone surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|\p{Cs}/gu;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Every control or format character as an escape: `\n`, `\x1b`, `\u202e`. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Longest text from outside that one diagnostic line carries (a guest's err text can be megabytes). */
export const MAX_LINE_CHARS = 2000;

/** `text` escaped onto one line, cut at `max` characters with a note of how much was left out. */
export function oneLine(text: string, max = MAX_LINE_CHARS): string {
  const safe = escapeControls(text);
  if (safe.length <= max) return safe;
  return `${safe.slice(0, max)}… (${safe.length - max} more characters)`;
}

/**
 * Several lines of outside text (a guest's log record or captured stdout), each
 * behind `prefix`: no line can pass for one of capsule's own, and controls
 * within a line are escaped. A trailing newline does not make an empty line.
 */
export function prefixedLines(prefix: string, text: string): string {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  return lines.map((l) => `${prefix}${oneLine(l)}\n`).join('');
}
