// Fuzzing campaign (issue 9): mutated components, manifests, policies and JSON
// inputs, run through ONE long-lived runtime in a supervised child process and,
// for a sample, through the CLI. Every outcome is classified (ok, CapsuleError,
// CapsuleError INTERNAL, non-CapsuleError, hang, crash, runaway RSS) and valid
// components are checked to still run in the same runtime (no poisoning).
//
//   npm run fuzz                               500 cases, seed 24301, every 50th also through the CLI
//   npm run fuzz -- --cases 10000              the issue's 10 000-case run
//   npm run fuzz -- --seed 7 --minutes 5 --out summary.md
//   npm run fuzz -- --long                     bigger seeds and inputs, 60 minutes unless --minutes/--cases
//   npm run fuzz -- --replay fuzz-results/<run>/cases/<file>.json
//
// Cases that are not ok/CapsuleError are saved under fuzz-results/ (gitignored)
// with seed, index and their files, to become regression tests. Exit status 1
// when any case broke the invariant.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCase, loadSeeds, LIMIT_MS, MEMORY_BYTES } from './fuzz/cases.mjs';
import { Supervisor } from './fuzz/supervisor.mjs';
import { cliArgv, runCli } from './fuzz/cli.mjs';
import { BAD, Tally, markdown } from './fuzz/report.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '24301' },
    cases: { type: 'string' },
    minutes: { type: 'string' },
    long: { type: 'boolean', default: false },
    out: { type: 'string' },
    json: { type: 'string' },
    results: { type: 'string', default: path.join(root, 'fuzz-results') },
    'cli-every': { type: 'string', default: '50' },
    'rss-ceiling-mib': { type: 'string', default: '1536' },
    audit: { type: 'boolean', default: false },
    replay: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

const seed = Number(args.seed) >>> 0;
const long = args.long;
const maxCases = args.cases ? Number(args.cases) : long ? Infinity : 500;
const deadline = Date.now() + (args.minutes ? Number(args.minutes) : long ? 60 : Infinity) * 60_000;
const cliEvery = Number(args['cli-every']);
const seeds = loadSeeds(root, long);
const ctx = { seeds, donors: seeds.filter((s) => s.tree && s.bytes.length < 300_000).map((s) => s.tree), long };

const work = mkdtempSync(path.join(tmpdir(), 'capsule-fuzz-'));
const cacheDir = path.join(work, 'cache');
// The runtime's policy: grants nothing but the log interface, clocks and random,
// and caps every call so that the watchdog has a known limit to measure against.
const policy = {
  grants: [{ capabilities: ['demo.*', 'file.*', 'fuzz.*'], host: ['capsule:host/log'], clocks: true, random: true }],
  ceilings: { memoryBytes: MEMORY_BYTES, timeoutMs: LIMIT_MS, outputBytes: 1 << 20 },
};
const fixedPolicyFile = path.join(work, 'fixed-policy.json');
writeFileSync(fixedPolicyFile, JSON.stringify(policy));
const runDir = path.join(args.results, `seed-${seed}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
const cliEnv = { ...process.env, CAPSULE_CACHE_DIR: cacheDir, CAPSULE_AUDIT_LOG: '' };

/**
 * Watchdog: twice the call's limit, plus time to transpile what the case brings (and
 * start a runtime); stretched by the load average per core when the machine is
 * oversubscribed (at load 14 per core a plain 1 s timeout took 6–8 s to fire), so
 * that a slow machine does not report hangs that are not there.
 */
const loadStretch = () => Math.min(5, Math.max(1, loadavg()[0] / availableParallelism()));
let maxStretch = 1;
function deadlineFor(c) {
  const bytes = Object.values(c.files).reduce((n, f) => n + (f.length ?? 0), 0) + (c.inputText?.length ?? 0);
  const stretch = loadStretch();
  maxStretch = Math.max(maxStretch, stretch);
  return (2 * LIMIT_MS + 4000 + bytes / 1000) * stretch;
}

function materialize(c) {
  const dir = path.join(work, String(c.index));
  for (const [name, content] of Object.entries(c.files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    if (content?.fifo) execFileSync('mkfifo', [file]);
    else writeFileSync(file, content);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

const wire = (c) => ({ ...c, files: undefined });

function save(c, via, o, t) {
  mkdirSync(path.join(runDir, 'cases'), { recursive: true });
  const files = Object.fromEntries(Object.entries(c.files).map(([n, f]) => [n, f?.fifo ? { fifo: true } : typeof f === 'string' ? f : { base64: Buffer.from(f).toString('base64') }]));
  const record = {
    seed, index: c.index, via, kind: c.kind, class: o.class, code: o.code, message: o.message, ms: o.ms, ops: c.ops,
    anomalies: o.anomalies, stderr: o.stderr,
    target: c.target, caps: c.caps, policy: c.policy, special: c.special,
    opts: Object.fromEntries(Object.entries(c.opts).map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? String(v) : v])),
    inputText: (c.inputText?.length ?? 0) <= 1 << 20 ? c.inputText : `(${c.inputText.length} chars: regenerate from seed and index)`,
    files,
    replay: `npm run fuzz -- --seed ${seed} --replay <this file>`,
  };
  writeFileSync(path.join(runDir, 'cases', `${c.index}-${via}-${o.class}${o.code ? `-${String(o.code).replace(/[^A-Za-z0-9_]/g, '')}` : ''}.json`), JSON.stringify(record, null, 1));
  t.saved++;
}

function dirBytes(dir) {
  let n = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? dirBytes(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).size;
  } catch {
    // gone or unreadable: count nothing
  }
  return n;
}

const log = (s) => args.quiet || process.stderr.write(s);
const SUSPICIOUS = /cannot enter component instance|panicked|unreachable/i;

async function campaign() {
  const t = new Tally();
  const sup = new Supervisor({ root, cacheDir, workDir: work, policy, audit: args.audit }, { rssCeiling: Number(args['rss-ceiling-mib']) * 2 ** 20 });
  const started = Date.now();
  t.rss.push([0, 1, await sup.start()]);
  let suspects = [];
  let canaryNonce = 0;
  // `prime`: the case whose message looked like a transpiler panic, when that triggered the check
  const checkCanary = async (prime) => {
    t.canaries.run++;
    const r = await sup.canary(`${seed}-${++canaryNonce}`, 60_000);
    if (r.problems.length) {
      t.canaries.failed++;
      t.canaries.problems.push(...r.problems);
      for (const [c, o] of suspects) save(c, 'runtime', { ...o, class: c === prime ? 'poison-cause' : `poison-suspect-${o.class}` }, t);
      t.canaries.after.push(prime ? `#${prime.index}` : `#${suspects[0]?.[0].index}–#${suspects.at(-1)?.[0].index}`);
      log(`\npoisoned after cases ${suspects.map(([c]) => c.index).join(',')}: ${r.problems[0]}\n`);
      await sup.kill();
      await sup.start();
    }
    suspects = [];
  };
  let n = 0;
  for (; n < maxCases && Date.now() < deadline; n++) {
    const c = generateCase(seed, n, ctx);
    const dir = materialize(c);
    const o = await sup.runCase(wire(c), deadlineFor(c));
    t.add('runtime', c, o);
    if (args.verbose) log(`#${n} ${c.kind} [${c.ops.join(' ')}] ${o.class} ${o.code ?? ''} ${(o.message ?? '').split('\n')[0].slice(0, 160)}\n`);
    if (o.rss) t.rss.push([n, sup.generation, o.rss]);
    if (BAD.has(o.class)) save(c, 'runtime', o, t);
    suspects.push([c, o]);
    // the CLI sample: every Nth case, and every case whose error text looks like it could garble stderr
    const odd = ['internal', 'non-capsule'].includes(o.class) || /panicked|unreachable|[\u0000-\u0008\u000a-\u001f]/.test(o.message ?? '');
    if (cliEvery > 0 && (n % cliEvery === 0 || odd) && !c.special) {
      const co = await runCli(cliArgv(c, dir, { root, fixedPolicyFile }), { timeoutMs: deadlineFor(c) + 10_000, env: cliEnv });
      t.add('cli', c, co);
      if (BAD.has(co.class) || co.anomalies?.length) save(c, 'cli', co, t);
    }
    rmSync(dir, { recursive: true, force: true });
    const suspicious = o.class === 'capsule' && SUSPICIOUS.test(o.message ?? '');
    if ((n + 1) % 25 === 0 || suspicious) await checkCanary(suspicious ? c : undefined);
    if ((n + 1) % 25 === 0) log(`\r${n + 1} cases, ${[...BAD].reduce((a, b) => a + t.count(b), 0)} bad, ${t.canaries.failed} poisoned, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  log('\n');
  // The poisoning check proper: valid components, one never compiled before, in the same runtime.
  const final = await sup.canary(`${seed}-final`, 60_000);
  t.canaries.run++;
  if (final.problems.length) t.canaries.failed++;
  if (final.rss) t.rss.push([n, sup.generation, final.rss]);
  await sup.stop();
  const meta = {
    seed, cases: n, long, wallMs: Date.now() - started, restarts: sup.generation - 1, finalCanary: final.problems,
    command: `npm run fuzz -- ${process.argv.slice(2).join(' ')}`.trim(), savedDir: t.saved ? path.relative(root, runDir) : undefined,
    cacheBytes: dirBytes(cacheDir), maxStretch,
  };
  const md = markdown(t, meta);
  const summary = { ...t.summary(), maxWatchdogStretch: maxStretch, cases: n, seed, wallMs: meta.wallMs, restarts: meta.restarts, finalCanary: final.problems, canaryProblems: t.canaries.problems.slice(0, 20), saved: t.saved, savedDir: meta.savedDir };
  return { md, summary };
}

async function replay(file) {
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  const c = generateCase(saved.seed, saved.index, ctx);
  // the saved files win: the seed corpus may have changed since
  c.files = Object.fromEntries(Object.entries(saved.files).map(([n, f]) => [n, typeof f === 'string' ? f : f.fifo ? f : Buffer.from(f.base64, 'base64')]));
  const dir = materialize(c);
  const sup = new Supervisor({ root, cacheDir, workDir: work, policy, audit: args.audit }, { rssCeiling: Number(args['rss-ceiling-mib']) * 2 ** 20 });
  await sup.start();
  const o = await sup.runCase(wire(c), deadlineFor(c));
  const canary = await sup.canary('replay', 60_000);
  await sup.stop();
  const co = await runCli(cliArgv(c, dir, { root, fixedPolicyFile }), { timeoutMs: deadlineFor(c) + 10_000, env: cliEnv });
  const md = [`case ${saved.seed}/${saved.index} (${c.kind}; ${c.ops.join(', ')})`, `runtime: ${o.class} ${o.code ?? ''} ${o.message ?? ''}`, `runtime afterwards: ${canary.problems.length ? canary.problems.join('; ') : 'valid components still run'}`, `cli: ${co.class} ${co.code ?? ''} ${co.message ?? ''} ${co.anomalies?.join(',') ?? ''}`].join('\n');
  return { md, summary: { runtime: o, cli: co, canary: canary.problems } };
}

let result;
try {
  result = args.replay ? await replay(args.replay) : await campaign();
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(result.md);
if (args.out) writeFileSync(args.out, `${result.md}\n`);
if (args.json) writeFileSync(args.json, JSON.stringify(result.summary, null, 2));
if (!args.replay) {
  mkdirSync(runDir, { recursive: true });
  writeFileSync(path.join(runDir, 'summary.md'), `${result.md}\n`);
  const s = result.summary;
  process.exitCode = Object.values(s.bad).some((x) => x > 0) || s.poisoned > 0 || s.finalCanary.length ? 1 : 0;
}
