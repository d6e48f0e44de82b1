// A pool worker may be terminated at any moment of its start (a call's timeout, a
// pool closing while a replacement starts). When the pool was piscina, it require()d
// its worker file, and on this Node require() of an ES module instantiates the graph synchronously: a
// termination in that moment aborted the whole process (fuzz seed 24301 case 8953,
// "IsGraphAsync must be used on an instantiated module"). scripts/worker-load-sweep.cjs
// shows the abort by sweeping termination times (about 80 s); this test checks the
// property that rules it out, deterministically.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKER_FILE } from '../src/tiers/worker.js';
import { ROOT } from './helpers.js';

describe('the pool worker file', () => {
  it('loads as CommonJS, so require() never instantiates an ES module in a worker that may be terminated', () => {
    expect(path.basename(WORKER_FILE)).toBe('worker.cjs');
    const file = path.join(ROOT, 'dist', path.basename(WORKER_FILE));
    // With require(esm) turned off, require() of an ES module throws ERR_REQUIRE_ESM
    // before instantiating anything; the file must start a worker anyway, as the pool
    // starts it (tiers/pool-thread.ts), and the worker must report ready.
    const script = `
      const { Worker } = require('node:worker_threads');
      const w = new Worker(${JSON.stringify(file)}, { workerData: { glues: [], glueModules: 8, slot: new SharedArrayBuffer(16) } });
      w.once('error', (e) => { console.log(String(e.code || e)); });
      w.once('message', (m) => { console.log(m.type); w.terminate(); });`;
    const r = spawnSync(process.execPath, ['--no-experimental-require-module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ready');
  });
});
