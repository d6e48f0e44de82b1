// JSON mutations, on values (wrong types, edge numbers, huge strings, deep
// nesting, odd Unicode, schema tricks) and on text (syntax a parser must refuse).
// Deep structures are built as text: JSON.stringify of them would overflow the
// fuzzer's own stack.

export const ODD_STRINGS = [
  '', ' ', '\u0000', '\ud800', '\udfff\ud800', '\ufeff', '\u202e', 'e\u0301', 'ﬁ', 'Ｅｖｉｌ', '\u0085', '\u2028\u2029',
  '\x1b[31mred\x1b[0m', 'line1\nline2', '\ncapsule: OK: forged', '%s%n', '../../../../etc/passwd', '/proc/self/mem',
  '/dev/zero', '\\\\?\\C:\\', '*', '**', '{a,b}', '[!x]', '+(a)', '@(b)', '!(c)', '(', 'a'.repeat(300), '😀'.repeat(50),
  '__proto__', 'constructor', 'toString', 'NaN', '-0', '1e309',
];

export const ODD_NUMBERS = [0, -0, -1, 1, 0.5, 1e-320, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, 65535, 65536];

/** Schemas that validators have to survive: recursion, remote refs, catastrophic patterns, odd keywords. */
export const SCHEMA_TRICKS = [
  { $ref: '#' },
  { $ref: '#/definitions/missing' },
  { $ref: 'http://127.0.0.1:9/x.json' },
  { $ref: 'file:///etc/passwd' },
  { definitions: { a: { $ref: '#/definitions/b' }, b: { $ref: '#/definitions/a' } }, $ref: '#/definitions/a' },
  { type: 'object', properties: { a: { $ref: '#' } } },
  { type: 'string', pattern: '^(a+)+$' },
  { type: 'string', pattern: '(x+x+)+y' },
  { type: 'string', pattern: '(' },
  { type: 'string', pattern: '\\p{L}+' },
  { type: 'string', pattern: '(?<=a)b' },
  { type: 'string', pattern: 'a{1,99999999}' },
  { type: 'string', format: 'no-such-format' },
  { type: 'string', format: 'email' },
  { type: 'integer', multipleOf: 1e-300 },
  { type: 'number', maximum: 'x' },
  { type: 'array', items: { $ref: '#' }, uniqueItems: true },
  { $id: 'http://example.com/s', $ref: 'http://example.com/s' },
  { $dynamicRef: '#meta' },
  { allOf: Array.from({ length: 200 }, () => ({ type: 'object' })) },
  { if: { $ref: '#' }, then: true, else: false },
  { propertyNames: { pattern: '^(a|a)*$' } },
  true,
  false,
  null,
  'string',
  [],
];

/** A value of some type, mostly odd. */
export function oddValue(rng) {
  return rng.weighted([
    [3, () => rng.pick(ODD_STRINGS)],
    [3, () => rng.pick(ODD_NUMBERS)],
    [1, () => rng.chance(0.5)],
    [1, () => null],
    [1, () => []],
    [1, () => ({})],
    [1, () => [rng.pick(ODD_STRINGS), rng.pick(ODD_NUMBERS)]],
    [1, () => ({ [rng.pick(ODD_STRINGS)]: rng.pick(ODD_NUMBERS) })],
    [1, () => structuredClone(rng.pick(SCHEMA_TRICKS))],
  ])();
}

function hugeString(rng, long) {
  const n = rng.pick(long ? [65536, 1 << 20, 16 << 20] : [4096, 65536, 1 << 20]);
  return rng.pick(['a', 'é', '\u0000', '/', '😀', '\\']).repeat(n);
}

/** All [container, key] slots in a JSON value, the root's parent as [null, null]. */
function slots(value, out = [], depth = 0) {
  if (depth > 30 || value === null || typeof value !== 'object') return out;
  for (const k of Object.keys(value)) {
    out.push([value, k]);
    slots(value[k], out, depth + 1);
  }
  return out;
}

const DEEP = Symbol('deep'); // a marker replaced by deep nesting when serializing

/** Mutate a JSON value in place (a wrapper is returned for root replacements). */
export function mutateValue(rng, value, opts = {}) {
  const box = { root: value };
  const all = slots(box);
  const [obj, key] = rng.pick(all);
  const ops = [
    [4, 'odd', () => (obj[key] = oddValue(rng))],
    [2, 'huge-string', () => (obj[key] = hugeString(rng, opts.long))],
    [2, 'deep', () => (obj[key] = { [DEEP]: rng.pick(opts.long ? [100, 1000, 10000, 100000, 1000000] : [50, 1000, 10000, 100000]) })],
    [2, 'delete', () => (Array.isArray(obj) ? obj.splice(Number(key), 1) : delete obj[key])],
    [2, 'add-key', () => {
      const target = obj[key] !== null && typeof obj[key] === 'object' && !Array.isArray(obj[key]) ? obj[key] : obj;
      if (!Array.isArray(target)) target[rng.pick([...ODD_STRINGS, '$ref', '$schema', 'extra', 'inputSchema'])] = oddValue(rng);
    }],
    [1, 'wide-array', () => (obj[key] = Array.from({ length: rng.pick([1000, 100000]) }, (_, i) => i))],
    [1, 'wide-object', () => (obj[key] = Object.fromEntries(Array.from({ length: rng.pick(opts.long ? [1000, 50000, 1000000] : [1000, 50000]) }, (_, i) => [`k${i}`, i])))],
    [1, 'type-swap', () => (obj[key] = Array.isArray(obj[key]) ? { ...obj[key] } : obj[key] !== null && typeof obj[key] === 'object' ? Object.values(obj[key]) : [obj[key]])],
  ];
  const op = rng.weighted(ops.map(([w, n, f]) => [w, [n, f]]));
  op[1]();
  return { value: box.root, op: op[0] };
}

/** JSON text of a value; DEEP markers become `[[[...0...]]]` or `{"a":{"a":...}}` text. */
export function toText(rng, value) {
  const deep = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (v && typeof v === 'object' && DEEP in v) {
      deep.push(v[DEEP]);
      return `\u0001DEEP${deep.length - 1}\u0001`;
    }
    return v;
  });
  if (text === undefined) return 'null';
  return text.replace(/"\\u0001DEEP(\d+)\\u0001"/g, (_m, i) => {
    const d = deep[Number(i)];
    return rng.chance(0.5) ? '['.repeat(d) + '0' + ']'.repeat(d) : '{"a":'.repeat(d) + '1' + '}'.repeat(d);
  });
}

/** Text-level damage: syntax a JSON reader must refuse (or accept) without falling over. */
export function mutateText(rng, text) {
  const at = rng.int(text.length + 1);
  const [op, fn] = rng.weighted([
    [2, ['truncate', () => text.slice(0, at)]],
    [2, ['insert-char', () => text.slice(0, at) + rng.pick(['{', '}', '[', ']', '"', ',', ':', '\\', '\u0000', '\n', '\ud800', 'NaN', 'Infinity', '-', '1e99999']) + text.slice(at)]],
    [1, ['bom', () => '\ufeff' + text]],
    [1, ['comment', () => '/* c */' + text]],
    [1, ['trailing-comma', () => text.replace(/}$/, ',}')]],
    [1, ['duplicate-key', () => text.replace(/^\{/, '{"id":"a.b","id":"x.y",')]],
    [1, ['deep-text', () => '['.repeat(200000) + ']'.repeat(200000)]],
    [1, ['unterminated', () => '{"a":"' + 'x'.repeat(1000)]],
    [1, ['empty', () => '']],
    [1, ['big-number', () => text.replace(/\d+/, '1' + '0'.repeat(400))]],
  ]);
  return { text: fn(), op };
}
