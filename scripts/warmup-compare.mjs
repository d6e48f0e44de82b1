// Measures what build.warmup buys demo.markdown.render, interleaved call by call in one process
// (the order rotates every round): a capsule call (fresh instance) of the component built
// without warm-up, of the one built with it, and a call on one reused instance of the warmed
// component (jco glue instantiated once: the "warm instance" the issue compares against).
//   node scripts/warmup-compare.mjs BEFORE_DIR AFTER_DIR [rounds] [tier]
// BEFORE_DIR/AFTER_DIR: capability directories (their ids must differ), e.g. copies of
// capabilities/demo.markdown.render at two commits. Prints p50/p10/p90 per subject, ms.
import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { createRuntime } from '../dist/index.js';

const [beforeDir, afterDir, roundsArg = '40', tier = 'inline'] = process.argv.slice(2);
if (!beforeDir || !afterDir) throw new Error('usage: node scripts/warmup-compare.mjs BEFORE_DIR AFTER_DIR [rounds] [tier]');
const rounds = Number(roundsArg);
const MARKDOWN = '# Title\n\nSome *text* with a [link](https://example.com) and `code`.\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n';
const idOf = async (dir) => JSON.parse(await readFile(path.join(dir, 'capability.json'), 'utf8')).id;
const ids = { before: await idOf(beforeDir), after: await idOf(afterDir) };
if (path.dirname(path.resolve(beforeDir)) !== path.dirname(path.resolve(afterDir))) throw new Error('put both directories side by side');

const rt = await createRuntime({
  capabilitiesDir: path.dirname(path.resolve(afterDir)),
  cacheDir: await mkdtemp(path.join(tmpdir(), 'warmup-compare-cache-')),
  policy: { grants: [{ capabilities: [ids.before, ids.after], host: ['capsule:host/log'], tier }] },
});

// One instance of the warmed component, reused for every call.
const files = (await transpileBytes(await readFile(path.join(afterDir, 'component.wasm')), { name: 'md', instantiation: { tag: 'async' }, noTypescript: true, quiet: true })).files;
const out = await mkdtemp(path.join(tmpdir(), 'warmup-compare-glue-'));
for (const [name, bytes] of Object.entries(files)) {
  await mkdir(path.dirname(path.join(out, name)), { recursive: true });
  await writeFile(path.join(out, name), bytes);
}
const glue = await import(pathToFileURL(path.join(out, 'md.js')).href);
const warm = await glue.instantiate(
  async (f) => WebAssembly.compile(await readFile(path.join(out, f))),
  { 'capsule:host/log': { log() {} } },
);

const input = { markdown: MARKDOWN };
const subjects = {
  'fresh instance, no warm-up': () => rt.run(ids.before, input),
  'fresh instance, warm-up': () => rt.run(ids.after, input),
  'reused instance (warm)': async () => warm.run(JSON.stringify(input)),
};
for (const f of Object.values(subjects)) for (let i = 0; i < 3; i++) await f(); // load, compile, settle
const times = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
const names = Object.keys(subjects);
for (let r = 0; r < rounds; r++) {
  for (let j = 0; j < names.length; j++) {
    const name = names[(r + j) % names.length];
    const t = performance.now();
    await subjects[name]();
    times[name].push(performance.now() - t);
  }
}
await rt.close();
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))];
console.log(`tier ${tier}, ${rounds} rounds, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const [name, xs] of Object.entries(times)) console.log(`${name.padEnd(28)} p50 ${q(xs, 0.5).toFixed(2)} ms  p10 ${q(xs, 0.1).toFixed(2)}  p90 ${q(xs, 0.9).toFixed(2)}`);
const ratio = (a, b) => (q(times[a], 0.5) / q(times[b], 0.5)).toFixed(2);
console.log(`fresh/reused p50: no warm-up ${ratio(names[0], names[2])}x, warm-up ${ratio(names[1], names[2])}x`);
