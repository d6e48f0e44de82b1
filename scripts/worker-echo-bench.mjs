// Worker tier vs a bare worker_threads postMessage echo, interleaved call by call in
// one process (order rotated each round), for the worker fast path (issue 11).
// Then the timeout overshoot of a spinning guest (elapsed past timeoutMs, seen by the caller)
// and the first call after a timeout over a warm call, interleaved the same way.
// Usage: node scripts/worker-echo-bench.mjs [rounds=20] [callsPerRound=50] [--no-spares] [--against <other dist/index.js>]
// --against adds another build of capsule (e.g. main's) as a third subject, interleaved the same way.
// Needs a build (node scripts/build.mjs). Prints p50/p99 of each and the per-round ratio.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../dist/index.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const argv = process.argv.slice(2);
const againstAt = argv.indexOf('--against');
const against = againstAt >= 0 ? argv.splice(againstAt, 2)[1] : undefined;
const [rounds = 20, perRound = 50] = argv.filter((a) => !a.startsWith('--')).map(Number);
const spares = !process.argv.includes('--no-spares');
const input = { message: 'hello', n: [1, 2, 3], nested: { ok: true } };

const dir = mkdtempSync(path.join(tmpdir(), 'capsule-worker-bench-'));
cpSync(path.join(root, 'capabilities', 'demo.echo'), path.join(dir, 'demo.echo'), { recursive: true });
mkdirSync(path.join(dir, 'bench.spin'));
cpSync(path.join(root, 'fixtures', 'build', 'spin.wasm'), path.join(dir, 'bench.spin', 'component.wasm'));
const spinManifest = { id: 'bench.spin', version: '1.0.0', provider: { name: 'bench' }, component: 'component.wasm', world: 'capability' };
writeFileSync(path.join(dir, 'bench.spin', 'capability.json'), JSON.stringify(spinManifest));
const rt = await createRuntime({ capabilitiesDir: dir, pool: { maxThreads: 1, spare: 0, spares } });
const bare = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));", { eval: true });
const echo = (m) => new Promise((resolve) => { bare.once('message', resolve); bare.postMessage(m); });

const other = against ? await (await import(path.resolve(against))).createRuntime({ capabilitiesDir: dir, pool: { maxThreads: 1, spare: 0 } }) : undefined;
const subjects = {
  capsule: async () => { await rt.run('demo.echo', input); },
  bare: async () => { await echo(JSON.stringify(input)); },
  ...(other ? { other: async () => { await other.run('demo.echo', input); } } : {}),
};
for (let i = 0; i < 200; i++) for (const f of Object.values(subjects)) await f();
const names = Object.keys(subjects);
const times = Object.fromEntries(names.map((n) => [n, []]));
const ratios = [];
const otherRatios = [];
for (let r = 0; r < rounds; r++) {
  const order = names.map((_, i) => names[(i + r) % names.length]);
  const round = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < perRound; i++) {
    for (const name of order) {
      const t = performance.now();
      await subjects[name]();
      round[name].push(performance.now() - t);
    }
  }
  for (const k of Object.keys(round)) times[k].push(...round[k]);
  ratios.push(pct(round.capsule, 50) / pct(round.bare, 50));
  if (other) otherRatios.push(pct(round.capsule, 50) / pct(round.other, 50));
}
const us = (x) => `${Math.round(x * 1000)} µs`;
for (const k of Object.keys(times)) console.log(`${k.padEnd(8)} p50 ${us(pct(times[k], 50))}  p99 ${us(pct(times[k], 99))}`);
const sorted = [...ratios].sort((a, b) => a - b);
console.log(`ratio capsule/bare p50: median ${pct(ratios, 50).toFixed(2)}  spread ${sorted[0].toFixed(2)}–${sorted.at(-1).toFixed(2)}  (${rounds}×${perRound})`);
if (other) {
  const o = [...otherRatios].sort((a, b) => a - b);
  console.log(`ratio capsule/other p50: median ${pct(otherRatios, 50).toFixed(2)}  spread ${o[0].toFixed(2)}–${o.at(-1).toFixed(2)}  (other: ${against})`);
}
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}  spares ${spares ? 'on' : 'off'}`);

// Timeout overshoot, and the first call after a timeout against a warm call (one pool thread, so the
// call after the timeout runs on the thread the spinning guest was stopped in); each runtime in turn.
const LIMIT = 20;
const runtimes = Object.entries({ capsule: rt, ...(other ? { other } : {}) });
const stats = Object.fromEntries(runtimes.map(([n]) => [n, { over: [], firstAfter: [], warm: [] }]));
for (const [, r] of runtimes) await r.run('bench.spin', {}, { timeoutMs: LIMIT }).catch(() => undefined); // transpile, compile
for (let i = 0; i < Math.max(20, rounds * 2); i++) {
  for (const [n, r] of i % 2 === 0 ? runtimes : [...runtimes].reverse()) {
    const t0 = performance.now();
    const e = await r.run('bench.spin', {}, { timeoutMs: LIMIT }).catch((x) => x);
    stats[n].over.push(performance.now() - t0 - LIMIT);
    if (e?.code !== 'TIMEOUT') throw new Error(`expected TIMEOUT, got ${e?.code}`);
    const t1 = performance.now();
    await r.run('demo.echo', input);
    stats[n].firstAfter.push(performance.now() - t1);
    const t2 = performance.now();
    await r.run('demo.echo', input);
    stats[n].warm.push(performance.now() - t2);
  }
}
for (const [n, { over, firstAfter, warm }] of Object.entries(stats)) {
  console.log(`${n}: timeout overshoot (limit ${LIMIT} ms, caller's view) p50 ${pct(over, 50).toFixed(2)} ms  p99 ${pct(over, 99).toFixed(2)} ms  (${over.length})`);
  console.log(`${n}: first call after a timeout / warm call, p50 ${(pct(firstAfter, 50) / pct(warm, 50)).toFixed(2)}  (${us(pct(firstAfter, 50))} / ${us(pct(warm, 50))})`);
}
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
await rt.close();
await other?.close();
await bare.terminate();

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
