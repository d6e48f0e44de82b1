// One fuzz case from (seed, index): what to run, the files it needs, its input and
// options. Generation depends on nothing but (seed, index, seed corpus), so a saved
// case can always be regenerated.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { caseRng } from './rng.mjs';
import { mutateComponent, parse } from './wasm.mjs';
import { mutateText, mutateValue, toText } from './json.mjs';
import { MANIFEST_ID, mutateManifest, mutatePolicy } from './docs.mjs';

/** Per-call limit every case runs under (policy ceiling or per-call option): the watchdog's base. */
export const LIMIT_MS = 1000;
export const MEMORY_BYTES = 64 << 20;

/** Above this, a seed is only used by --long (a transpile of such a component takes seconds). */
const BIG_SEED = 1 << 20;

export function loadSeeds(root, long) {
  const dirs = [
    ['fixtures/build', (f) => f.endsWith('.wasm')],
    ['fixtures/corpus', (f) => f.endsWith('.wasm')],
  ];
  const files = [];
  for (const [dir, ok] of dirs) for (const f of readdirSync(path.join(root, dir)).sort()) if (ok(f)) files.push(path.join(dir, f));
  for (const id of readdirSync(path.join(root, 'capabilities')).sort()) {
    const f = path.join('capabilities', id, 'component.wasm');
    if (existsSync(path.join(root, f))) files.push(f);
  }
  return files
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(path.join(root, name))) }))
    .filter((s) => long || s.bytes.length <= BIG_SEED)
    .map((s) => ({ ...s, tree: parse(s.bytes) }))
    // a core module is refused at its header: it only serves as a donor of sections
    .map((s) => ({ ...s, component: s.tree?.component ?? false }));
}

const INPUTS = [
  '{}', '{"text":"a b c"}', '"unreachable"', '"divide"', '"bounds"', '{"args":["x"],"stdin":"hi"}', '[1,2,3]', '{"s":"abc"}',
  // long runs of one character against catastrophic-backtracking patterns
  JSON.stringify({ s: 'a'.repeat(30) + '!' }), JSON.stringify({ s: 'x'.repeat(30) }), JSON.stringify('a'.repeat(30) + '!'),
];

/** API inputs that are not JSON at all; the child builds them (they cannot cross IPC). */
export const SPECIALS = ['function', 'symbol', 'bigint', 'cyclic', 'proxy-throw', 'getter-throw', 'undefined', 'date', 'map', 'typed-array', 'sparse', 'deep-value', 'to-json-throws'];

function fuzzInput(rng, long, base) {
  const ops = [];
  let text = base ?? rng.pick(INPUTS);
  if (rng.chance(0.6)) {
    const r = mutateValue(rng, JSON.parse(text), { long });
    text = toText(rng, r.value);
    ops.push(`input:${r.op}`);
  }
  if (rng.chance(0.15)) {
    const r = mutateText(rng, text);
    text = r.text;
    ops.push(`input-text:${r.op}`);
  }
  return { text, ops };
}

/** Per-call options: almost always the plain limit; sometimes odd values an API caller could pass. */
function fuzzOpts(rng) {
  const opts = { timeoutMs: LIMIT_MS, memoryLimitBytes: MEMORY_BYTES };
  if (!rng.chance(0.1)) return { opts, ops: [] };
  const key = rng.pick(['timeoutMs', 'memoryLimitBytes', 'outputBytes', 'inputBytes', 'tier']);
  const v = key === 'tier' ? rng.pick(['inline', 'process', 'vm', 'worker', 'bogus', 7]) : rng.pick([0, -1, 1, 0.5, NaN, Infinity, -Infinity, 1e308, '100', null, 65536]);
  opts[key] = v;
  return { opts, ops: [`opts:${key}=${String(v)}`] };
}

/** Each generated case: { index, kind, ops, files, target, caps, policy, inputText, special, opts }. */
export function generateCase(seed, index, ctx) {
  const rng = caseRng(seed, index);
  const kind = rng.weighted([[55, 'component'], [15, 'input'], [15, 'manifest'], [15, 'policy']]);
  const c = { index, kind, ops: [], files: {}, caps: 'catalog', policy: 'fixed', special: undefined };
  if (kind === 'component') {
    // smaller seeds more often: most of the parser's paths are reachable from them
    const components = ctx.seeds.filter((s) => s.component);
    const small = components.filter((s) => s.bytes.length < 4096);
    const s = rng.chance(0.7) && small.length ? rng.pick(small) : rng.pick(components);
    const m = mutateComponent(rng, s.bytes, ctx.donors);
    c.ops.push(`seed:${s.name}`, ...m.ops);
    c.files['mutant.wasm'] = m.bytes;
    c.target = { file: 'mutant.wasm' };
    const inp = rng.chance(0.2) ? fuzzInput(rng, ctx.long) : { text: rng.pick(INPUTS), ops: [] };
    c.inputText = inp.text;
    c.ops.push(...inp.ops);
  } else if (kind === 'input') {
    const ids = ['demo.echo', 'demo.text.wordcount', 'demo.text.wc', ...(ctx.long ? ['demo.markdown.render'] : [])];
    c.target = { id: rng.pick(ids) };
    if (rng.chance(0.1)) {
      c.special = rng.pick(SPECIALS);
      c.ops.push(`special:${c.special}`);
      c.inputText = '{}';
    } else {
      const inp = fuzzInput(rng, ctx.long, c.target.id === 'demo.echo' ? undefined : rng.pick(['{"text":"a b c"}', '{"markdown":"# hi *x*"}']));
      c.inputText = inp.text;
      c.ops.push(...inp.ops);
    }
  } else if (kind === 'manifest') {
    const m = mutateManifest(rng, ctx.long);
    let text = toText(rng, m.doc);
    c.ops.push(...m.ops);
    if (rng.chance(0.15)) {
      const t = mutateText(rng, text);
      text = t.text;
      c.ops.push(`text:${t.op}`);
    }
    const comp = rng.pick(['capabilities/demo.echo/component.wasm', 'fixtures/build/counter.wasm', 'fixtures/build/log.wasm', 'fixtures/build/fail.wasm']);
    c.ops.push(`component:${comp}`);
    c.files[`caps/${MANIFEST_ID}/capability.json`] = text;
    c.files[`caps/${MANIFEST_ID}/component.wasm`] = ctx.seeds.find((s) => s.name === comp)?.bytes ?? new Uint8Array();
    if (text.includes('pipe.wasm')) c.files[`caps/${MANIFEST_ID}/pipe.wasm`] = { fifo: true };
    if (text.includes('dir.wasm')) c.files[`caps/${MANIFEST_ID}/dir.wasm/x`] = '';
    c.caps = 'case';
    c.target = { id: MANIFEST_ID };
    const inp = rng.chance(0.5) ? { text: rng.pick(INPUTS), ops: [] } : fuzzInput(rng, ctx.long, rng.pick(INPUTS));
    c.inputText = inp.text;
    c.ops.push(...inp.ops);
  } else {
    const p = mutatePolicy(rng, ctx.long);
    let text = toText(rng, p.doc);
    c.ops.push(...p.ops);
    if (rng.chance(0.15)) {
      const t = mutateText(rng, text);
      text = t.text;
      c.ops.push(`text:${t.op}`);
    }
    c.files['policy.json'] = text;
    c.policy = 'case';
    c.target = rng.pick([{ id: 'demo.echo' }, { id: 'demo.text.wordcount' }, { file: 'counter.wasm' }, { file: 'log.wasm' }]);
    if (c.target.file) c.files[c.target.file] = ctx.seeds.find((s) => s.name === `fixtures/build/${c.target.file}`).bytes;
    c.inputText = c.target.id === 'demo.text.wordcount' ? '{"text":"a b"}' : '{"x":1}';
  }
  const o = fuzzOpts(rng);
  c.opts = o.opts;
  c.ops.push(...o.ops);
  return c;
}
