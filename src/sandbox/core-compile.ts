// Compiles a core module without stalling the caller's event loop. WebAssembly.compile
// is async, but V8 still decodes the module on the calling thread first: measured
// ~315 ms of event-loop lag for the 13 MB core module of demo.markdown.render,
// proportional to size. So modules above a threshold are compiled in a worker
// thread (a WebAssembly.Module clones back to this thread without recompiling),
// under a time limit that terminates the worker. Compile errors are COMPONENT_INVALID.
import { Worker } from 'node:worker_threads';
import { CapsuleError } from '../errors.js';

/** Below this a module compiles here: its decode costs less than starting a worker (~25 ms). */
export const OFF_THREAD_BYTES = 1024 * 1024;
/** README: Limits. */
export const CORE_COMPILE_TIMEOUT_MS = 60_000;

// A script (eval: true), so there is no extra file to bundle and find.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
WebAssembly.compile(workerData).then(
  (module) => parentPort.postMessage({ module }),
  (e) => parentPort.postMessage({ error: String(e && e.message || e) }),
);`;

function invalid(what: string, why: string): CapsuleError {
  const reason = why.replace(/\s+/g, ' ').slice(0, 400);
  return new CapsuleError('COMPONENT_INVALID', `${what.slice(0, 300)}: core module does not compile: ${reason}`);
}

/**
 * The process tier's job runner runs under Node's permission model, which refuses
 * worker threads (ERR_ACCESS_DENIED): it is a disposable process with its own time
 * limit, so compiling on its thread costs no one else. Undefined there.
 */
function startWorker(bytes: Uint8Array): Worker | undefined {
  try {
    return new Worker(WORKER_SOURCE, { eval: true, workerData: bytes });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_ACCESS_DENIED') return undefined;
    throw e;
  }
}

export async function compileCore(bytes: Uint8Array<ArrayBuffer>, what: string, timeoutMs = CORE_COMPILE_TIMEOUT_MS): Promise<WebAssembly.Module> {
  // One worker per large module: a timeout terminates it without touching other compiles.
  const worker = bytes.length < OFF_THREAD_BYTES ? undefined : startWorker(bytes);
  if (!worker) {
    try {
      return await WebAssembly.compile(bytes);
    } catch (e) {
      throw invalid(what, e instanceof Error ? e.message : String(e));
    }
  }
  try {
    return await new Promise<WebAssembly.Module>((resolve, reject) => {
      const timer = setTimeout(() => reject(invalid(what, `compiling took longer than ${timeoutMs / 1000} s`)), timeoutMs);
      worker.once('message', (m: { module?: WebAssembly.Module; error?: string }) => {
        clearTimeout(timer);
        if (m.module) resolve(m.module);
        else reject(invalid(what, m.error ?? 'no module'));
      });
      worker.once('error', (e) => {
        clearTimeout(timer);
        reject(invalid(what, e.message));
      });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        reject(invalid(what, `the compiling thread exited with status ${code}`));
      });
    });
  } finally {
    void worker.terminate();
  }
}
