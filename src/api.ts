// The public entry points (SPEC: API).
import { Runtime, type RunOptions, type RunResult, type RuntimeOptions } from './runtime.js';

export function createRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  return Runtime.create(opts);
}

let shared: Promise<Runtime> | undefined;

/** One-shot: a default runtime over ./capabilities, created once and closed when the process is about to exit. */
export async function runCapability<T = unknown>(id: string, input: unknown, opts?: RunOptions): Promise<RunResult<T>> {
  if (!shared) {
    shared = Runtime.create();
    shared.catch(() => (shared = undefined));
    // close() flushes the audit log; a line that could not be written was already
    // reported when it failed (logger or process warning), and is again here.
    process.once(
      'beforeExit',
      () => void shared?.then((rt) => rt.close()).catch((e: unknown) => process.emitWarning(e instanceof Error ? e.message : String(e))),
    );
  }
  return (await shared).run<T>(id, input, opts);
}
