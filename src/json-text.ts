// JSON.parse with a short, one-line reason on failure: where (line, column) and
// what, never a quote of the text. V8's own messages quote the surrounding text
// (newlines included) and often give no position ("Unexpected token 'o',
// ..."1,\n "b": nope\n, "... is not valid JSON"), which made a manifest or
// policy syntax error several lines long. No library in the dependency tree
// reports positions, so a small scanner finds the first offending character
// once JSON.parse has already failed (it never runs on valid text).

interface JsonSyntax {
  line: number;
  column: number;
  reason: string;
}

/** Parses `text`, or throws a JsonSyntaxError saying `line L column C: reason`. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new JsonSyntaxError(locateSyntaxError(text));
  }
}

class JsonSyntaxError extends Error {
  constructor(readonly where: JsonSyntax) {
    super(`line ${where.line} column ${where.column}: ${where.reason}`);
    this.name = 'JsonSyntaxError';
  }
}

/** The first syntax error in `text` (which JSON.parse refused), with its line and column. */
function locateSyntaxError(text: string): JsonSyntax {
  const { offset, reason } = scan(text) ?? { offset: text.length, reason: 'not valid JSON' };
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column, reason };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ['true', 'false', 'null'];

/** A character as the reason quotes it: `'x'`, or an escape for controls. */
function shown(c: string): string {
  return /^[\x21-\x7e]$/.test(c) ? `'${c}'` : JSON.stringify(c);
}

type Want = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'after';

/** Iterative (a deeply nested text cannot overflow the stack): the offset and reason of the first error. */
function scan(text: string): { offset: number; reason: string } | undefined {
  // text.charAt(i), not text[i]: past the end it is '', and every read is bounds-checked
  // first or compared with a real character.
  let i = 0;
  const stack: ('{' | '[')[] = [];
  const fail = (reason: string) => ({ offset: i, reason });
  const unexpected = (expected: string) =>
    fail(i >= text.length ? `unexpected end of the text, expected ${expected}` : `unexpected ${shown(text.charAt(i))}, expected ${expected}`);

  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) return fail('unterminated string');
      const c = text.charAt(i);
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c < ' ') return fail(`control character ${shown(c)} in a string`);
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fail('bad \\u escape in a string');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return fail('bad escape in a string');
        i += 2;
        continue;
      }
      i++;
    }
  };

  const scalar = () => {
    const c = text.charAt(i);
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    if ((c === '-' || (c >= '0' && c <= '9')) && NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return undefined;
    }
    const literal = LITERALS.find((l) => text.startsWith(l, i));
    if (literal) {
      i += literal.length;
      return undefined;
    }
    return unexpected('a value');
  };

  let want: Want = 'value';
  for (;;) {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
    const c = text.charAt(i);
    if (want === 'value' || want === 'value-or-close') {
      if (want === 'value-or-close' && c === ']') {
        stack.pop();
        i++;
        want = 'after';
      } else if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        want = c === '{' ? 'key-or-close' : 'value-or-close';
      } else {
        const e = scalar();
        if (e) return e;
        want = 'after';
      }
      continue;
    }
    if (want === 'key' || want === 'key-or-close') {
      if (want === 'key-or-close' && c === '}') {
        stack.pop();
        i++;
        want = 'after';
        continue;
      }
      if (c !== '"') return unexpected('a property name in double quotes');
      const e = string();
      if (e) return e;
      while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
      if (text.charAt(i) !== ':') return unexpected("':'");
      i++;
      want = 'value';
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) return i < text.length ? fail(`unexpected ${shown(c)} after the JSON value`) : undefined;
    const close = top === '{' ? '}' : ']';
    if (c === ',') {
      i++;
      want = top === '{' ? 'key' : 'value';
    } else if (c === close) {
      stack.pop();
      i++;
    } else {
      return unexpected(`',' or '${close}'`);
    }
  }
}
