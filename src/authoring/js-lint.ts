// What the guest engine (componentize-js's StarlingMonkey, no ICU data) cannot do, found in
// the bundle before componentize-js turns it into a cryptic trap at run time.
//   - \p{…} in a regex literal is a SyntaxError when the module loads: such literals are
//     rewritten to explicit code-point classes (regexpu-core, loaded only when one exists).
//   - The rest are warnings: the code may be on a path the capability never takes.

/** One warning per guest limitation the bundle appears to reach. */
export function guestWarnings(bundle: string, entrySource: string): string[] {
  const out: string[] = [];
  if (/\.normalize\(/.test(bundle)) {
    out.push('calls String.prototype.normalize, which the guest engine lacks (no ICU): such a call throws, and an uncaught throw traps');
  }
  if (/new RegExp\([^)]*\\\\[pP]\{/.test(bundle)) {
    out.push('builds a RegExp with \\p{…} at run time, which the guest engine rejects (no ICU); only regex literals are rewritten');
  }
  if (/\b(setTimeout|setInterval)\s*\(/.test(bundle)) {
    out.push('uses setTimeout/setInterval: a capability has no timers (run is synchronous)');
  }
  if (/\bthrow\s+new\s+\w*Error\b/.test(entrySource)) {
    out.push('throws an Error: out of run that traps (TRAP); throw a string to return err(message) to the caller');
  }
  return out;
}

/** Whether the text has a regex literal or string with a Unicode property escape. */
export function hasPropertyEscape(bundle: string): boolean {
  return /\\[pP]\{/.test(bundle);
}

interface Token {
  type: unknown;
  start: number;
  end: number;
  value?: unknown;
}
interface Acorn {
  tokenizer(code: string, options: { ecmaVersion: 'latest'; sourceType: 'module' }): Iterable<Token>;
  tokTypes: { regexp: unknown };
}
type RewritePattern = (pattern: string, flags: string, options: { unicodePropertyEscapes: 'transform' }) => string;

/** Rewrites regex literals that use \p{..} / \P{..} into ICU-free equivalents. */
export function lowerPropertyEscapes(code: string, acorn: Acorn, rewritePattern: RewritePattern): string {
  const edits: [number, number, string][] = [];
  for (const token of acorn.tokenizer(code, { ecmaVersion: 'latest', sourceType: 'module' })) {
    if (token.type !== acorn.tokTypes.regexp) continue;
    const { pattern, flags } = token.value as { pattern: string; flags: string };
    if (!/\\[pP]\{/.test(pattern)) continue;
    edits.push([token.start, token.end, `/${rewritePattern(pattern, flags, { unicodePropertyEscapes: 'transform' })}/${flags}`]);
  }
  let out = code;
  for (const [start, end, text] of edits.reverse()) out = out.slice(0, start) + text + out.slice(end);
  return out;
}
