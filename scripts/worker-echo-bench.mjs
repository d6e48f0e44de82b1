// Worker tier vs a bare worker_threads postMessage echo, interleaved call by call in
// one process (order rotated each round), for the worker fast path (issue 11).
// Usage: node scripts/worker-echo-bench.mjs [rounds=20] [callsPerRound=50] [--spares]
// Needs a build (node scripts/build.mjs). Prints p50/p99 of each and the per-round ratio.
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../dist/index.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [rounds = 20, perRound = 50] = process.argv.slice(2).filter((a) => !a.startsWith('--')).map(Number);
const spares = process.argv.includes('--spares');
const input = { message: 'hello', n: [1, 2, 3], nested: { ok: true } };

const rt = await createRuntime({ capabilitiesDir: path.join(root, 'capabilities'), pool: { maxThreads: 1, spare: 0, ...(spares ? { spares: true } : {}) } });
const bare = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));", { eval: true });
const echo = (m) => new Promise((resolve) => { bare.once('message', resolve); bare.postMessage(m); });

const subjects = {
  capsule: async () => { await rt.run('demo.echo', input); },
  bare: async () => { await echo(JSON.stringify(input)); },
};
for (let i = 0; i < 200; i++) for (const f of Object.values(subjects)) await f();
const times = { capsule: [], bare: [] };
const ratios = [];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? ['capsule', 'bare'] : ['bare', 'capsule'];
  const round = { capsule: [], bare: [] };
  for (let i = 0; i < perRound; i++) {
    for (const name of order) {
      const t = performance.now();
      await subjects[name]();
      round[name].push(performance.now() - t);
    }
  }
  for (const k of Object.keys(round)) times[k].push(...round[k]);
  ratios.push(pct(round.capsule, 50) / pct(round.bare, 50));
}
const us = (x) => `${Math.round(x * 1000)} µs`;
for (const k of Object.keys(times)) console.log(`${k.padEnd(8)} p50 ${us(pct(times[k], 50))}  p99 ${us(pct(times[k], 99))}`);
const sorted = [...ratios].sort((a, b) => a - b);
console.log(`ratio capsule/bare p50: median ${pct(ratios, 50).toFixed(2)}  spread ${sorted[0].toFixed(2)}–${sorted.at(-1).toFixed(2)}  (${rounds}×${perRound})`);
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}${spares ? '  spares on' : ''}`);
await rt.close();
await bare.terminate();

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
