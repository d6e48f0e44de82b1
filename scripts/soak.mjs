// Soak: many mixed calls, hostile and plain, concurrently, against one runtime.
//   npm run soak                      2000 calls at concurrency 8
//   npm run soak -- --calls 500 --concurrency 4
// Prints: calls, wrong answers, timeouts fired, max timeout overshoot, workers
// alive at start and end, RSS at start and end. Exits non-zero on any wrong answer.
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRuntime } from '../dist/index.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { values } = parseArgs({ options: { calls: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '8' } } });
const total = Number(values.calls);
const concurrency = Number(values.concurrency);
const fixture = (n) => path.join(root, 'fixtures', 'build', `${n}.wasm`);
const MiB = 1024 * 1024;

// A capability that sleeps in a host call needs clocks, so it gets a manifest.
const caps = mkdtempSync(path.join(tmpdir(), 'capsule-soak-'));
mkdirSync(path.join(caps, 'soak.sleep'));
copyFileSync(fixture('sleep'), path.join(caps, 'soak.sleep', 'component.wasm'));
writeFileSync(path.join(caps, 'soak.sleep', 'capability.json'), JSON.stringify({
  id: 'soak.sleep', version: '1.0.0', provider: { name: 'soak' }, component: 'component.wasm',
  world: 'command', permissions: { clocks: true },
}));

let unhandled = 0;
process.on('unhandledRejection', () => unhandled++);

const rt = await createRuntime({ capabilitiesDir: [path.join(root, 'capabilities'), caps], pool: { maxThreads: 2 } });
await rt.run('demo.echo', {}); // start the pool before measuring
const workersAtStart = rt.poolInfo().workers;
const rssStart = process.memoryUsage().rss;

const expectOk = (check) => ({ check });
const expectCode = (code) => ({ code });
const KINDS = [
  [30, 'echo', (i) => { const v = { i, s: 'x'.repeat(i % 200) }; return [rt.run('demo.echo', v), expectOk((o) => JSON.stringify(o) === JSON.stringify(v))]; }],
  [20, 'wordcount', (i) => [rt.run('demo.text.wordcount', { text: `a b c ${i}` }), expectOk((o) => o.words === 4 && o.lines === 1)]],
  [15, 'counter', () => [rt.runFile(fixture('counter'), {}), expectOk((o) => o.count === 1)]],
  [5, 'spin', () => [rt.runFile(fixture('spin'), {}, { timeoutMs: 200 }), expectCode('TIMEOUT')]],
  [3, 'sleep', () => [rt.run('soak.sleep', {}, { timeoutMs: 200 }), expectCode('TIMEOUT')]],
  [6, 'membomb', () => [rt.runFile(fixture('membomb'), {}, { memoryLimitBytes: 16 * MiB }), expectOk((o) => o.pages === 256)]],
  [5, 'membomb-trap', () => [rt.runFile(fixture('membomb-trap'), {}, { memoryLimitBytes: 16 * MiB }), expectCode('MEMORY_LIMIT')]],
  [5, 'stack', () => [rt.runFile(fixture('stack'), {}), expectCode('TRAP')]],
  [6, 'trap', (i) => [rt.runFile(fixture('trap'), ['unreachable', 'divide', 'bounds'][i % 3]), expectCode('TRAP')]],
  [5, 'bigout', () => [rt.runFile(fixture('bigout'), {}), expectCode('OUTPUT_TOO_LARGE')]],
];
const weightSum = KINDS.reduce((n, [w]) => n + w, 0);
function pick(i) {
  let x = (i * 7919) % weightSum; // deterministic spread
  for (const k of KINDS) { if ((x -= k[0]) < 0) return k; }
  return KINDS[0];
}

const stats = { calls: 0, wrong: 0, timeouts: 0, maxOvershootMs: 0, byKind: {} };
const wrongSamples = [];
let next = 0;
const started = Date.now();
async function lane() {
  while (next < total) {
    const i = next++;
    const [, name, make] = pick(i);
    const [promise, want] = make(i);
    let ok;
    try {
      const { output } = await promise;
      ok = want.check ? want.check(output) : false;
      if (!ok) wrongSamples.push(`${name}: unexpected output ${JSON.stringify(output).slice(0, 80)}`);
    } catch (e) {
      if (e.code === 'TIMEOUT') {
        stats.timeouts++;
        const over = (e.details?.elapsedMs ?? 0) - (e.details?.limitMs ?? 0);
        stats.maxOvershootMs = Math.max(stats.maxOvershootMs, over);
      }
      ok = want.code === e.code;
      if (!ok) wrongSamples.push(`${name}: ${e.code}: ${e.message}`);
    }
    stats.calls++;
    stats.byKind[name] = (stats.byKind[name] ?? 0) + 1;
    if (!ok) stats.wrong++;
    if (stats.calls % 100 === 0) process.stderr.write(`\r${stats.calls}/${total} calls, ${stats.wrong} wrong, ${stats.timeouts} timeouts`);
  }
}
await Promise.all(Array.from({ length: concurrency }, lane));
process.stderr.write('\n');
await new Promise((r) => setTimeout(r, 1000)); // let the pool replace the last killed workers
const workersAtEnd = rt.poolInfo().workers;
const rssEnd = process.memoryUsage().rss;
await rt.close();

const report = {
  calls: stats.calls,
  concurrency,
  seconds: (Date.now() - started) / 1000,
  wrongAnswers: stats.wrong,
  unhandledRejections: unhandled,
  timeoutsFired: stats.timeouts,
  maxTimeoutOvershootMs: Number(stats.maxOvershootMs.toFixed(1)),
  workersAtStart,
  workersAtEnd,
  rssStartMiB: Number((rssStart / MiB).toFixed(1)),
  rssEndMiB: Number((rssEnd / MiB).toFixed(1)),
  byKind: stats.byKind,
};
console.log(JSON.stringify(report, null, 2));
for (const s of wrongSamples.slice(0, 10)) console.error(`wrong: ${s}`);
process.exitCode = stats.wrong || unhandled || workersAtEnd !== workersAtStart ? 1 : 0;
