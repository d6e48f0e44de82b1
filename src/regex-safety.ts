// A conservative test for regular expressions that can backtrack exponentially.
//
// A manifest's `pattern` runs in V8's backtracking engine on the caller's input
// and on the guest's output. `^(a+)+$` against 30 characters takes seconds and
// doubles with each one. No ReDoS analyser is among capsule's dependencies
// (and re2 needs a native build), so this is a small structural check on the
// source: it refuses a repeated group that itself contains a repeated atom or
// alternatives (star height above one, or `(a|ab)*`), and backreferences.
// That covers the exponential shapes; it also refuses some safe patterns such as
// `^([a-z]+-)*[a-z]+$`, which can be rewritten or left out of the schema. What is
// merely polynomial (`\d*\d*x`) is bounded at run time instead: schema checks with
// patterns run under a time limit (see registry/manifest.ts).

interface Group {
  /** Holds a quantifier that repeats (max above 1), at any depth. */
  repeats: boolean;
  /** Holds `|`, at any depth. */
  alternation: boolean;
}

const QUANTIFIER = /^(?:[*+?]|\{(\d+)(?:(,)(\d*))?\})\??/;

/** Why `source` is refused, or undefined when it passes. */
export function unsafePattern(source: string): string | undefined {
  /** The whole pattern; `stack` holds the groups open inside it. */
  const root: Group = { repeats: false, alternation: false };
  const stack: Group[] = [];
  /** The atom a quantifier would apply to: a closed group, a single atom, or none (start, `|`, `(`). */
  let last: Group | 'atom' | undefined;
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const top = stack.at(-1) ?? root;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'backreferences can take exponential time';
      i += 2;
      last = 'atom';
      continue;
    }
    if (c === '[') {
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
      last = 'atom';
      continue;
    }
    if (c === '(') {
      stack.push({ repeats: false, alternation: false });
      const m = /^\(\?(?::|=|!|<=|<!|<[^>]*>)?/.exec(source.slice(i));
      i += m ? m[0].length : 1;
      last = undefined;
      continue;
    }
    if (c === ')') {
      // An unmatched `)` closes nothing: the root stands in for it.
      const closed = stack.pop() ?? root;
      const parent = stack.at(-1) ?? root;
      parent.repeats ||= closed.repeats;
      parent.alternation ||= closed.alternation;
      i++;
      last = closed;
      continue;
    }
    if (c === '|') {
      top.alternation = true;
      i++;
      last = undefined;
      continue;
    }
    const q = QUANTIFIER.exec(source.slice(i));
    if (q && (c !== '{' || q[1] !== undefined)) {
      const max = c === '*' || c === '+' ? Infinity : c === '?' ? 1 : q[2] === undefined ? Number(q[1]) : q[3] === '' ? Infinity : Number(q[3]);
      const repeating = max > 1;
      if (repeating && last !== undefined && last !== 'atom') {
        if (last.repeats) return 'a repeated group that itself holds a repeated part (nested quantifiers) can take exponential time';
        if (last.alternation) return 'a repeated group with alternatives (|) can take exponential time';
      }
      if (repeating) top.repeats = true;
      i += q[0].length;
      last = undefined;
      continue;
    }
    i++;
    last = 'atom';
  }
  return undefined;
}
