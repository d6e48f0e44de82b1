// The baselines capsule's figures are divided by, measured in the same run:
// a bare worker_threads postMessage echo, and a direct in-thread call of the
// same wasm function (the core module out of capsule's own compiled component).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Loaded } from '../runtime.js';
import type { Target } from './measure.js';
import type { Workload } from './workloads.js';

const ECHO_WORKER = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => parentPort.postMessage(m));`;

/** A worker that sends back whatever it is sent; one call in flight at a time. */
export class EchoWorker {
  private pending?: (value: unknown) => void;
  private constructor(readonly worker: Worker) {
    worker.on('message', (m: unknown) => {
      const resolve = this.pending;
      this.pending = undefined;
      resolve?.(m);
    });
  }

  static start(): Promise<EchoWorker> {
    const w = new Worker(ECHO_WORKER, { eval: true });
    return new Promise((resolve, reject) => {
      w.once('online', () => resolve(new EchoWorker(w)));
      w.once('error', reject);
    });
  }

  roundTrip(value: unknown): Promise<unknown> {
    return new Promise((resolve) => {
      this.pending = resolve;
      this.worker.postMessage(value);
    });
  }
}

/** One worker per caller, each echoing what it is sent (structured clone both ways). */
export function postMessageTarget(w: Workload): Target {
  const workers: EchoWorker[] = [];
  const input = w.input();
  const worker = (i: number) => {
    const e = workers[i];
    if (!e) throw new Error(`no echo worker prepared for caller ${i}`);
    return e;
  };
  return {
    async cold() {
      const t = performance.now();
      workers.push(await EchoWorker.start());
      const output = await worker(0).roundTrip(input);
      return { ms: performance.now() - t, output };
    },
    call: (i) => worker(i).roundTrip(input),
    async prepare(n) {
      while (workers.length < n) workers.push(await EchoWorker.start());
    },
    async close() {
      await Promise.all(workers.map((x) => x.worker.terminate()));
    },
  };
}

interface CoreExports {
  memory: WebAssembly.Memory;
  cabi_realloc: (a: number, b: number, c: number, d: number) => number;
  run: (ptr: number, len: number) => number;
}

/** The component's core module that holds `run`: canonical-ABI guests written in WAT have exactly one. */
export function coreModuleOf(l: Loaded): WebAssembly.Module | undefined {
  if (!l.component) return undefined;
  const { dir, coreFiles } = l.component.bundle;
  return coreFiles
    .map((file) => new WebAssembly.Module(readFileSync(path.join(dir, file))))
    .find((m) => {
      const names = WebAssembly.Module.exports(m).map((e) => e.name);
      return WebAssembly.Module.imports(m).length === 0 && names.includes('run') && names.includes('cabi_realloc');
    });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Calls run(string) -> result<string,string> by the canonical ABI, JSON in and out as capsule does. */
function callCore(x: CoreExports, value: unknown): unknown {
  const bytes = encoder.encode(JSON.stringify(value ?? null));
  const p = x.cabi_realloc(0, 0, 1, bytes.length);
  new Uint8Array(x.memory.buffer, p, bytes.length).set(bytes);
  const r = x.run(p, bytes.length);
  const view = new DataView(x.memory.buffer);
  const text = decoder.decode(new Uint8Array(x.memory.buffer, view.getUint32(r + 4, true), view.getUint32(r + 8, true)));
  if (view.getUint8(r) !== 0) throw new Error(`guest returned an error: ${text}`);
  return JSON.parse(text);
}

// A reused instance's bump allocator never frees: start a new one past this much memory.
const RECYCLE_BYTES = 8 << 20;

/**
 * Direct in-thread calls of the same core module capsule runs. `fresh`: a new
 * instance per call (what capsule does); otherwise one instance reused.
 */
export function directTarget(mod: WebAssembly.Module, w: Workload, fresh: boolean): Target {
  const input = w.input();
  const instantiate = () => new WebAssembly.Instance(mod, {}).exports as unknown as CoreExports;
  let reused: CoreExports | undefined;
  const call = async () => {
    if (fresh) return callCore(instantiate(), input);
    if (!reused || reused.memory.buffer.byteLength > RECYCLE_BYTES) reused = instantiate();
    return callCore(reused, input);
  };
  return {
    cold: async () => null,
    call,
    async prepare() {},
    async close() {},
  };
}
