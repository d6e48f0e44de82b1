// A WIT-like line for an export (`run: func(input: string) -> result<string, string>`),
// for `inspect` and error messages. Types share structure, so a few bytes can
// describe a type whose full text is exponential: the rendering has a budget and
// ends in `…` when it runs out.
import type { Extern, Type } from './model.js';

const LINE_BUDGET = 200; // type nodes rendered per line
const TOTAL_BUDGET = 20_000; // and for all lines together: many exports of a deep type stay small

interface Budget {
  left: number;
}

/** One line per extern, within the budgets (past them a line is cut short with `…`). */
export function renderExterns(externs: Extern[]): string[] {
  const total: Budget = { left: TOTAL_BUDGET };
  return externs.map((e) => {
    const line: Budget = { left: Math.min(LINE_BUDGET, total.left) };
    const start = line.left;
    const text = renderExtern(e, line);
    total.left -= start - Math.max(0, line.left);
    return text;
  });
}

function renderExtern(e: Extern, b: Budget): string {
  if (e.sort === 'func' && e.type) return `${e.name}: ${show(e.type, b)}`;
  if (e.sort === 'instance' && !e.name.includes(':')) return `${e.name}: interface`;
  if (e.sort === 'instance') return e.name;
  return `${e.name}: ${e.sort === 'module' ? 'core module' : e.sort}`;
}

function show(t: Type, b: Budget): string {
  if (--b.left < 0) return '…';
  const render = RENDER[t.k] as (t: Type, b: Budget) => string;
  return render(t, b);
}

/** `items` rendered with `f` and joined, stopping once the budget is spent. */
function list<T>(items: T[], f: (item: T) => string, b: Budget): string {
  const out: string[] = [];
  for (const item of items) {
    if (b.left <= 0) {
      out.push('…');
      break;
    }
    out.push(f(item));
  }
  return out.join(', ');
}

type Renderers = { [K in Type['k']]: (t: Type & { k: K }, b: Budget) => string };

const RENDER: Renderers = {
  prim: (t) => t.name,
  named: (t) => t.name,
  resource: () => 'resource',
  list: (t, b) => `list<${show(t.of, b)}>`,
  option: (t, b) => `option<${show(t.of, b)}>`,
  tuple: (t, b) => `tuple<${list(t.of, (x) => show(x, b), b)}>`,
  own: (t, b) => show(t.of, b),
  borrow: (t, b) => `borrow<${show(t.of, b)}>`,
  stream: (t, b) => (t.of ? `stream<${show(t.of, b)}>` : 'stream'),
  future: (t, b) => (t.of ? `future<${show(t.of, b)}>` : 'future'),
  result: (t, b) => result(t, b),
  record: (t, b) => `record { ${list(t.fields, ([n, x]) => `${n}: ${show(x, b)}`, b)} }`,
  variant: (t, b) => `variant { ${list(t.cases, ([n, x]) => (x ? `${n}(${show(x, b)})` : n), b)} }`,
  enum: (t, b) => `enum { ${list(t.names, (n) => n, b)} }`,
  flags: (t, b) => `flags { ${list(t.names, (n) => n, b)} }`,
  func: (t, b) => `func(${list(t.params, ([n, x]) => `${n}: ${show(x, b)}`, b)})${t.result ? ` -> ${show(t.result, b)}` : ''}`,
  instance: () => 'interface',
  component: () => 'component',
};

function result(t: Extract<Type, { k: 'result' }>, b: Budget): string {
  if (!t.ok && !t.err) return 'result';
  if (!t.err) return `result<${show(t.ok as Type, b)}>`;
  return `result<${t.ok ? show(t.ok, b) : '_'}, ${show(t.err, b)}>`;
}
