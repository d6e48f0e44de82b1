// Terminates worker threads at every point of loading a pool's worker file, the way
// piscina loads it (require(), then await its default export), to show that no
// moment of a worker's start is one where terminating it aborts the process.
// Usage: node scripts/worker-load-sweep.cjs <absolute worker file> [steps=1000];
// prints {"survived":N,"loadMs":T} or dies with the abort. See docs/security.md.
'use strict';
const { Worker } = require('node:worker_threads');

const [file, stepsArg] = process.argv.slice(2);
const steps = Number(stepsArg) || 1000;
const LOADER = `
const { workerData, parentPort } = require('node:worker_threads');
Atomics.store(workerData.flag, 0, 1);
const t = performance.now();
(async () => {
  try { const m = require(workerData.file); if (typeof m !== 'function') await m.default; } catch {}
  parentPort.postMessage(performance.now() - t);
})();`;

function start(extra = {}) {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(LOADER, { eval: true, workerData: { flag, file, glues: [], glueModules: 50, ...extra } });
  w.on('error', () => {});
  // Block until the worker is about to require: offsets count from there.
  while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 1);
  return w;
}

async function loadMs() {
  const w = start();
  const ms = await new Promise((resolve) => w.once('message', resolve));
  await w.terminate();
  return ms;
}

(async () => {
  const samples = [];
  for (let i = 0; i < 5; i++) samples.push(await loadMs());
  const T = samples.sort((a, b) => a - b)[2];
  // Offsets sweep the whole load and half as much again, one worker at a time.
  const stepNs = (T * 1.5 * 1e6) / steps;
  let survived = 0;
  for (let i = 0; i < steps; i++) {
    const w = start();
    const until = process.hrtime.bigint() + BigInt(Math.round(i * stepNs));
    while (process.hrtime.bigint() < until);
    await w.terminate();
    survived++;
  }
  console.log(JSON.stringify({ survived, loadMs: T }));
})();
